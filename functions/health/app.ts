import { Hono } from 'hono';
import type { Db } from '../_shared/db/port.ts';
import { notFound, onError } from '../_shared/http/errors.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

export interface HealthDeps {
  db: Db;
  version: string;
  log?: (message: string, error: unknown) => void;
}

type QueueStats = {
  queued: number;
  due: number;
  running: number;
  dead: number;
  oldest_due_seconds: number;
};

/**
 * Readiness probe: can we reach the database, how deep is the job queue, how many jobs are dead.
 * 200 when the database answers, 503 when it does not; the body says which.
 */
export function createHealthApp({ db, version, log = console.error }: HealthDeps) {
  const app = new Hono();

  app.get('/health', async (c) => {
    const started = performance.now();
    try {
      const [queue] = await db.asService((sql) =>
        sql.query<QueueStats>('select * from private.job_stats()'),
      );
      return c.json({
        status: 'ok',
        version,
        database: { status: 'ok', latency_ms: Math.round(performance.now() - started) },
        queue: {
          queued: queue?.queued ?? 0,
          due: queue?.due ?? 0,
          running: queue?.running ?? 0,
          dead: queue?.dead ?? 0,
          oldest_due_seconds: Math.round(queue?.oldest_due_seconds ?? 0),
        },
      });
    } catch (error) {
      log('health: database check failed', error);
      return c.json({ status: 'error', version, database: { status: 'error' } }, 503);
    }
  });

  app.notFound(notFound);
  app.onError(onError(log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createHealthApp({
    db: context.db,
    version: context.env.PARLEY_VERSION ?? 'dev',
    log: context.log,
  });
}
