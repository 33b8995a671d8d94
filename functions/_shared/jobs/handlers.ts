import { createReplyHandler } from '../agent/reply.ts';
import type { Db } from '../db/port.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { handleIngestJob } from '../knowledge/ingest-document.ts';
import type { JobHandler } from './types.ts';

export interface HandlerDeps {
  db: Db;
  embedder: Embedder;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch;
  log: (message: string, error?: unknown) => void;
}

/** Every kind of job Parley runs, and who works it. */
export function createJobHandlers(deps: HandlerDeps): Record<string, JobHandler> {
  return {
    reply: createReplyHandler(deps),
    ingest_document: (job) =>
      handleIngestJob({ db: deps.db, embedder: deps.embedder }, job.payload),
  };
}
