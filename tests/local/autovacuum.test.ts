import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { autovacuumOnce, startAutovacuum } from '../../supabase/local/autovacuum.ts';

// The local database's stand-in for Postgres' autovacuum: tables past Postgres' default
// thresholds are vacuumed or analyzed; the others are left alone.

let pg: PGlite;

beforeAll(async () => {
  pg = await PGlite.create({ extensions: { vector } });
  await pg.exec(`
    create extension vector;
    create table public.chunks (id int primary key, embedding vector(3));
    create index on public.chunks using hnsw (embedding vector_cosine_ops);
    create table public.busy (id int primary key, note text);
    create table public.quiet (id int primary key);
    create table public.churned (id int primary key);
    create table "Odd.Name" (id int primary key);`);
});
afterAll(() => pg.close());

const stats = async (table: string) =>
  (
    await pg.query<{ analyzed: boolean; dead: number; tuples: number }>(
      `select coalesce(s.last_analyze, s.last_autoanalyze) is not null as analyzed,
              s.n_dead_tup::int as dead, c.reltuples::int as tuples
         from pg_stat_user_tables s join pg_class c on c.oid = s.relid
        where s.relname = $1`,
      [table],
    )
  ).rows[0];

it('analyzes a table whose changes pass 50 rows plus a tenth, and leaves a quieter one', async () => {
  await pg.exec(`insert into public.busy select g, 'x' from generate_series(1, 500) g;
    insert into public.quiet select g from generate_series(1, 40) g;`);
  const round = await autovacuumOnce(pg);
  expect(round.analyzed).toContain('public.busy');
  expect(round.analyzed).not.toContain('public.quiet');
  expect(await stats('busy')).toMatchObject({ analyzed: true, tuples: 500 });
  expect(await stats('quiet')).toMatchObject({ analyzed: false });

  // Now 500 rows: 90 more changes stay under 50 + 50; 120 pass it.
  await pg.exec('update public.busy set note = $$y$$ where id <= 90');
  expect((await autovacuumOnce(pg)).analyzed).not.toContain('public.busy');
  await pg.exec('update public.busy set note = $$z$$ where id <= 30');
  // 120 dead rows stay under the vacuum threshold of 50 + 100.
  const again = await autovacuumOnce(pg);
  expect(again.analyzed).toContain('public.busy');
  expect(again.vacuumed).not.toContain('public.busy');
});

it('vacuums a table whose dead rows pass 50 plus a fifth of it, and quotes its name', async () => {
  await pg.exec(`insert into public.churned select g from generate_series(1, 1000) g;
    insert into "Odd.Name" select g from generate_series(1, 100) g;`);
  await autovacuumOnce(pg);
  await pg.exec(`delete from public.churned where id <= 400;
    delete from "Odd.Name" where id <= 90;`);
  const round = await autovacuumOnce(pg);
  expect(round.vacuumed).toEqual(expect.arrayContaining(['public.churned', 'public.Odd.Name']));
  expect(await stats('churned')).toMatchObject({ dead: 0, tuples: 600 });
});

it('analyzes a table with a vector index, but leaves its dead rows to searches', async () => {
  await pg.exec(`insert into public.chunks
    select g, array[g, 1, 2]::vector(3) from generate_series(1, 300) g`);
  expect((await autovacuumOnce(pg)).analyzed).toContain('public.chunks');
  await pg.exec('delete from public.chunks where id <= 200');
  const round = await autovacuumOnce(pg);
  expect(round.vacuumed).not.toContain('public.chunks');
  expect(round.analyzed).toContain('public.chunks');
  expect(await stats('chunks')).toMatchObject({ analyzed: true, dead: 200 });
});

it('waits for a transaction someone has open, and runs rounds until stopped', async () => {
  await pg.exec('insert into public.quiet select g from generate_series(41, 200) g');
  const log = vi.fn();
  await pg.exec('begin');
  const service = startAutovacuum(pg, log, 20);
  await new Promise((resolve) => setTimeout(resolve, 150));
  // Nothing ran inside the open transaction.
  expect(await stats('quiet')).toMatchObject({ analyzed: false });
  await pg.exec('commit');
  await vi.waitFor(async () => expect(await stats('quiet')).toMatchObject({ analyzed: true }));
  await service.stop();
  expect(log).not.toHaveBeenCalled();
});
