import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listMigrations, openLocalDatabase } from '../../supabase/local/database.ts';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

// Every test opens Postgres from nothing and applies the whole schema, some of them twice: that
// takes longer than a unit test's default budget, the more so as the schema grows.
describe('local database', { timeout: 120_000 }, () => {
  it('applies every migration from scratch, then the seed', async () => {
    const migrations = await listMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    // In memory, the migrated schema usually comes from a cached template: not here.
    const db = await openLocalDatabase({ template: false });
    try {
      expect(db.applied).toEqual(migrations.map((m) => m.version));
      expect(db.seeded).toBe(true);
      const tracked = await db.pg.query<{ version: string }>(
        'select version from supabase_migrations.schema_migrations order by version',
      );
      expect(tracked.rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
      const tenant = await db.pg.query<{ name: string; widget_key: string }>(
        `select name, widget_key from public.tenants where slug = 'trailhead'`,
      );
      expect(tenant.rows).toEqual([
        { name: 'Trailhead Outfitters', widget_key: 'pk_demo_trailhead' },
      ]);
      // The seed's chunks are embedded on open, so vector search works on the demo data at once.
      const chunks = await db.pg.query<{ total: number; embedded: number }>(
        'select count(*)::int as total, count(embedding)::int as embedded from public.document_chunks',
      );
      expect(chunks.rows[0]?.total).toBeGreaterThan(0);
      expect(chunks.rows[0]?.embedded).toBe(chunks.rows[0]?.total);
      // The demo owner's password is a real bcrypt hash, verifiable in SQL.
      const login = await db.pg.query<{ ok: boolean }>(
        `select encrypted_password = extensions.crypt('parley-demo-1', encrypted_password) as ok
           from auth.users where email = 'owner@trailhead.example'`,
      );
      expect(login.rows).toEqual([{ ok: true }]);
    } finally {
      await db.close();
    }
  });

  it('enables row level security on every table in public', async () => {
    const db = await openLocalDatabase({ seed: false, embedder: null });
    try {
      const tables = await db.pg.query<{ relname: string; relrowsecurity: boolean }>(
        `select c.relname, c.relrowsecurity from pg_class c
          join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
      );
      // DESIGN's data model, plus tenant_secrets (kept apart so agents can read tenants).
      expect(tables.rows.map((t) => t.relname)).toEqual(
        expect.arrayContaining([
          'contacts',
          'conversations',
          'document_chunks',
          'documents',
          'jobs',
          'messages',
          'plans',
          'platform_admins',
          'stripe_events',
          'subscriptions',
          'tenant_members',
          'tenant_secrets',
          'tenant_tools',
          'tenants',
          'tool_executions',
          'tools',
          'usage_daily',
          'webhook_endpoints',
        ]),
      );
      expect(tables.rows.filter((t) => !t.relrowsecurity)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('re-opening a data directory applies nothing twice and keeps the data', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'parley-db-'));
    dirs.push(dir);
    const first = await openLocalDatabase({ dataDir: dir });
    expect(first.applied.length).toBeGreaterThan(0);
    expect(first.seeded).toBe(true);
    await first.pg.query(`update public.tenants set name = 'Renamed' where slug = 'trailhead'`);
    await first.close();

    const second = await openLocalDatabase({ dataDir: dir });
    try {
      expect(second.applied).toEqual([]);
      expect(second.seeded).toBe(false);
      const tenant = await second.pg.query<{ name: string }>(
        `select name from public.tenants where slug = 'trailhead'`,
      );
      expect(tenant.rows).toEqual([{ name: 'Renamed' }]);
      const crons = await second.pg.query<{ jobname: string }>(
        'select jobname from cron.job order by 1',
      );
      expect(crons.rows.map((r) => r.jobname)).toEqual([
        'parley-billing-grace',
        'parley-billing-housekeeping',
        'parley-crawl-resync',
        'parley-engine-housekeeping',
        'parley-flow-sessions',
        'parley-presence-expiry',
        'parley-retention',
        'parley-webhook-deliveries',
        'parley-webhook-receipts',
        'parley-worker',
      ]);
    } finally {
      await second.close();
    }
  });

  it('applies only the new migration when one is added later', async () => {
    const { cp, writeFile } = await import('node:fs/promises');
    const project = await mkdtemp(join(tmpdir(), 'parley-project-'));
    const data = await mkdtemp(join(tmpdir(), 'parley-data-'));
    dirs.push(project, data);
    const supabaseDir = join(project, 'supabase');
    await cp(
      join(import.meta.dirname, '../../supabase/migrations'),
      join(supabaseDir, 'migrations'),
      {
        recursive: true,
      },
    );
    const first = await openLocalDatabase({ dataDir: data, supabaseDir, embedder: null });
    await first.close();
    await writeFile(
      join(supabaseDir, 'migrations', '29991231000000_later.sql'),
      'create table public.later_feature (id int primary key); alter table public.later_feature enable row level security;',
    );
    const second = await openLocalDatabase({ dataDir: data, supabaseDir, embedder: null });
    try {
      expect(second.applied).toEqual(['29991231000000']);
    } finally {
      await second.close();
    }
  });

  it('a failing migration is rolled back whole and reported with its name', async () => {
    const { cp, writeFile } = await import('node:fs/promises');
    const project = await mkdtemp(join(tmpdir(), 'parley-project-'));
    dirs.push(project);
    const supabaseDir = join(project, 'supabase');
    await cp(
      join(import.meta.dirname, '../../supabase/migrations'),
      join(supabaseDir, 'migrations'),
      {
        recursive: true,
      },
    );
    await writeFile(
      join(supabaseDir, 'migrations', '29991231000000_broken.sql'),
      'create table public.half_done (id int); select no_such_function();',
    );
    await expect(openLocalDatabase({ supabaseDir, embedder: null })).rejects.toThrow(
      /29991231000000_broken failed/,
    );
  });
});
