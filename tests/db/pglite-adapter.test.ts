import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';

// The local adapter sends a transaction's statements to PGlite as protocol batches of its own
// (functions/_shared/db/pglite.ts). What PGlite's own query() and transaction() gave must hold.

let pg: PGlite;
let db: Db;

beforeAll(async () => {
  pg = await PGlite.create();
  await pg.exec(`create role service_role;
    create table public.probe (id int primary key, doc jsonb, tags text[]);
    grant all on public.probe to service_role;`);
  db = createPgliteDb(pg);
});
afterAll(() => pg.close());

it('delivers a committed NOTIFY to listeners, and none from a rollback', async () => {
  const heard: string[] = [];
  const unlisten = await pg.listen('adapter_probe', (payload) => heard.push(payload));
  await db.asService((sql) => sql.query(`select pg_notify('adapter_probe', $1)`, ['committed']));
  await db
    .asService(async (sql) => {
      await sql.query(`select pg_notify('adapter_probe', $1)`, ['rolled back']);
      throw new Error('roll back');
    })
    .catch(() => {});
  await new Promise((resolve) => setTimeout(resolve, 20));
  await unlisten();
  expect(heard).toEqual(['committed']);
});

it('runs statements the caller did not wait for in order, and commits them all', async () => {
  await db.asService(async (sql) => {
    const writes = [1, 2, 3].map((id) =>
      sql.query('insert into public.probe (id, doc, tags) values ($1, $2::jsonb, $3::text[])', [
        id,
        { id },
        [`tag${id}`],
      ]),
    );
    await Promise.all(writes);
  });
  const rows = await db.asService((sql) =>
    sql.query<{ id: number; doc: unknown; tags: string[] }>(
      'select id, doc, tags from public.probe order by id',
    ),
  );
  expect(rows).toEqual([
    { id: 1, doc: { id: 1 }, tags: ['tag1'] },
    { id: 2, doc: { id: 2 }, tags: ['tag2'] },
    { id: 3, doc: { id: 3 }, tags: ['tag3'] },
  ]);
});

it('rolls back the whole transaction on a failing statement, whose error keeps its SQLSTATE and text', async () => {
  const error = await db
    .asService(async (sql) => {
      await sql.query('insert into public.probe (id) values ($1)', [10]);
      await sql.query('insert into public.probe (id) values ($1)', [1]);
    })
    .catch((e: unknown) => e as { code?: string; query?: string });
  expect(error).toMatchObject({
    code: '23505',
    query: 'insert into public.probe (id) values ($1)',
  });
  const [row] = await db.asService((sql) =>
    sql.query<{ n: number }>('select count(*)::int as n from public.probe where id = 10'),
  );
  expect(row?.n).toBe(0);
});

it('leaves the session idle after every transaction, including one that sent nothing', async () => {
  await db.asService(async () => 'nothing sent');
  await db.asService((sql) => sql.query('select 1'));
  await db.asService((sql) => sql.query('select 1 / 0')).catch(() => {});
  expect(pg.isInTransaction()).toBe(false);
  const [row] = await db.asService((sql) =>
    sql.query<{ role: string }>(`select current_setting('role') as role`),
  );
  expect(row?.role).toBe('service_role');
  const { rows } = await pg.query<{ role: string }>(`select current_setting('role') as role`);
  expect(rows[0]?.role).toBe('none');
});

it('reads a statement’s rows as PGlite’s query() does: nulls, same-named columns, statements without rows', async () => {
  const statements: [string, unknown[]][] = [
    // The first statement of a transaction travels with BEGIN and the role setup.
    [`select g as n, null::text as missing, g::text as n from generate_series(1, $1::int) g`, [3]],
    ['select 1 as one where false', []],
    ['insert into public.probe (id) values ($1)', [20]],
    [
      'insert into public.probe (id, tags) values ($1, $2::text[]) returning id, doc, tags',
      [21, ['a', null]],
    ],
    ['delete from public.probe where id in (20, 21)', []],
  ];
  const ours = await db.asService(async (sql) => {
    const results: unknown[][] = [];
    for (const [text, params] of statements) results.push(await sql.query(text, params));
    return results;
  });
  const theirs: unknown[][] = [];
  await pg.transaction(async (tx) => {
    for (const [text, params] of statements) theirs.push((await tx.query(text, params)).rows);
  });
  expect(ours).toStrictEqual(theirs);
  expect(ours[0]).toStrictEqual([
    { n: '1', missing: null },
    { n: '2', missing: null },
    { n: '3', missing: null },
  ]);
  expect(ours[3]).toStrictEqual([{ id: 21, doc: null, tags: ['a', null] }]);
});

