import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createHealthApp } from '../../functions/health/app.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';

let local: LocalDatabase;
let db: Db;
const quiet = () => {};

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
});
afterAll(() => local.close());

describe('health function', () => {
  it('reports the database and the queue', async () => {
    await db.asService(async (sql) => {
      await sql.query(`select private.enqueue_job('reply', '{}'::jsonb)`);
      await sql.query(
        `select private.enqueue_job('reply', '{}'::jsonb, null, now() + interval '1 hour')`,
      );
      await sql.query(
        `insert into public.jobs (kind, status, attempts, max_attempts, finished_at) values ('reply', 'dead', 5, 5, now())`,
      );
    });
    const app = createHealthApp({ db, version: '1.2.3', log: quiet });
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({
      status: 'ok',
      version: '1.2.3',
      database: { status: 'ok' },
      queue: { queued: 2, due: 1, running: 0, dead: 1 },
    });
    expect(typeof body.database.latency_ms).toBe('number');
  });

  it('answers 503 when the database is unreachable, without internals', async () => {
    const broken: Db = {
      asUser: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:5432')),
      asService: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:5432')),
      close: () => Promise.resolve(),
    };
    const app = createHealthApp({ db: broken, version: '1.2.3', log: quiet });
    const res = await app.request('/health');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      status: 'error',
      version: '1.2.3',
      database: { status: 'error' },
    });
    expect(text).not.toContain('ECONNREFUSED');
  });

  it('answers unknown routes with the JSON error shape', async () => {
    const app = createHealthApp({ db, version: '1.2.3', log: quiet });
    const res = await app.request('/health/nope', { method: 'POST' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: 'not_found', message: 'No route for POST /health/nope' },
    });
  });
});
