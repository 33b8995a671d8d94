import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { serveDatabase } from '../../supabase/local/database-socket.ts';

// The database's wire endpoint shares PGlite's single session with the stack's in-process work:
// a socket client's transaction must be isolated from it, not interleaved with it.

let local: LocalDatabase;
let server: Awaited<ReturnType<typeof serveDatabase>>;
let sql: postgres.Sql;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  await local.pg.exec('create table public.socket_probe (id int primary key, source text)');
  server = await serveDatabase(local.pg, { host: '127.0.0.1', port: 0 });
  sql = postgres(server.url, { max: 1, prepare: false, onnotice: () => {} });
});
afterAll(async () => {
  await sql.end({ timeout: 2 });
  await server.stop();
  await local.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('an in-process transaction waits for a socket transaction, and a rollback stays a rollback', async () => {
  const events: string[] = [];
  let begun: () => void = () => {};
  const socketBegun = new Promise<void>((resolve) => {
    begun = resolve;
  });
  const socketTx = sql
    .begin(async (tx) => {
      events.push('socket begin');
      await tx`insert into public.socket_probe values (1, 'socket')`;
      begun();
      await sleep(300);
      events.push('socket rollback');
      throw new Error('roll back');
    })
    .catch(() => {});
  // The socket's transaction is open (its first statement ran) before the in-process one starts.
  await socketBegun;
  const inProcess = local.pg.transaction(async (tx) => {
    events.push('in-process begin');
    await tx.query(`insert into public.socket_probe values (2, 'in-process')`);
  });
  await Promise.all([socketTx, inProcess]);

  expect(events).toEqual(['socket begin', 'socket rollback', 'in-process begin']);
  const rows = await local.pg.query<{ id: number }>(
    'select id from public.socket_probe order by id',
  );
  expect(rows.rows).toEqual([{ id: 2 }]);
});

it('a socket statement waits for an in-process transaction to finish', async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  const inProcess = local.pg.transaction(async (tx) => {
    await tx.query(`insert into public.socket_probe values (3, 'in-process')`);
    await held;
  });
  await sleep(50);
  let answered = false;
  const socketRead = sql`select count(*)::int as n from public.socket_probe`.then((rows) => {
    answered = true;
    return rows[0]?.n;
  });
  await sleep(200);
  expect(answered).toBe(false);
  release();
  await inProcess;
  expect(await socketRead).toBe(2);
});

it('a client that disconnects mid-transaction is rolled back and releases the session', async () => {
  // The server takes one connection at a time: make room for the client that will vanish.
  await sql.end({ timeout: 2 });
  const other = postgres(server.url, { max: 1, prepare: false, onnotice: () => {} });
  let inserted = false;
  const pending = other
    .begin(async (tx) => {
      await tx`insert into public.socket_probe values (4, 'abandoned')`;
      inserted = true;
      await sleep(10_000);
    })
    .catch(() => {});
  while (!inserted) await sleep(20);
  await other.end({ timeout: 0 });
  await pending;
  // In-process work goes on, and sees nothing of the abandoned transaction.
  const rows = await local.pg.query<{ id: number }>(
    'select id from public.socket_probe where id = 4',
  );
  expect(rows.rows).toEqual([]);
  sql = postgres(server.url, { max: 1, prepare: false, onnotice: () => {} });
  expect((await sql`select 1 as ok`)[0]).toEqual({ ok: 1 });
});

it('a client that ends its connection cleanly leaves the session free for in-process work', async () => {
  await sql.end({ timeout: 2 });
  const leaving = postgres(server.url, { max: 1, prepare: false, onnotice: () => {} });
  await leaving`select 1`;
  await leaving.end({ timeout: 2 });
  const done = await Promise.race([
    local.pg.query('select 1 as ok').then(() => 'ran'),
    sleep(3000).then(() => 'stuck'),
  ]);
  expect(done).toBe('ran');
  sql = postgres(server.url, { max: 1, prepare: false, onnotice: () => {} });
});

it('socket statements get their own results while the stack’s in-process transactions run', async () => {
  // The in-process adapter sends its statements as protocol batches: none of its replies may
  // reach a socket client, and no client's statement may run with its parameters or vice versa.
  const db = createPgliteDb(local.pg);
  let stop = false;
  const background = (async () => {
    let n = 0;
    while (!stop) {
      const [row] = await db.asService((tx) =>
        tx.query<{ n: number; tags: string[] }>('select $1::int as n, $2::text[] as tags', [
          n,
          ['in-process'],
        ]),
      );
      expect(row).toEqual({ n, tags: ['in-process'] });
      n++;
      await sleep(0);
    }
    return n;
  })();
  for (let i = 0; i < 40; i++) {
    // Parameters typed by the server: postgres.js describes the statement, then binds.
    const rows = await sql.unsafe('select $1::int as id, $2::text[] as tags, $3::jsonb as doc', [
      sql.typed(i, 0),
      sql.typed([], 0),
      sql.typed({ i }, 0),
    ] as never[]);
    expect([...rows]).toEqual([{ id: i, tags: [], doc: { i } }]);
  }
  stop = true;
  expect(await background).toBeGreaterThan(0);
});
