import type { Db, Sql } from '../../../functions/_shared/db/port.ts';
import type { Caller } from './caller.ts';
import { fromDatabaseError } from './errors.ts';

// Every metadata query runs in one transaction of the stack's database as the caller's role, with
// the settings Storage puts in place, so the project's policies on storage.objects and
// storage.buckets decide. The service role bypasses RLS as it does on Supabase.

// What Storage sets besides the role and request.jwt.claims (which the Db port sets already).
const SETTINGS = `select set_config('request.jwt.claim.sub', $1, true),
  set_config('request.jwt.claim.role', $2, true),
  set_config('request.jwt', $3, true),
  set_config('request.headers', $4, true),
  set_config('storage.operation', $5, true),
  set_config('storage.allow_delete_query', 'true', true)`;

export type Operation = string;

export async function asCaller<T>(
  db: Db,
  caller: Caller,
  operation: Operation,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  const run = async (sql: Sql) => {
    const sub = typeof caller.claims.sub === 'string' ? caller.claims.sub : '';
    const headers = JSON.stringify(caller.request?.headers ?? {});
    await sql.query(SETTINGS, [sub, caller.role, caller.jwt, headers, operation]);
    return fn(sql);
  };
  const request = caller.request
    ? { method: caller.request.method, path: caller.request.path }
    : undefined;
  try {
    return caller.role === 'service_role'
      ? await db.asService(run, request)
      : await db.asUser(caller.claims, run, request);
  } catch (error) {
    throw fromDatabaseError(error) ?? error;
  }
}

/** Storage's own privileges, for what it does as superuser (bucket lookups, signed access). */
export const SERVICE: Caller = {
  role: 'service_role',
  claims: { role: 'service_role' },
  jwt: '',
  authenticated: true,
};

export function asService<T>(db: Db, operation: Operation, fn: (sql: Sql) => Promise<T>) {
  return asCaller(db, SERVICE, operation, fn);
}

/**
 * Runs fn with Storage's own privileges inside the caller's transaction, then puts the caller's
 * role back: for lookups a policy must not hide (the row an upsert is about to replace).
 */
export async function elevated<T>(sql: Sql, caller: Caller, fn: () => Promise<T>): Promise<T> {
  await sql.query(`select set_config('role', 'service_role', true)`);
  // On failure the whole transaction rolls back, role included, so only success restores it.
  const result = await fn();
  await sql.query(`select set_config('role', $1, true)`, [caller.role]);
  return result;
}

class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback');
  }
}

/** Runs fn as the caller and always rolls back: a permission probe that leaves nothing behind. */
export async function probe<T>(
  db: Db,
  caller: Caller,
  operation: Operation,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  try {
    await asCaller(db, caller, operation, async (sql) => {
      throw new Rollback(await fn(sql));
    });
  } catch (error) {
    if (error instanceof Rollback) return error.value as T;
    throw error;
  }
  throw new Error('unreachable: a probe always rolls back');
}
