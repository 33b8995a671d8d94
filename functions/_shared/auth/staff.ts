import type { Context, Next } from 'hono';
import type { JwtClaims, Sql } from '../db/port.ts';
import { HttpError } from '../http/errors.ts';
import { bearerToken, type ClaimsVerifier } from './claims.ts';

// Staff-only endpoints: a signed-in account that is not a widget's anonymous visitor. Which
// tenant it may act for is asked of the database as that account, never taken from the body.

export type StaffClaims = JwtClaims & { sub: string };
export type StaffEnv = { Variables: { staff: StaffClaims } };

export function requireStaff(verifier: ClaimsVerifier) {
  return async (c: Context<StaffEnv>, next: Next) => {
    const token = bearerToken(c.req.raw);
    const claims = token ? await verifier.verify(token) : null;
    if (claims?.role !== 'authenticated' || typeof claims.sub !== 'string') {
      throw new HttpError(401, 'unauthorized', 'Sign in to the admin first.');
    }
    if (claims.is_anonymous === true) {
      throw new HttpError(403, 'forbidden', 'Visitors cannot use the admin.');
    }
    c.set('staff', claims as StaffClaims);
    await next();
  };
}

/**
 * Whether the caller (the transaction's claims) owns or administers the tenant. Agents and
 * platform operators are not managers of a tenant: operators read, they do not act.
 */
export async function isManager(sql: Sql, tenantId: string): Promise<boolean> {
  const [row] = await sql.query<{ ok: boolean }>(
    `select private.has_tenant_role($1, array['owner', 'admin']) as ok`,
    [tenantId],
  );
  return row?.ok === true;
}