const keptStatements = async (text: string) =>
  (
    await pg.query<{ name: string }>(
      'select name from pg_prepared_statements where statement = $1',
      [text],
    )
  ).rows;

it('prepares a statement with parameters once and afterwards only binds it', async () => {
  const text = 'select id, tags from public.probe where id = $1';
  for (const id of [1, 2, 3]) {
    const rows = await db.asService((sql) => sql.query<{ id: number }>(text, [id]));
    expect(rows).toEqual([{ id, tags: [`tag${id}`] }]);
  }
  expect(await keptStatements(text)).toHaveLength(1);
  // The role setup that opens every transaction is kept too.
  const setups = await pg.query<{ n: number }>(
    `select count(*)::int as n from pg_prepared_statements where statement like '%request.jwt.claims%'`,
  );
  expect(setups.rows[0]?.n).toBe(1);
});

it('prepares a statement again after the schema changed under it', async () => {
  await pg.exec(`create table public.reshaped (id int primary key);
    insert into public.reshaped values (1);
    grant all on public.reshaped to service_role;`);
  const text = 'select * from public.reshaped where id = $1';
  expect(await db.asService((sql) => sql.query(text, [1]))).toEqual([{ id: 1 }]);

  // As the transaction's first statement it is prepared afresh and run, unnoticed by the caller.
  await pg.exec(`alter table public.reshaped add column label text default 'one'`);
  expect(await db.asService((sql) => sql.query(text, [1]))).toEqual([{ id: 1, label: 'one' }]);

  // After another statement of the transaction, that transaction fails, as one whose schema
  // changed between two statements would; the next one runs.
  await pg.exec(`alter table public.reshaped add column size int default 2`);
  const error = await db
    .asService(async (sql) => {
      await sql.query('select 1');
      return sql.query(text, [1]);
    })
    .catch((e: unknown) => e as { code?: string });
  expect(error).toMatchObject({ code: '0A000' });
  expect(await db.asService((sql) => sql.query(text, [1]))).toEqual([
    { id: 1, label: 'one', size: 2 },
  ]);
  expect(await keptStatements(text)).toHaveLength(1);
  expect(pg.isInTransaction()).toBe(false);
});

it('keeps a bounded number of statements, letting the least recently used go', async () => {
  const often = 'select $1::int as often';
  const texts = Array.from({ length: 300 }, (_, i) => `select $1::int + ${i} as n`);
  for (const [i, text] of texts.entries()) {
    const [row] = await db.asService(async (sql) => {
      await sql.query(often, [i]);
      return sql.query<{ n: number }>(text, [1]);
    });
    expect(row?.n).toBe(i + 1);
  }
  // Closes travel with the next batch.
  await db.asService((sql) => sql.query(often, [0]));
  const kept = await pg.query<{ n: number }>(
    `select count(*)::int as n from pg_prepared_statements where name like 'parley_stmt_%'`,
  );
  expect(kept.rows[0]?.n).toBeLessThanOrEqual(256);
  expect(await keptStatements(often)).toHaveLength(1);
  expect(await keptStatements(texts[299] as string)).toHaveLength(1);
  expect(await keptStatements(texts[0] as string)).toHaveLength(0);
});

it('runs a statement someone else deallocated, preparing it again', async () => {
  const text = 'select $1::text as said';
  expect(await db.asService((sql) => sql.query(text, ['one']))).toEqual([{ said: 'one' }]);
  await pg.exec('deallocate all');
  expect(await db.asService((sql) => sql.query(text, ['two']))).toEqual([{ said: 'two' }]);
  expect(await keptStatements(text)).toHaveLength(1);
});
