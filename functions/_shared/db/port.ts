/**
 * The database port: plain SQL, one transaction per unit of work, always under an explicit
 * Postgres role so that RLS stays the security boundary.
 *
 * Parameters are positional ($1..$n). Each is serialised according to the type Postgres infers
 * for it, so add a cast where the SQL leaves it open ($1::jsonb, $1::uuid[], $1::vector).
 * - json/jsonb parameters take any JS value and are always JSON.stringify'd: pass the object,
 *   not its text (a string becomes a JSON string). Already-serialised text: $1::text::jsonb.
 * - Date for date/timestamp/timestamptz, number or bigint for int8, arrays for Postgres arrays,
 *   Uint8Array for bytea, strings for vector (pgvector's toSql), null for NULL.
 * - undefined is refused: it is almost always a missing field, not a deliberate NULL.
 *
 * Results, identical for every adapter: int2/int4/float/int8 as number (int8 outside the safe
 * integer range as bigint), numeric as string, date/timestamp/timestamptz as Date, json/jsonb
 * parsed, bool as boolean, bytea as Uint8Array, arrays of these as arrays, NULL as null, and
 * everything else (text, uuid, interval, vector, …) as the string Postgres prints.
 */

/** Verified JWT claims, as PostgREST would see them. */
export type JwtClaims = { sub?: string; role: string; [claim: string]: unknown };

/** Exposed to SQL as request.method / request.path, like PostgREST does. */
export type RequestInfo = { method?: string; path?: string };

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Db {
  /**
   * One transaction as the holder of these verified claims: role = claims.role and
   * request.jwt.claims = claims, both transaction-local. Only 'anon' and 'authenticated' are
   * accepted (anything else rejects with DbRoleError before touching the database), because
   * service work must be asked for with asService.
   */
  asUser<T>(claims: JwtClaims, fn: (sql: Sql) => Promise<T>, request?: RequestInfo): Promise<T>;
  /** One transaction as service_role (BYPASSRLS) with claims {"role":"service_role"}. */
  asService<T>(fn: (sql: Sql) => Promise<T>, request?: RequestInfo): Promise<T>;
  close(): Promise<void>;
}

export const USER_ROLES = ['anon', 'authenticated'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export class DbRoleError extends Error {
  override readonly name = 'DbRoleError';
  constructor(readonly role: unknown) {
    super(`asUser refuses role ${JSON.stringify(role)}; expected one of ${USER_ROLES.join(', ')}`);
  }
}
