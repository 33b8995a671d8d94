import { createPostgresDb } from '../db/postgres.ts';
import type { FunctionContext } from './context.ts';

type EdgeRuntimeGlobal = { waitUntil(promise: Promise<unknown>): void };

/**
 * The context a deployed function runs with: postgres.js on SUPABASE_DB_URL and the edge
 * runtime's waitUntil. Called once per isolate from a function's index.ts.
 */
export function productionContext(env: Record<string, string | undefined>): FunctionContext {
  const dbUrl = env.SUPABASE_DB_URL;
  if (!dbUrl) throw new Error('SUPABASE_DB_URL is not set');
  const log = (message: string, error?: unknown) => console.error(message, error ?? '');
  const runtime = (globalThis as { EdgeRuntime?: EdgeRuntimeGlobal }).EdgeRuntime;
  return {
    env,
    db: createPostgresDb(dbUrl),
    log,
    // Without an edge runtime (plain Deno) the promise still runs; only its errors need catching.
    waitUntil: (promise) =>
      runtime
        ? runtime.waitUntil(promise)
        : void promise.catch((e) => log('background task failed', e)),
  };
}
