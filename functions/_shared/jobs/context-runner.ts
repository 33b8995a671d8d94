import { createEmbedder, type EmbedderDeps } from '../embeddings/config.ts';
import type { FunctionContext } from '../platform/context.ts';
import { createJobHandlers } from './handlers.ts';
import { createJobRunner } from './runner.ts';

/** A job runner with every handler, for a function that works jobs (chat right away, worker later). */
export function createContextRunner(context: FunctionContext, name: string) {
  // On Supabase's edge runtime the Supabase.ai global offers gte-small; elsewhere it is absent.
  const supabase = (globalThis as { Supabase?: EmbedderDeps['supabase'] }).Supabase;
  const embedder = createEmbedder(context.env, { fetch, ...(supabase ? { supabase } : {}) });
  return createJobRunner({
    db: context.db,
    handlers: createJobHandlers({
      db: context.db,
      embedder,
      env: context.env,
      fetch,
      log: context.log,
    }),
    workerId: `${name}:${crypto.randomUUID()}`,
    log: context.log,
  });
}
