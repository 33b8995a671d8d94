import { Hono } from 'hono';
import { z } from 'zod';
import { bearerToken, createClaimsVerifier } from '../_shared/auth/claims.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import { createJobHandlers } from '../_shared/job-handlers.ts';
import { createContextRunner } from '../_shared/jobs/context-runner.ts';
import type { JobRunner } from '../_shared/jobs/runner.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// Drains the job queue: called by pg_cron through pg_net every 10 seconds, and safe to call
// concurrently (claims are SKIP LOCKED leases). Only the service role may call it.

export interface WorkerDeps {
  runner: JobRunner;
  isService(token: string): Promise<boolean>;
  log: (message: string, error?: unknown) => void;
}

const optionsSchema = z
  .object({
    max_jobs: z.number().int().min(1).max(500).optional(),
    max_ms: z.number().int().min(100).max(120_000).optional(),
    kinds: z.array(z.string().max(64)).max(20).optional(),
  })
  .passthrough();

export function createWorkerApp(deps: WorkerDeps) {
  const app = new Hono();
  app.use('*', guardInput(4096));
  app.post('/worker', async (c) => {
    const token = bearerToken(c.req.raw);
    if (!token || !(await deps.isService(token))) {
      throw new HttpError(401, 'unauthorized', 'The worker runs for the service role only.');
    }
    // A body that is not JSON is a caller's mistake to report, not a request to run with defaults.
    const options = await jsonBody(c, optionsSchema, { emptyAs: {} });
    const result = await deps.runner.drain({
      maxJobs: options.max_jobs ?? 50,
      maxMs: options.max_ms ?? 20_000,
      ...(options.kinds ? { kinds: options.kinds } : {}),
    });
    return c.json(result);
  });
  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  const verifier = createClaimsVerifier(context.env);
  return createWorkerApp({
    runner: createContextRunner(context, 'worker', createJobHandlers(context)),
    isService: async (token) => {
      if (token === context.env.SUPABASE_SERVICE_ROLE_KEY) return true;
      return (await verifier.verify(token))?.role === 'service_role';
    },
    log: context.log,
  });
}
