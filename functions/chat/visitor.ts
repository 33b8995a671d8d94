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
    // A staff account can see its tenant's conversations, so without this it could speak in
    // them as the visitor (typing) or run into RLS halfway through a write.
    if (claims.is_anonymous !== true) {
      throw new HttpError(
        403,
        'visitor_session_required',
        'The chat API is for visitor sessions; staff use the admin app.',
      );
    }
    c.set('visitor', claims as JwtClaims & { sub: string });
    await next();
  };
}
