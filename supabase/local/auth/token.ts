import type { AuthContext, Handler } from './context.ts';
import { badRequest, OAuthError, unprocessable } from './errors.ts';
import { readBody } from './http.ts';
import { passwordWeakness } from './passwords.ts';
import { useRefreshToken } from './refresh-tokens.ts';
import { passwordGrantBody, refreshTokenGrantBody } from './schemas.ts';
import { sessionResponse } from './session-response.ts';
import { startSession } from './sessions.ts';
import { checkPassword, findUserByEmail, isBanned } from './users.ts';

// POST /token?grant_type=password|refresh_token. Unknown users and wrong passwords get the same
// answer, so the endpoint does not reveal which addresses are registered.

const invalidLogin = () => badRequest('invalid_credentials', 'Invalid login credentials');

async function passwordGrant(request: Request, ctx: AuthContext): Promise<Response> {
  ctx.rateLimit('sign_in_sign_ups');
  const body = await readBody(request, passwordGrantBody);
  const email = body.email ?? '';
  const phone = body.phone ?? '';
  const password = body.password ?? '';
  if (email && phone) {
    throw badRequest(
      'validation_failed',
      'Only an email address or phone number should be provided on login.',
    );
  }
  if (phone) throw unprocessable('phone_provider_disabled', 'Phone logins are disabled');
  if (!email) throw badRequest('validation_failed', 'missing email or phone');
  if (!ctx.config.emailEnabled) {
    throw unprocessable('email_provider_disabled', 'Email logins are disabled');
  }

  return ctx.pg.transaction(async (tx) => {
    const user = await findUserByEmail(tx, email);
    if (!user) throw invalidLogin();
    const passwordState = await checkPassword(tx, user.id, password);
    if (passwordState === 'none') throw invalidLogin();
    if (isBanned(user)) throw badRequest('user_banned', 'User is banned');
    if (passwordState !== 'match') throw invalidLogin();
    if (!user.email_confirmed_at) throw badRequest('email_not_confirmed', 'Email not confirmed');
    // A password set under an older, laxer policy still signs in; the client is told it is weak.
    const weakness = passwordWeakness(password, ctx.config);
    const grant = await startSession(tx, user.id, 'password', request.headers.get('user-agent'));
    return sessionResponse(tx, ctx, grant, weakness);
  });
}

async function refreshTokenGrant(request: Request, ctx: AuthContext): Promise<Response> {
  ctx.rateLimit('token_refresh');
  const body = await readBody(request, refreshTokenGrantBody);
  const token = body.refresh_token ?? '';
  if (!token) throw new OAuthError('invalid_request', 'refresh_token required');
  const outcome = await ctx.pg.transaction(async (tx) => {
    const result = await useRefreshToken(tx, token, ctx.config, request.headers.get('user-agent'));
    return 'error' in result ? result : { response: await sessionResponse(tx, ctx, result.grant) };
  });
  if ('error' in outcome) throw outcome.error;
  return outcome.response;
}

export const token: Handler = (request, ctx) => {
  const grantType = new URL(request.url).searchParams.get('grant_type');
  if (grantType === 'password') return passwordGrant(request, ctx);
  if (grantType === 'refresh_token') return refreshTokenGrant(request, ctx);
  // GoTrue's answer for a grant type it does not know, code included.
  return Promise.reject(badRequest('invalid_credentials', 'unsupported_grant_type'));
};
