import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import { type Db, DbRoleError, type JwtClaims } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { createFixtureDb } from './fixture.ts';

type Harness = { db: Db; stop(): Promise<void> };

async function viaPglite(pg: PGlite): Promise<Harness> {
  const db = createPgliteDb(pg);
  return { db, stop: () => db.close() };
}

// PGLiteSocketServer drives one single-session PGlite. By default it accepts one connection and
// answers any further one with a non-protocol "Too many connections" line, which leaves
// postgres.js hanging. Allowing more does not help: messages of different connections are
// interleaved per protocol message whenever no explicit transaction is open, so two clients'
// unnamed statements clobber each other. Hence one connection on both sides; postgres.js queues
// concurrent transactions behind it.
async function viaSocket(pg: PGlite): Promise<Harness> {
  const server = new PGLiteSocketServer({ db: pg, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  const db = createPostgresDb(`postgres://postgres:postgres@${server.getServerConn()}/postgres`, {
    max: 1,
  });
  return {
    db,
    stop: async () => {
      await db.close();
      await server.stop();
    },
  };
}

const user = (sub: string): JwtClaims => ({ sub, role: 'authenticated', aud: 'authenticated' });
const ALICE = user('00000000-0000-4000-8000-00000000000a');
const BOB = user('00000000-0000-4000-8000-00000000000b');

describe.each([
  ['pglite', viaPglite],
  ['postgres.js over pglite-socket', viaSocket],
])('Db via %s', (_name, open) => {
  let pg: PGlite;
  let h: Harness;
  let db: Db;

  beforeAll(async () => {
    pg = await createFixtureDb();
    h = await open(pg);
    db = h.db;
    await db.asUser(ALICE, (sql) => sql.query(`insert into notes (body) values ('alice 1')`));
    await db.asUser(BOB, (sql) => sql.query(`insert into notes (body) values ('bob 1')`));
  });

  afterAll(async () => {
    await h?.stop();
    await pg?.close();
  });

  it('runs asUser as authenticated, seeing only its own rows', async () => {
    const [who] = await db.asUser(ALICE, (sql) =>
      sql.query(`select current_user as role, request_sub()::text as sub`),
    );
    expect(who).toEqual({ role: 'authenticated', sub: ALICE.sub });
    const rows = await db.asUser(ALICE, (sql) => sql.query(`select body from notes`));
    expect(rows).toEqual([{ body: 'alice 1' }]);
  });

  it('passes the full claims and the request info through', async () => {
    const [row] = await db.asUser(
      ALICE,
      (sql) =>
        sql.query(`select current_setting('request.jwt.claims')::jsonb as claims,
          current_setting('request.method') as method, current_setting('request.path') as path`),
      { method: 'POST', path: '/chat' },
    );
    expect(row).toEqual({ claims: ALICE, method: 'POST', path: '/chat' });
  });

  it('refuses an insert for someone else with the SQLSTATE on the error', async () => {
    const attempt = db.asUser(ALICE, (sql) =>
      sql.query(`insert into notes (owner, body) values ($1, 'forged')`, [BOB.sub]),
    );
    await expect(attempt).rejects.toMatchObject({ code: '42501' });
  });

  it('runs anon as anon, which sees no rows here', async () => {
    const [row] = await db.asUser({ role: 'anon' }, (sql) =>
      sql.query(`select current_user as role, (select count(*) from notes) as n`),
    );
    expect(row).toEqual({ role: 'anon', n: 0 });
  });

  it.each([
    ['service_role', { role: 'service_role' }],
    ['postgres', { role: 'postgres' }],
    ['empty', { role: '' }],
    ['missing', {}],
    ['injection', { role: "authenticated', true); --" }],
  ])('refuses asUser with role %s without running fn', async (_, claims) => {
    let ran = false;
    const attempt = db.asUser(claims as JwtClaims, async () => {
      ran = true;
    });
    await expect(attempt).rejects.toBeInstanceOf(DbRoleError);
    expect(ran).toBe(false);
  });

  it('runs asService as service_role, bypassing RLS', async () => {
    const [row] = await db.asService((sql) =>
      sql.query(`select current_user as role, current_setting('request.jwt.claims')::jsonb as claims,
        (select count(*) from notes) as n`),
    );
    expect(row).toEqual({ role: 'service_role', claims: { role: 'service_role' }, n: 2 });
  });

  it('rolls back when fn throws, rethrowing the same error', async () => {
    const boom = new Error('boom');
    const attempt = db.asUser(BOB, async (sql) => {
      await sql.query(`insert into notes (body) values ('never')`);
      throw boom;
    });
    await expect(attempt).rejects.toBe(boom);
    const rows = await db.asService((sql) => sql.query(`select 1 from notes where body = 'never'`));
    expect(rows).toEqual([]);
  });

  it('leaves no role or claims behind after the transaction', async () => {
    await db.asUser(ALICE, (sql) => sql.query('select 1'));
    // The socket server and the in-process API share PGlite's single session.
    const { rows } = await pg.query<{ role: string; claims: string | null }>(
      `select current_user as role, current_setting('request.jwt.claims', true) as claims`,
    );
    expect(rows[0]?.role).toBe('postgres');
    expect(rows[0]?.claims || null).toBeNull();
    const [next] = await db.asService((sql) =>
      sql.query(`select current_setting('request.jwt.claims')::jsonb as claims`),
    );
    expect(next).toEqual({ claims: { role: 'service_role' } });
  });

  it('refuses undefined parameters', async () => {
    const attempt = db.asService((sql) => sql.query('select $1::text as x', [undefined]));
    await expect(attempt).rejects.toBeInstanceOf(TypeError);
  });

  it('returns the promised JS types', async () => {
    const [row] = await db.asService((sql) => sql.query(TYPES_SQL));
    expect(row).toStrictEqual(TYPES_EXPECTED);
  });

  it('serialises parameters by the type the server infers', async () => {
    const [row] = await db.asService((sql) => sql.query(PARAMS_SQL, PARAMS));
    expect(row).toStrictEqual(PARAMS_EXPECTED);
  });

  it('keeps concurrent users apart', async () => {
    const subs = Array.from({ length: 20 }, () => crypto.randomUUID());
    const seen = await Promise.all(
      subs.map((sub) =>
        db.asUser(user(sub), async (sql) => {
          await sql.query(`insert into notes (body) values ($1)`, [sub]);
          return sql.query<{ body: string }>(`select body from notes`);
        }),
      ),
    );
    expect(seen).toEqual(subs.map((sub) => [{ body: sub }]));
  });
});

describe('both adapters on one database', () => {
  it('return identical values for the same SQL and parameters', async () => {
    const pg = await createFixtureDb();
    const direct = await viaPglite(pg);
    const socket = await viaSocket(pg);
    try {
      // Sequential on purpose: the two paths share one session (see viaSocket).
      for (const [text, params] of [
        [TYPES_SQL, []],
        [PARAMS_SQL, PARAMS],
      ] as const) {
        const a = await direct.db.asService((sql) => sql.query(text, params));
        const b = await socket.db.asService((sql) => sql.query(text, params));
        expect(b).toStrictEqual(a);
      }
    } finally {
      await socket.stop();
      await direct.stop();
      await pg.close();
    }
  });
});

const TS = new Date('2024-05-06T07:08:09.123Z');

const TYPES_SQL = `select
  42::int8 as i8, 9007199254740993::int8 as i8_big, 7::int4 as i4, 1.5::float8 as f8,
  1.50::numeric as num, '2024-05-06T07:08:09.123Z'::timestamptz as ts,
  '{"a":[1,"x",null]}'::jsonb as jb, '[1]'::json as j, true as b,
  '00000000-0000-4000-8000-000000000001'::uuid as u, 'hi'::text as t,
  '[1,2,3]'::vector as v, null::text as n, array[1,2]::int8[] as i8s,
  array['a','b'] as ts_arr, '\\x01ff'::bytea as by, '1 day'::interval as iv`;

const TYPES_EXPECTED = {
  i8: 42,
  i8_big: 9007199254740993n,
  i4: 7,
  f8: 1.5,
  num: '1.50',
  ts: TS,
  jb: { a: [1, 'x', null] },
  j: [1],
  b: true,
  u: '00000000-0000-4000-8000-000000000001',
  t: 'hi',
  v: '[1,2,3]',
  n: null,
  i8s: [1, 2],
  ts_arr: ['a', 'b'],
  by: new Uint8Array([1, 255]),
  iv: '1 day',
};

const PARAMS_SQL = `select $1::jsonb as obj, $2::jsonb as str, $3::jsonb as arr, $4::jsonb as bool,
  $5::text::jsonb as raw, $6::timestamptz as ts, $7::int8 as i8, $8::int8 as i8_big,
  $9::bool as b, $10::int4[] as ints, $11::text as n, $12::vector as v, $13::bytea as by,
  $14::uuid as u, $15::numeric as num`;

const PARAMS = [
  { a: 1 },
  'x',
  [1, 'y'],
  true,
  '{"k":2}',
  TS,
  7,
  9007199254740993n,
  false,
  [1, 2],
  null,
  '[1,2,3]',
  new Uint8Array([0, 16]),
  '00000000-0000-4000-8000-000000000002',
  '2.50',
];

const PARAMS_EXPECTED = {
  obj: { a: 1 },
  str: 'x',
  arr: [1, 'y'],
  bool: true,
  raw: { k: 2 },
  ts: TS,
  i8: 7,
  i8_big: 9007199254740993n,
  b: false,
  ints: [1, 2],
  n: null,
  v: '[1,2,3]',
  by: new Uint8Array([0, 16]),
  u: '00000000-0000-4000-8000-000000000002',
  num: '2.50',
};
