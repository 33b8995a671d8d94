// `npm run bench:billing`: what plan quotas add to the message path, printed, never asserted.
//   - the reply job's reservation (conversation + bot reply, one statement each), per message
//   - a conversation's start with and without its quota spend
//   - 50 reservations racing for the last unit of a quota
// In process, on PGlite (one Postgres session, so figures are per statement, without contention).
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import type { Sql } from '../functions/_shared/db/port.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import { ms as millis, percentile } from './support.ts';

const ms = (n: number) => millis(n).padStart(9);
const report = (label: string, samples: number[]) =>
  console.log(
    `  ${label.padEnd(52)} p50 ${ms(percentile(samples, 50))}  p95 ${ms(percentile(samples, 95))}`,
  );

const local = await openLocalDatabase({ seed: false, embedder: null });
const db = createPgliteDb(local.pg);

async function one<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T> {
  const [row] = await sql.query<T>(text, params);
  if (!row) throw new Error(`no row from ${text}`);
  return row;
}

const { id: tenant } = await db.asService((sql) =>
  one<{ id: string }>(
    sql,
    `insert into public.tenants (name, slug, plan_id) values ('Bench', 'bench-billing', 'business') returning id`,
  ),
);

async function conversation(): Promise<string> {
  return db.asService(async (sql) => {
    const row = await one<{ id: string }>(
      sql,
      'insert into public.conversations (tenant_id) values ($1) returning id',
      [tenant],
    );
    return row.id;
  });
}

const WARMUP = 50;
const N = 500;

console.log('Quota check on the message path (PGlite in process, business plan)');

// The reply job reserves before it asks any model: conversation (once) + reply (every message).
const conversations = await Promise.all(Array.from({ length: 20 }, conversation));
const inOwnTransaction: number[] = [];
const statementOnly: number[] = [];
for (let i = 0; i < WARMUP + N; i++) {
  const conversationId = conversations[i % conversations.length];
  const started = performance.now();
  const inner = await db.asService(async (sql) => {
    const t0 = performance.now();
    await sql.query('select private.reserve_bot_reply($1, $2, gen_random_uuid())', [
      tenant,
      conversationId,
    ]);
    return performance.now() - t0;
  });
  if (i >= WARMUP) {
    inOwnTransaction.push(performance.now() - started);
    statementOnly.push(inner);
  }
}
report('reserve_bot_reply, the statement', statementOnly);
report('reserve_bot_reply, as its own transaction', inOwnTransaction);

// The chat function's check before it accepts a message (tenant status only now).
const accept: number[] = [];
for (let i = 0; i < WARMUP + N; i++) {
  const started = performance.now();
  await db.asService((sql) =>
    sql.query(
      'select private.quota_exceeded(t.id) as reason, t.enforce_identity from public.tenants t where t.id = $1',
      [tenant],
    ),
  );
  if (i >= WARMUP) accept.push(performance.now() - started);
}
report('chat: quota_exceeded before a message is accepted', accept);

// A conversation's start: the insert with its quota spend, and without (trigger disabled).
async function starts(): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const started = performance.now();
    await conversation();
    if (i >= WARMUP) samples.push(performance.now() - started);
  }
  return samples;
}
const withSpend = await starts();
// As the database owner, which the service role is not.
await local.pg.exec('alter table public.conversations disable trigger conversations_spend_quota');
const withoutSpend = await starts();
await local.pg.exec('alter table public.conversations enable trigger conversations_spend_quota');
report('conversation start, with its quota spend', withSpend);
report('conversation start, without', withoutSpend);
console.log(
  `  ${'added per conversation'.padEnd(52)} p50 ${ms(percentile(withSpend, 50) - percentile(withoutSpend, 50))}  p95 ${ms(percentile(withSpend, 95) - percentile(withoutSpend, 95))}`,
);

// 50 reservations for the last unit: how long until all are decided, and how many won.
const { id: tight } = await db.asService(async (sql) => {
  await sql.query(
    `insert into public.plans (id, name, limits) values ('bench-tight', 'Bench', '{"bot_replies_per_month": 100}')`,
  );
  return one<{ id: string }>(
    sql,
    `insert into public.tenants (name, slug, plan_id) values ('Tight', 'bench-tight', 'bench-tight') returning id`,
  );
});
await db.asService((sql) =>
  sql.query(
    `insert into public.usage_counters (tenant_id, metric, period_start, used)
     values ($1, 'bot_replies_per_month', date_trunc('month', now() at time zone 'utc')::date, 99)`,
    [tight],
  ),
);
const started = performance.now();
const results = await Promise.all(
  Array.from({ length: 50 }, () =>
    db.asService(async (sql) => {
      const row = await one<{ ok: boolean }>(
        sql,
        `select private.spend_quota($1, 'bot_replies_per_month', 1, gen_random_uuid()::text) as ok`,
        [tight],
      );
      return row.ok;
    }),
  ),
);
console.log(
  `  ${'50 concurrent spends for the last unit'.padEnd(52)} ${ms(performance.now() - started)} in all, ${results.filter(Boolean).length} won`,
);

await local.close();
