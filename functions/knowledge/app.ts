import { Hono } from 'hono';
import { z } from 'zod';
import { type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import { requireStaff, type StaffEnv } from '../_shared/auth/staff.ts';
import type { Db } from '../_shared/db/port.ts';
import { createEmbedder, type EmbedderDeps } from '../_shared/embeddings/config.ts';
import type { Embedder } from '../_shared/embeddings/embedder.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import { searchTest } from '../_shared/knowledge/search-test.ts';
import { createOutboundFetch, loopbackAllowed } from '../_shared/net/outbound.ts';
import { systemResolver } from '../_shared/net/system-resolver.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// The admin's Knowledge page calls this for the one thing the Data API cannot do: embed a test
// question with the platform's embedder and rank the tenant's passages as the bot would. Uploads,
// documents, crawls and chunk previews go through Storage and the Data API under RLS.

export interface KnowledgeDeps {
  db: Db;
  embedder: Embedder;
  verifier: ClaimsVerifier;
  log: (message: string, error?: unknown) => void;
}

const searchSchema = z.object({
  tenant_id: z.string().uuid(),
  query: z.string().trim().min(1).max(1000),
  count: z.number().int().min(1).max(20).default(8),
});

export function createKnowledgeApp(deps: KnowledgeDeps) {
  const app = new Hono<StaffEnv>();
  app.use('*', publicCors());
  app.use('*', guardInput(8 * 1024));
  app.use('/knowledge/*', requireStaff(deps.verifier));

  app.post('/knowledge/search', async (c) => {
    const body = await jsonBody(c, searchSchema);
    return c.json(
      await searchTest(deps, c.get('staff'), {
        tenantId: body.tenant_id,
        query: body.query,
        count: body.count,
      }),
    );
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  // On Supabase's edge runtime the Supabase.ai global offers gte-small; elsewhere it is absent.
  const supabase = (globalThis as { Supabase?: EmbedderDeps['supabase'] }).Supabase;
  return createKnowledgeApp({
    db: context.db,
    // The embedding endpoint is configuration, and still called through the guard like the bot's.
    embedder: createEmbedder(context.env, {
      fetch: createOutboundFetch({
        fetch,
        resolve: systemResolver,
        allowLoopback: loopbackAllowed(context.env),
      }),
      ...(supabase ? { supabase } : {}),
    }),
    verifier: createClaimsVerifier(context.env),
    log: context.log,
  });
}
