import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import { secretKey } from '../keys.ts';
import type { AuthContext, Tx } from './context.ts';
import { AuthError, badRequest, forbidden } from './errors.ts';
import { type AmrEntry, sessionExists } from './sessions.ts';
import { findUserById, isBanned, isUuid, type UserRow } from './users.ts';

// Access tokens carry Supabase's claim set, which is what PostgREST, Realtime, auth.uid() and
// auth.jwt() read. Verifying one is GoTrue's requireAuthentication: signature, a sub naming an
// existing user, and a session_id naming a session that still exists (signing out ends it).

export async function signAccessToken(
  ctx: AuthContext,
  user: UserRow,
  sessionId: string,
  amr: AmrEntry[],
): Promise<{ token: string; expiresAt: number }> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const expiresAt = issuedAt + ctx.config.jwtExpiry;
  const token = await new SignJWT({
    email: user.email ?? '',
    phone: user.phone ?? '',
    app_metadata: user.raw_app_meta_data ?? {},
    user_metadata: user.raw_user_meta_data ?? {},
    role: user.role ?? 'authenticated',
    aal: 'aal1',
    amr,
    session_id: sessionId,
    is_anonymous: user.is_anonymous,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ctx.issuer)
    .setSubject(user.id)
    .setAudience(user.aud ?? 'authenticated')
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(secretKey(ctx.jwtSecret));
  return { token, expiresAt };
}

// golang-jwt's wording, which GoTrue puts after "invalid JWT: unable to parse or verify signature, ".
function verificationFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token has invalid claims: token is expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    return `token has invalid claims: ${error.message}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return 'token signature is invalid: signature is invalid';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `token is unverifiable: ${error.message}`;
  return `token is malformed: ${(error as Error).message}`;
}

export interface Authenticated {
  claims: JWTPayload & { session_id?: unknown };
  user: UserRow;
  /** Null for tokens without a session (GoTrue then treats the whole user as the session). */
  sessionId: string | null;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export async function authenticate(
  request: Request,
  ctx: AuthContext,
  tx: Tx,
): Promise<Authenticated> {
  const match = /^(?:B|b)earer (\S+)$/.exec(request.headers.get('authorization') ?? '');
  if (!match?.[1]) {
    throw new AuthError(401, 'no_authorization', 'This endpoint requires a valid Bearer token');
  }

  let claims: Authenticated['claims'];
  try {
    ({ payload: claims } = await jwtVerify(match[1], secretKey(ctx.jwtSecret), {
      algorithms: ['HS256'],
    }));
  } catch (error) {
    throw forbidden(
      'bad_jwt',
      `invalid JWT: unable to parse or verify signature, ${verificationFailure(error)}`,
    );
  }

  if (!claims.sub) throw forbidden('bad_jwt', 'invalid claim: missing sub claim');
  if (!isUuid(claims.sub)) throw badRequest('bad_jwt', 'invalid claim: sub claim must be a UUID');
  const user = await findUserById(tx, claims.sub);
  if (!user) throw forbidden('user_not_found', 'User from sub claim in JWT does not exist');

  let sessionId: string | null = null;
  const claimed = claims.session_id;
  if (claimed !== undefined && claimed !== '' && claimed !== NIL_UUID) {
    if (typeof claimed !== 'string' || !isUuid(claimed)) {
      throw forbidden('bad_jwt', 'invalid claim: session_id claim must be a UUID');
    }
    if (!(await sessionExists(tx, claimed))) {
      throw forbidden('session_not_found', 'Session from session_id claim in JWT does not exist');
    }
    sessionId = claimed;
  }

  if (isBanned(user)) throw forbidden('user_banned', 'User is banned');
  return { claims, user, sessionId };
}
