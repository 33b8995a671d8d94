import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { listMigrations, openLocalDatabase } from '../../supabase/local/database.ts';

// In-memory databases start from a cached copy of the migrated schema: it must be the very schema
// a replay of compat.sql and the migrations builds, and a damaged copy must cost time, not a test.

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const FINGERPRINT = `
  with objects as (
    select 'relation' as kind,
           format('%I.%I %s rls=%s acl=%s', n.nspname, c.relname, c.relkind, c.relrowsecurity,
                  c.relacl) as item
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    union all
    select 'column', format('%I.%I.%I %s not_null=%s default=%s acl=%s', n.nspname, c.relname,
                            a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                            pg_get_expr(d.adbin, d.adrelid), a.attacl)
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
       and a.attnum > 0 and not a.attisdropped
    union all
    select 'function', format('%s %s %s acl=%s', p.oid::regprocedure, md5(p.prosrc), p.proconfig,
                              p.proacl)
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname not in ('pg_catalog', 'information_schema')
    union all
    select 'policy', format('%I.%I %s %s %s to=%s using=%s check=%s', schemaname, tablename,
                            policyname, permissive, cmd, roles, qual, with_check)
      from pg_policies
    union all
    select 'trigger', format('%s %s', tgrelid::regclass, pg_get_triggerdef(oid))
      from pg_trigger where not tgisinternal
    union all
    select 'extension', extname || ' ' || extversion from pg_extension
    union all
    select 'rows', format('%I.%I %s', schemaname, tablename,
                          (xpath('/row/n/text()', query_to_xml(
                            format('select count(*) as n from %I.%I', schemaname, tablename),
                            false, true, '')))[1])
      from pg_tables
     where schemaname not in ('pg_catalog', 'information_schema')
    union all
    select 'cron', format('%s %s %s', jobname, schedule, command) from cron.job
    union all
    select 'session', current_setting('search_path')
  )
  select kind, item from objects order by kind, item`;

async function fingerprint(pg: PGlite) {
  return (await pg.query<{ kind: string; item: string }>(FINGERPRINT)).rows;
}

describe('the migrated schema template', { timeout: 240_000 }, () => {
  it('opens the same schema, data and session as a replay from nothing', async () => {
    const versions = (await listMigrations()).map((m) => m.version);
    const replayed = await openLocalDatabase({ template: false, seed: false, embedder: null });
    try {
      // The first open may build the template, the second is sure to start from it.
      await (await openLocalDatabase({ seed: false, embedder: null })).close();
      const templated = await openLocalDatabase({ seed: false, embedder: null });
      try {
        expect(replayed.applied).toEqual(versions);
        expect(templated.applied).toEqual(versions);
        const expected = await fingerprint(replayed.pg);
        expect(expected.length).toBeGreaterThan(1000);
        expect(await fingerprint(templated.pg)).toEqual(expected);
      } finally {
        await templated.close();
      }
    } finally {
      await replayed.close();
    }
  });

  it('replays and rewrites a template that cannot be read', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'parley-templates-'));
    dirs.push(cache);
    const previous = process.env.PARLEY_DB_TEMPLATE_DIR;
    process.env.PARLEY_DB_TEMPLATE_DIR = cache;
    try {
      const versions = (await listMigrations()).map((m) => m.version);
      await (await openLocalDatabase({ seed: false, embedder: null })).close();
      const [template, ...others] = await readdir(cache);
      expect(others).toEqual([]);
      const path = join(cache, template as string);
      await writeFile(path, 'not a data directory');

      const reopened = await openLocalDatabase({ seed: false, embedder: null });
      try {
        expect(reopened.applied).toEqual(versions);
        const tenants = await reopened.pg.query('select * from public.tenants');
        expect(tenants.rows).toEqual([]);
      } finally {
        await reopened.close();
      }
      expect(await readdir(cache)).toEqual([template]);
      expect((await stat(path)).size).toBeGreaterThan(1_000_000);
    } finally {
      if (previous === undefined) delete process.env.PARLEY_DB_TEMPLATE_DIR;
      else process.env.PARLEY_DB_TEMPLATE_DIR = previous;
    }
  });
});
