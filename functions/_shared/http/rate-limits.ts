import type { Db, Sql } from '../db/port.ts';
import { HttpError } from './errors.ts';

// Per-minute limits on what callers may ask of a function, counted in Postgres so every instance
// of every function shares them (private.rate_limit_take).

export type RateLimits = [key: string, perMinute: number][];

const rateLimited = () =>
  new HttpError(429, 'rate_limited', 'Too many requests: please wait a moment and try again.');

/**
 * Counts the request against every key's limit over the last minute (a sliding window), inside
 * the caller's transaction, or answers 429 and counts nothing when any key is at its limit. A
 * rolled-back transaction takes its count with it, so a request refused later is not counted.
 */
export async function takeRateLimits(sql: Sql, limits: RateLimits): Promise<void> {
  if (limits.length === 0) return;
  const [row] = await sql.query<{ refused: string | null }>(
    'select private.rate_limit_take($1::text[], $2::int[], 60) as refused',
    [limits.map(([key]) => key), limits.map(([, perMinute]) => Math.floor(perMinute))],
  );
  if (!row || row.refused !== null) throw rateLimited();
}

/** takeRateLimits in a transaction of its own. */
export async function enforceRateLimits(db: Db, limits: RateLimits): Promise<void> {
  await db.asService((sql) => takeRateLimits(sql, limits));
}

/** A positive number from the environment, or the fallback. */
export function envNumber(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
): number {
  const value = Number(env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
