import { N8N_DEADLINE_JOB } from './agent/n8n.ts';
import { createN8nDeadlineHandler } from './agent/n8n-deadline.ts';
import { createReplyHandler } from './agent/reply.ts';
import { createEmbedder, type EmbedderDeps } from './embeddings/config.ts';
import type { JobHandler } from './jobs/types.ts';
import {
  createFileReader,
  createFileRemovalHandler,
  type StorageAccess,
} from './knowledge/files.ts';
import { handleIngestJob } from './knowledge/ingest-document.ts';
import { CRAWL_JOB, REMOVE_FILE_JOB } from './knowledge/job-kinds.ts';
import { createOutboundFetch, loopbackAllowed } from './net/outbound.ts';
import { systemResolver } from './net/system-resolver.ts';
import type { FunctionContext } from './platform/context.ts';
import { createTenantWebhookHandler, TENANT_WEBHOOK_JOB } from './webhooks/tenant-events.ts';
import { BROADCAST_JOB, createBroadcastHandler } from './whatsapp/broadcast.ts';
import { graphUrlFrom } from './whatsapp/graph.ts';
import {
  createTemplateSyncHandler,
  createWhatsappMediaHandler,
  createWhatsappSendHandler,
  MEDIA_JOB,
  SEND_JOB,
  TEMPLATE_SYNC_JOB,
} from './whatsapp/outbound.ts';

// Where the features meet the job queue: the one module that knows every job kind. The queue
// (jobs/) stays generic, so a new kind of work is one more entry here and nothing below changes.

/** What the bot's features are built with: the database, the embedder and the guarded fetch. */
export function featureDeps(context: FunctionContext) {
  // On Supabase's edge runtime the Supabase.ai global offers gte-small; elsewhere it is absent.
  const supabase = (globalThis as { Supabase?: EmbedderDeps['supabase'] }).Supabase;
  // Every URL these jobs call (tools, the n8n relay, LLM and embedding endpoints) was chosen by a
  // tenant or an operator, so none of them gets the unguarded fetch.
  const outbound = createOutboundFetch({
    fetch,
    resolve: systemResolver,
    allowLoopback: loopbackAllowed(context.env),
  });
  const embedder = createEmbedder(context.env, {
    fetch: outbound,
    ...(supabase ? { supabase } : {}),
  });
  return { db: context.db, embedder, env: context.env, fetch: outbound, log: context.log };
}

/** Every kind of job Parley runs, and who works it. */
export function createJobHandlers(context: FunctionContext): Record<string, JobHandler> {
  const deps = featureDeps(context);
  const outbound = deps.fetch;
  // Storage is the platform's own service, reached with the service key, not a tenant's URL.
  const storage: StorageAccess | undefined =
    context.env.SUPABASE_URL && context.env.SUPABASE_SERVICE_ROLE_KEY
      ? { url: context.env.SUPABASE_URL, serviceKey: context.env.SUPABASE_SERVICE_ROLE_KEY, fetch }
      : undefined;
  const whatsapp = {
    db: context.db,
    baseUrl: graphUrlFrom(context.env),
    fetch: outbound,
    log: context.log,
    ...(storage ? { storage } : {}),
  };
  return {
    reply: createReplyHandler(deps),
    [N8N_DEADLINE_JOB]: createN8nDeadlineHandler(deps),
    ingest_document: (job) =>
      handleIngestJob(
        {
          db: deps.db,
          embedder: deps.embedder,
          ...(storage ? { options: { readFile: createFileReader(storage) } } : {}),
        },
        job.payload,
      ),
    // Pages of tenants' sites: every request through the outbound guard. The crawler and its HTML
    // libraries load with the first crawl job, not with every function that works jobs.
    [CRAWL_JOB]: async (job) => {
      const { createCrawler } = await import('./knowledge/crawl.ts');
      return createCrawler({ db: context.db, fetch: outbound, log: context.log }).step(job.payload);
    },
    [REMOVE_FILE_JOB]: (job) => {
      if (!storage) throw new Error('Storage is not configured: the file stays until it is');
      return createFileRemovalHandler(storage)(job.payload);
    },
    [TENANT_WEBHOOK_JOB]: createTenantWebhookHandler({ db: context.db, fetch: outbound }),
    [SEND_JOB]: createWhatsappSendHandler(whatsapp),
    [MEDIA_JOB]: createWhatsappMediaHandler(whatsapp),
    [TEMPLATE_SYNC_JOB]: createTemplateSyncHandler(whatsapp),
    [BROADCAST_JOB]: createBroadcastHandler(whatsapp),
  };
}
