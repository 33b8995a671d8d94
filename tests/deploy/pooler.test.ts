import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDb, poolerSettings } from '../../functions/_shared/db/postgres.ts';
import { productionDbUrl } from '../../functions/_shared/platform/production.ts';
import { createFixtureDb } from '../db/fixture.ts';

// A deployed function talks to Postgres through Supabase's pooler in transaction mode, where
// consecutive transactions of one client may land on different backends. What must hold there:
// no named prepared statements, a small pool per isolate, and timeouts that free what idles.

describe('the production client settings', () => {
  it('suit a transaction-mode pooler', () => {
    expect(poolerSettings()).toEqual({
      prepare: false,
      max: 3,
      idle_timeout: 20,
      connect_timeout: 10,
    });
    expect(poolerSettings({ max: 1, idleTimeoutSeconds: 5, connectTimeoutSeconds: 2 })).toEqual({
      prepare: false,
      max: 1,
      idle_timeout: 5,
      connect_timeout: 2,
    });
  });

  it('connect to PARLEY_DB_URL when set, else to SUPABASE_DB_URL', () => {
    const pooled = 'postgresql://postgres.ref:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres';
    const platform = 'postgresql://postgres:pw@db.ref.supabase.co:5432/postgres';
    expect(productionDbUrl({ PARLEY_DB_URL: pooled, SUPABASE_DB_URL: platform })).toBe(pooled);
    expect(productionDbUrl({ PARLEY_DB_URL: '', SUPABASE_DB_URL: platform })).toBe(platform);
    expect(() => productionDbUrl({})).toThrow(/SUPABASE_DB_URL/);
  });
});

describe('over the wire', () => {
  let pg: PGlite;
  let server: PGLiteSocketServer;
  let url: string;

  beforeAll(async () => {
    pg = await createFixtureDb();
    // One connection: the socket server serves a single session (see tests/db/db.test.ts).
    server = new PGLiteSocketServer({ db: pg, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    url = `postgres://postgres:postgres@${server.getServerConn()}/postgres`;
  });

  afterAll(async () => {
    await server?.stop();
    await pg?.close();
  });

  const prepared = (sql: postgres.Sql) =>
    sql.unsafe('select count(*)::int as n from pg_prepared_statements');

  it('leaves no prepared statement on the backend, however often a query repeats', async () => {
    const db = createPostgresDb(url, { max: 1 });
    try {
      for (let i = 0; i < 3; i++) {
        await db.asService((sql) =>
          sql.query('insert into notes (owner, body) values ($1, $2)', [
            '00000000-0000-4000-8000-00000000000a',
            `note ${i}`,
          ]),
        );
      }
      const [row] = await db.asService((sql) =>
        sql.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements'),
      );
      expect(row?.n).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('would see the statements postgres.js prepares by default (the check can fail)', async () => {
    const sql = postgres(url, { max: 1 });
    try {
      await sql`select ${1}::int as one`;
      const [row] = await prepared(sql);
      expect(row?.n).toBeGreaterThan(0);
      await sql.unsafe('deallocate all');
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
