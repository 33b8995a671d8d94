import { env } from 'node:process';
import { createApiKeyCheck } from './auth/apikey.ts';
import { readAuthConfig } from './auth/config.ts';
import type { AuthContext, Handler } from './auth/context.ts';
import { errorResponse } from './auth/errors.ts';
import { preflight, withCors } from './auth/http.ts';
import { generateLink, invite } from './auth/invite.ts';
import { logout } from './auth/logout.ts';
import { health, jwks, settings } from './auth/meta.ts';
import { clientKey, createAuthRateLimiter, readAuthRateLimits } from './auth/rate-limits.ts';
import { signup } from './auth/signup.ts';
import { token } from './auth/token.ts';
import { getUser, updateUser } from './auth/user.ts';
import { verifyCode, verifyLink } from './auth/verify.ts';
import type { ClientInfo, HttpService, LocalServices } from './services.ts';

// The local stand-in for Supabase Auth (GoTrue) under /auth/v1: the endpoints supabase-js uses,
// with GoTrue's responses, error codes and refresh-token rules, storing users and sessions in the
// auth schema of the local database. Settings come from supabase/config.toml [auth]; these
// environment variables, which GoTrue itself reads, override them:
//
//   GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL   seconds a rotated refresh token stays usable
//                                                  (refresh_token_reuse_interval; 0 refuses any
//                                                  reuse at once, handy in tests)
//   GOTRUE_SECURITY_REFRESH_TOKEN_ROTATION_ENABLED revoke a session's tokens when an old one is
//                                                  replayed (enable_refresh_token_rotation)
//   GOTRUE_JWT_EXP                                 access-token lifetime in seconds (jwt_expiry)
//   GOTRUE_DISABLE_SIGNUP                          refuse new users (enable_signup = false)
//   GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED        anonymous sign-ins (enable_anonymous_sign_ins)
//   GOTRUE_EXTERNAL_EMAIL_ENABLED                  email sign-up and sign-in
//   GOTRUE_MAILER_AUTOCONFIRM                      confirm email sign-ups at once
//   GOTRUE_PASSWORD_MIN_LENGTH                     minimum_password_length
//   GOTRUE_SITE_URL                                where confirmation links lead by default (site_url)
//   GOTRUE_MAILER_OTP_EXP                          seconds a confirmation link is valid
//                                                  ([auth.email] otp_expiry)
//
// Like Supabase's gateway, every endpoint but the public key set and the confirmation link
// (opened from a mail, with no key) wants the project's anon or service_role key in the `apikey`
// header or query parameter.

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  '/signup': { POST: signup },
  '/token': { POST: token },
  '/user': { GET: getUser, PUT: updateUser },
  '/logout': { POST: logout },
  '/verify': { GET: verifyLink, POST: verifyCode },
  '/invite': { POST: invite },
  '/admin/generate_link': { POST: generateLink },
  '/settings': { GET: settings },
  '/health': { GET: health },
  '/.well-known/jwks.json': { GET: jwks },
};

const OPEN_ROUTES = new Set(['/.well-known/jwks.json', '/verify']);

export function createAuth(services: LocalServices): HttpService {
  // [auth.rate_limit], per client address: auth/rate-limits.ts.
  const rateLimits = readAuthRateLimits(services.projectDir, env);
  const limiter = createAuthRateLimiter(rateLimits);
  const ctx: Omit<AuthContext, 'rateLimit'> = {
    pg: services.pg,
    config: readAuthConfig(services.projectDir, env),
    jwtSecret: services.keys.jwtSecret,
    issuer: `${services.publicUrl}/auth/v1`,
    log: services.log,
  };
  const checkApiKey = createApiKeyCheck(services.keys.jwtSecret);

  return {
    async fetch(request, client?: ClientInfo) {
      if (request.method === 'OPTIONS') return preflight(request);
      const path = new URL(request.url).pathname.replace(/^\/auth\/v1/, '').replace(/\/+$/, '');

      if (!OPEN_ROUTES.has(path)) {
        const refused = await checkApiKey(request);
        if (refused) return withCors(refused);
      }

      const route = ROUTES[path];
      if (!route) return withCors(new Response('404 page not found', { status: 404 }));
      const handler = route[request.method === 'HEAD' ? 'GET' : request.method];
      if (!handler) return withCors(new Response(null, { status: 405 }));

      const key = clientKey(request, client?.address, rateLimits.header);
      try {
        return withCors(
          await handler(request, { ...ctx, rateLimit: (kind) => limiter.take(kind, key) }),
        );
      } catch (error) {
        return withCors(errorResponse(error, request, ctx.log));
      }
    },
  };
}
