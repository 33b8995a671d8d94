import { loggable } from '../db/loggable.ts';
import { createPostgresDb } from '../db/postgres.ts';
import type { FunctionContext } from './context.ts';

type EdgeRuntimeGlobal = { waitUntil(promise: Promise<unknown>): void };

/**
 * The database a deployed function connects to. PARLEY_DB_URL, a secret, wins: it is how an
 * operator points functions at the pooler's transaction-mode string (port 6543) when the
 * platform's SUPABASE_DB_URL, which cannot be overridden, names another endpoint.
 */
export function productionDbUrl(env: Record<string, string | undefined>): string {
  const url = env.PARLEY_DB_URL || env.SUPABASE_DB_URL;
  if (!url) throw new Error('SUPABASE_DB_URL is not set');
  return url;
}

/** A positive whole number from the environment, or undefined to keep the default. */
function poolSize(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error('PARLEY_DB_POOL_MAX must be 1 or more');
  return n;
}

/**
 * The context a deployed function runs with: postgres.js on the pooler and the edge runtime's
 * waitUntil. Called once per isolate, at module level in a function's index.ts, so every request
 * the isolate serves shares one client and its open connections.
 */
export function productionContext(env: Record<string, string | undefined>): FunctionContext {
  const dbUrl = productionDbUrl(env);
  const max = poolSize(env.PARLEY_DB_POOL_MAX);
  // Whatever logs a Postgres error, only its code and statement reach the logs, never its values.
  const log = (message: string, error?: unknown) => console.error(message, loggable(error) ?? '');
  const runtime = (globalThis as { EdgeRuntime?: EdgeRuntimeGlobal }).EdgeRuntime;
  return {
    env,
    db: createPostgresDb(dbUrl, max ? { max } : {}),
    log,
    // Without an edge runtime (plain Deno) the promise still runs; only its errors need catching.
    waitUntil: (promise) =>
      runtime
        ? runtime.waitUntil(promise)
        : void promise.catch((e) => log('background task failed', e)),
  };
}
