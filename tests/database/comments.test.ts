import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';

// Every table and column in public carries a COMMENT: the Data API's OpenAPI document and
// Supabase Studio show them, so a new column without one is a gap in the documentation.

let local: LocalDatabase;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
}, 120_000);

afterAll(async () => {
  await local?.close();
});

describe('comments', () => {
  it('every table in public has a comment', async () => {
    const { rows } = await local.pg.query<{ table: string }>(
      `select c.relname as table from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
          and coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''
        order by 1`,
    );
    expect(rows.map((r) => r.table)).toEqual([]);
  });

  it('every column of every table in public has a comment', async () => {
    const { rows } = await local.pg.query<{ column: string }>(
      `select c.relname || '.' || a.attname as column
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
          and coalesce(btrim(col_description(c.oid, a.attnum)), '') = ''
        order by 1`,
    );
    expect(rows.map((r) => r.column)).toEqual([]);
  });
});
