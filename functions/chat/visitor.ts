import type { Context, Next } from 'hono';
import { bearerToken, type ClaimsVerifier } from '../_shared/auth/claims.ts';
import type { JwtClaims } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';

export type VisitorEnv = { Variables: { visitor: JwtClaims & { sub: string } } };

/** The widget's anonymous Supabase user: a verified JWT with a subject, nothing less. */
export function requireVisitor(verifier: ClaimsVerifier) {
  return async (c: Context<VisitorEnv>, next: Next) => {
    const token = bearerToken(c.req.raw);
    const claims = token ? await verifier.verify(token) : null;
    if (!claims) throw new HttpError(401, 'unauthorized', 'A valid session token is required.');
    if (claims.role !== 'authenticated' || typeof claims.sub !== 'string') {
      throw new HttpError(
        401,
        'visitor_session_required',
        'Sign in (anonymously) before chatting.',
      );
    }
    c.set('visitor', claims as JwtClaims & { sub: string });
    await next();
  };
}
