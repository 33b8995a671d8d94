import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { userClaims } from '../support/world.ts';

// private.run_retention(p_now): usage is aggregated into usage_daily, then messages past the
// plan's retention, tool executions past 90 days, finished jobs, old Stripe event ids and idle
// anonymous users are deleted. Plus the pg_cron schedules and the pg_net call that drive it.
//
// Everything is dated relative to NOW, today at 12:00 UTC, and run_retention gets NOW as p_now,
// so the UTC-midnight cut-offs fall in the same place whenever the suite runs.

const DAY = 86_400_000;
const today = new Date();
const NOW = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 12));
/** NOW minus so many days (and hours). */
const ago = (days: number, hours = 0) => new Date(NOW.getTime() - days * DAY - hours * 3_600_000);
/** UTC midnight starting the day `days` before NOW's. */
const dayStart = (days: number) => new Date(NOW.getTime() - 12 * 3_600_000 - days * DAY);
/** usage_daily.day for the date `days` before NOW's (dates come back as UTC midnight). */
const day = dayStart;

let local: LocalDatabase;
let db: Db;

interface Fixture {
  free: string;
  pro: string;
  unset: string;
  users: Record<
    | 'idle'
    | 'idleNoConversation'
    | 'recentConversation'
    | 'openConversation'
    | 'fresh'
    | 'signedIn'
    | 'member',
    string
  >;
  conversations: Record<'idle' | 'recent' | 'open', string>;
  messages: Record<string, string>;
  toolExecutions: Record<'d91a' | 'd91b' | 'd91c' | 'd89' | 'd40a' | 'd40b', string>;
  jobs: Record<
    'succeeded8' | 'succeeded1' | 'dead31' | 'dead29' | 'queuedOld' | 'runningOld',
    number
  >;
  stripe: Record<'d100' | 'd80', string>;
}

let fx: Fixture;
let firstRun: Record<string, number>;
let usageAfterFirstRun: UsageRow[];

interface UsageRow {
  tenant_id: string;
  day: Date;
  conversations_started: number;
  user_messages: number;
  bot_messages: number;
  agent_messages: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: string;
  tool_calls: number;
  tool_failures: number;
}

const USAGE_SQL = `select tenant_id, day, conversations_started, user_messages, bot_messages,
    agent_messages, tokens_in, tokens_out, cost_usd, tool_calls, tool_failures
  from public.usage_daily order by tenant_id, day`;

function svc<T = Record<string, unknown>>(text: string, params: unknown[] = []) {
  return db.asService((sql) => sql.query<T>(text, params));
}

async function one<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T> {
  const [row] = await sql.query<T>(text, params);
  if (!row) throw new Error(`no row from: ${text}`);
  return row;
}

async function tenant(sql: Sql, slug: string, plan: string) {
  return (
    await one<{ id: string }>(
      sql,
      `insert into public.tenants (name, slug, plan_id) values ($1, $1, $2) returning id`,
      [slug, plan],
    )
  ).id;
}

// auth.users belongs to Auth (GoTrue), not to the API roles: written here as the owner, directly.
async function user(o: { anonymous: boolean; createdAt: Date; lastSignInAt: Date | null }) {
  const { rows } = await local.pg.query<{ id: string }>(
    `insert into auth.users (email, is_anonymous, raw_app_meta_data, created_at, last_sign_in_at)
     values ($1, $2, $3, $4, $5) returning id`,
    [
      o.anonymous ? null : `${crypto.randomUUID()}@example.test`,
      o.anonymous,
      JSON.stringify({ provider: o.anonymous ? 'anonymous' : 'email' }),
      o.createdAt,
      o.lastSignInAt,
    ],
  );
  if (!rows[0]) throw new Error('no user');
  return rows[0].id;
}

async function conversation(
  sql: Sql,
  tenantId: string,
  createdAt: Date,
  o: { visitor?: string | null; status?: string } = {},
): Promise<string> {
  return (
    await one<{ id: string }>(
      sql,
      `insert into public.conversations (tenant_id, visitor_id, status, created_at)
       values ($1, $2, $3, $4) returning id`,
      [tenantId, o.visitor ?? null, o.status ?? 'bot', createdAt],
    )
  ).id;
}

async function message(
  sql: Sql,
  conversationId: string,
  role: 'user' | 'assistant' | 'agent' | 'system',
  createdAt: Date,
  usage: { tokensIn?: number; tokensOut?: number; cost?: string } = {},
): Promise<string> {
  return (
    await one<{ id: string }>(
      sql,
      `insert into public.messages
         (conversation_id, tenant_id, role, content, tokens_in, tokens_out, cost_usd, created_at)
       select id, tenant_id, $2, $3, $4, $5, $6::numeric, $7 from public.conversations where id = $1
       returning id`,
      [
        conversationId,
        role,
        `${role} at ${createdAt.toISOString()}`,
        usage.tokensIn ?? 0,
        usage.tokensOut ?? 0,
        usage.cost ?? '0',
        createdAt,
      ],
    )
  ).id;
}

async function toolExecution(sql: Sql, tenantId: string, createdAt: Date, success: boolean) {
  return (
    await one<{ id: string }>(
      sql,
      `insert into public.tool_executions (tenant_id, tool_name, call_id, success, created_at)
       values ($1, 'order_status', gen_random_uuid()::text, $2, $3) returning id`,
      [tenantId, success, createdAt],
    )
  ).id;
}

async function finishedJob(sql: Sql, status: string, finishedAt: Date | null, createdAt: Date) {
  return (
    await one<{ id: number }>(
      sql,
      `insert into public.jobs (kind, status, attempts, run_at, created_at, finished_at, last_error)
       values ('test.retention', $1, 1, $3, $3, $2, case when $1 = 'dead' then 'boom' end)
       returning id`,
      [status, finishedAt, createdAt],
    )
  ).id;
}

async function stripeEvent(sql: Sql, receivedAt: Date) {
  const id = `evt_${crypto.randomUUID().replaceAll('-', '')}`;
  await sql.query(
    `insert into public.stripe_events (id, type, created_at, received_at, payload)
     values ($1, 'invoice.paid', $2, $2, '{}')`,
    [id, receivedAt],
  );
  return id;
}

async function build(sql: Sql, users: Fixture['users']): Promise<Fixture> {
  await sql.query(
    `insert into public.plans (id, name, limits) values ('test_unset', 'No retention set', '{}')`,
  );
  const free = await tenant(sql, 'retention-free', 'free');
  const pro = await tenant(sql, 'retention-pro', 'pro');
  const unset = await tenant(sql, 'retention-unset', 'test_unset');

  const m: Record<string, string> = {};
  // Free tenant (30 days). Day -40: three conversations start; five messages in one of them.
  const idle = await conversation(sql, free, ago(40, 2), {
    visitor: users.idle,
    status: 'resolved',
  });
  const recent = await conversation(sql, free, ago(40, 1), {
    visitor: users.recentConversation,
    status: 'resolved',
  });
  const open = await conversation(sql, free, ago(40), { visitor: users.openConversation });
  m.f40user1 = await message(sql, idle, 'user', ago(40, 2));
  m.f40bot1 = await message(sql, idle, 'assistant', ago(40, 2), {
    tokensIn: 100,
    tokensOut: 40,
    cost: '0.001500',
  });
  m.f40user2 = await message(sql, idle, 'user', ago(40, 1));
  m.f40bot2 = await message(sql, idle, 'assistant', ago(40, 1), {
    tokensIn: 20,
    tokensOut: 10,
    cost: '0.000500',
  });
  m.f40agent = await message(sql, idle, 'agent', ago(40));
  m.f40system = await message(sql, idle, 'system', ago(40));
  m.f40open = await message(sql, open, 'user', ago(40));
  m.f40recent = await message(sql, recent, 'user', ago(40, 1));
  m.f5recent = await message(sql, recent, 'assistant', ago(5), {
    tokensIn: 9,
    tokensOut: 9,
    cost: '0.000009',
  });
  // Day -31 and the last second before the cut-off (23:59:59 on day -31): deleted.
  const c31 = await conversation(sql, free, ago(31, 1));
  m.f31user = await message(sql, c31, 'user', ago(31, 1));
  m.f31bot = await message(sql, c31, 'assistant', ago(31), {
    tokensIn: 7,
    tokensOut: 3,
    cost: '0.000100',
  });
  m.f31last = await message(sql, c31, 'user', new Date(dayStart(30).getTime() - 1000));
  // From the first second of day -30 on: kept.
  const c30 = await conversation(sql, free, dayStart(30));
  m.f30first = await message(sql, c30, 'user', dayStart(30));
  const c29 = await conversation(sql, free, ago(29));
  m.f29user = await message(sql, c29, 'user', ago(29));
  m.f29bot = await message(sql, c29, 'assistant', ago(29), {
    tokensIn: 5,
    tokensOut: 5,
    cost: '0.000050',
  });
  const c0 = await conversation(sql, free, ago(0, 1));
  m.f0user = await message(sql, c0, 'user', ago(0, 1));

  // Pro tenant (90 days): 40-day-old messages stay, 91-day-old ones go.
  const p91 = await conversation(sql, pro, ago(91));
  m.p91user = await message(sql, p91, 'user', ago(91));
  const p40 = await conversation(sql, pro, ago(40));
  m.p40user = await message(sql, p40, 'user', ago(40));
  m.p40bot = await message(sql, p40, 'assistant', ago(40), {
    tokensIn: 11,
    tokensOut: 22,
    cost: '0.0033',
  });

  // Tenant whose plan has no retention_days: the 30-day default.
  const u31 = await conversation(sql, unset, ago(31));
  m.u31user = await message(sql, u31, 'user', ago(31));
  const u29 = await conversation(sql, unset, ago(29));
  m.u29user = await message(sql, u29, 'user', ago(29));

  const toolExecutions = {
    d91a: await toolExecution(sql, free, ago(91), true),
    d91b: await toolExecution(sql, free, ago(91), true),
    d91c: await toolExecution(sql, free, ago(91), false),
    d89: await toolExecution(sql, free, ago(89), false),
    d40a: await toolExecution(sql, free, ago(40), true),
    d40b: await toolExecution(sql, free, ago(40), false),
  };

  const jobs = {
    succeeded8: await finishedJob(sql, 'succeeded', ago(8), ago(8)),
    succeeded1: await finishedJob(sql, 'succeeded', ago(1), ago(1)),
    dead31: await finishedJob(sql, 'dead', ago(31), ago(32)),
    dead29: await finishedJob(sql, 'dead', ago(29), ago(30)),
    // Unfinished jobs stay whatever their age.
    queuedOld: await finishedJob(sql, 'queued', null, ago(60)),
    runningOld: await finishedJob(sql, 'running', null, ago(60)),
  };

  const stripe = { d100: await stripeEvent(sql, ago(100)), d80: await stripeEvent(sql, ago(80)) };

  // A visitor's message reopens a resolved conversation, so the history above went into them
  // while they were open; they were resolved after their last message, as in real life.
  await sql.query(`update public.conversations set status = 'resolved' where id = any($1)`, [
    [idle, recent],
  ]);

  return {
    free,
    pro,
    unset,
    users,
    conversations: { idle, recent, open },
    messages: m,
    toolExecutions,
    jobs,
    stripe,
  };
}

const DELETED_MESSAGES = [
  'f40user1',
  'f40bot1',
  'f40user2',
  'f40bot2',
  'f40agent',
  'f40system',
  'f40open',
  'f40recent',
  'f31user',
  'f31bot',
  'f31last',
  'p91user',
  'u31user',
];
const KEPT_MESSAGES = [
  'f5recent',
  'f30first',
  'f29user',
  'f29bot',
  'f0user',
  'p40user',
  'p40bot',
  'u29user',
];

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  const users: Fixture['users'] = {
    // Anonymous, idle 40 days, only a resolved conversation last active 40 days ago: deleted.
    idle: await user({ anonymous: true, createdAt: ago(40), lastSignInAt: ago(40) }),
    // Anonymous, never signed in again, no conversation at all: deleted.
    idleNoConversation: await user({ anonymous: true, createdAt: ago(45), lastSignInAt: null }),
    // Anonymous, idle sign-in, but its (resolved) conversation had a message 5 days ago: kept.
    recentConversation: await user({ anonymous: true, createdAt: ago(40), lastSignInAt: ago(40) }),
    // Anonymous, idle, with an old conversation that is still open (status bot): kept.
    openConversation: await user({ anonymous: true, createdAt: ago(40), lastSignInAt: ago(40) }),
    // Anonymous, created 100 days ago, last signed in 29 days ago: kept.
    fresh: await user({ anonymous: true, createdAt: ago(100), lastSignInAt: ago(29) }),
    // Anonymous, created 100 days ago, signed in 2 days ago: kept.
    signedIn: await user({ anonymous: true, createdAt: ago(100), lastSignInAt: ago(2) }),
    // A real account idle for over a year: never touched.
    member: await user({ anonymous: false, createdAt: ago(400), lastSignInAt: ago(400) }),
  };
  fx = await db.asService((sql) => build(sql, users));
  expect(await svc('select count(*)::int as n from public.usage_daily')).toEqual([{ n: 0 }]);
  const [row] = await svc<{ r: Record<string, number> }>(
    'select private.run_retention($1::timestamptz) as r',
    [NOW],
  );
  firstRun = row?.r ?? {};
  usageAfterFirstRun = await svc<UsageRow>(USAGE_SQL);
});

afterAll(async () => {
  await local?.close();
});

async function existing(table: string, ids: readonly (string | number)[]) {
  const rows = await svc<{ id: string | number }>(
    `select id from public.${table} where id::text = any ($1::text[])`,
    [ids.map(String)],
  );
  return new Set(rows.map((r) => r.id));
}

function usage(tenantId: string, daysAgo: number): UsageRow | undefined {
  const d = day(daysAgo).getTime();
  return usageAfterFirstRun.find((u) => u.tenant_id === tenantId && u.day.getTime() === d);
}

const ZERO = {
  conversations_started: 0,
  user_messages: 0,
  bot_messages: 0,
  agent_messages: 0,
  tokens_in: 0,
  tokens_out: 0,
  cost_usd: '0.000000',
  tool_calls: 0,
  tool_failures: 0,
};

describe('run_retention', () => {
  it('reports what it deleted', () => {
    expect(firstRun).toEqual({
      messages: DELETED_MESSAGES.length,
      tool_executions: 3,
      jobs: 2,
      stripe_events: 1,
      anonymous_users: 2,
    });
  });

  it('deletes messages past the plan retention at UTC midnight and keeps the rest', async () => {
    const ids = (names: string[]) => names.map((n) => fx.messages[n] as string);
    expect(await existing('messages', ids(DELETED_MESSAGES))).toEqual(new Set());
    expect(await existing('messages', ids(KEPT_MESSAGES))).toEqual(new Set(ids(KEPT_MESSAGES)));
  });

  it('applies per-plan retention: pro keeps 90 days, a plan without retention_days keeps 30', async () => {
    expect(await svc('select private.retention_days($1) as d', [fx.pro])).toEqual([{ d: 90 }]);
    expect(await svc('select private.retention_days($1) as d', [fx.free])).toEqual([{ d: 30 }]);
    expect(await svc('select private.retention_days($1) as d', [fx.unset])).toEqual([{ d: 30 }]);
    const pro = await svc<{ id: string }>('select id from public.messages where tenant_id = $1', [
      fx.pro,
    ]);
    expect(new Set(pro.map((r) => r.id))).toEqual(
      new Set([fx.messages.p40user, fx.messages.p40bot]),
    );
  });

  it('deletes tool executions older than 90 days only', async () => {
    const t = fx.toolExecutions;
    expect(await existing('tool_executions', [t.d91a, t.d91b, t.d91c])).toEqual(new Set());
    expect(await existing('tool_executions', [t.d89, t.d40a, t.d40b])).toEqual(
      new Set([t.d89, t.d40a, t.d40b]),
    );
  });

  it('deletes succeeded jobs after 7 days and dead ones after 30, never unfinished ones', async () => {
    const j = fx.jobs;
    expect(await existing('jobs', [j.succeeded8, j.dead31])).toEqual(new Set());
    expect(await existing('jobs', [j.succeeded1, j.dead29, j.queuedOld, j.runningOld])).toEqual(
      new Set([j.succeeded1, j.dead29, j.queuedOld, j.runningOld]),
    );
  });

  it('deletes Stripe event ids after 90 days', async () => {
    expect(await existing('stripe_events', [fx.stripe.d100, fx.stripe.d80])).toEqual(
      new Set([fx.stripe.d80]),
    );
  });

  it('deletes idle anonymous users only, leaving their conversations to the tenant', async () => {
    const u = fx.users;
    const { rows } = await local.pg.query<{ id: string }>(
      'select id from auth.users where id = any ($1::uuid[])',
      [Object.values(u)],
    );
    expect(new Set(rows.map((r) => r.id))).toEqual(
      new Set([u.recentConversation, u.openConversation, u.fresh, u.signedIn, u.member]),
    );
    const conversations = await svc<{ id: string; tenant_id: string; visitor_id: string | null }>(
      'select id, tenant_id, visitor_id from public.conversations where id = any ($1::uuid[]) order by created_at',
      [Object.values(fx.conversations)],
    );
    expect(conversations).toEqual([
      { id: fx.conversations.idle, tenant_id: fx.free, visitor_id: null },
      { id: fx.conversations.recent, tenant_id: fx.free, visitor_id: u.recentConversation },
      { id: fx.conversations.open, tenant_id: fx.free, visitor_id: u.openConversation },
    ]);
  });

  it('aggregated usage before deleting: the deleted days are fully counted', () => {
    // Day -40 of the free tenant: 3 conversations; 4 user, 2 bot, 1 agent messages (the system
    // message counts in no column); tokens and cost of the two bot replies; 2 tool calls, 1 failed.
    expect(usage(fx.free, 40)).toEqual({
      tenant_id: fx.free,
      day: day(40),
      conversations_started: 3,
      user_messages: 4,
      bot_messages: 2,
      agent_messages: 1,
      tokens_in: 120,
      tokens_out: 50,
      cost_usd: '0.002000',
      tool_calls: 2,
      tool_failures: 1,
    });
    // Day -31, including the message one second before the cut-off.
    expect(usage(fx.free, 31)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(31),
      conversations_started: 1,
      user_messages: 2,
      bot_messages: 1,
      tokens_in: 7,
      tokens_out: 3,
      cost_usd: '0.000100',
    });
    // Day -91: only tool calls (those rows are gone now, too).
    expect(usage(fx.free, 91)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(91),
      tool_calls: 3,
      tool_failures: 1,
    });
    expect(usage(fx.pro, 91)).toEqual({
      ...ZERO,
      tenant_id: fx.pro,
      day: day(91),
      conversations_started: 1,
      user_messages: 1,
    });
    expect(usage(fx.unset, 31)).toEqual({
      ...ZERO,
      tenant_id: fx.unset,
      day: day(31),
      conversations_started: 1,
      user_messages: 1,
    });
  });

  it('also counts the days it keeps', () => {
    expect(usage(fx.free, 30)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(30),
      conversations_started: 1,
      user_messages: 1,
    });
    expect(usage(fx.free, 29)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(29),
      conversations_started: 1,
      user_messages: 1,
      bot_messages: 1,
      tokens_in: 5,
      tokens_out: 5,
      cost_usd: '0.000050',
    });
    expect(usage(fx.free, 5)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(5),
      bot_messages: 1,
      tokens_in: 9,
      tokens_out: 9,
      cost_usd: '0.000009',
    });
    expect(usage(fx.free, 0)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(0),
      conversations_started: 1,
      user_messages: 1,
    });
    expect(usage(fx.free, 89)).toEqual({
      ...ZERO,
      tenant_id: fx.free,
      day: day(89),
      tool_calls: 1,
      tool_failures: 1,
    });
    expect(usage(fx.pro, 40)).toEqual({
      ...ZERO,
      tenant_id: fx.pro,
      day: day(40),
      conversations_started: 1,
      user_messages: 1,
      bot_messages: 1,
      tokens_in: 11,
      tokens_out: 22,
      cost_usd: '0.003300',
    });
    // Nothing invented: one row per tenant and day that had activity.
    const days = (tenantId: string) =>
      usageAfterFirstRun.filter((u) => u.tenant_id === tenantId).map((u) => u.day.getTime());
    expect(days(fx.free).sort()).toEqual(
      [91, 89, 40, 31, 30, 29, 5, 0].map((d) => day(d).getTime()),
    );
    expect(days(fx.pro).sort()).toEqual([91, 40].map((d) => day(d).getTime()));
    expect(days(fx.unset).sort()).toEqual([31, 29].map((d) => day(d).getTime()));
  });

  it('is idempotent: a second run deletes nothing and leaves usage of deleted days intact', async () => {
    const [again] = await svc<{ r: Record<string, number> }>(
      'select private.run_retention($1::timestamptz) as r',
      [NOW],
    );
    expect(again?.r).toEqual({
      messages: 0,
      tool_executions: 0,
      jobs: 0,
      stripe_events: 0,
      anonymous_users: 0,
    });
    expect(await svc<UsageRow>(USAGE_SQL)).toEqual(usageAfterFirstRun);

    // The next day's run deletes day -30 (now -31) and still does not shrink anything.
    const [tomorrow] = await svc<{ r: Record<string, number> }>(
      'select private.run_retention($1::timestamptz) as r',
      [new Date(NOW.getTime() + DAY)],
    );
    expect(tomorrow?.r).toMatchObject({ messages: 1 });
    expect(await existing('messages', [fx.messages.f30first as string])).toEqual(new Set());
    expect(await svc<UsageRow>(USAGE_SQL)).toEqual(usageAfterFirstRun);
  });
});

// cron, net and vault are platform schemas: inspected here as the database owner (pg_cron runs a
// job as the user who scheduled it, the migration role), while invoke_worker is also called as
// the service role, which is granted it.
async function owner<T>(text: string, params: unknown[] = []): Promise<T[]> {
  return (await local.pg.query<T>(text, params)).rows;
}

describe('schedules', () => {
  it('pg_cron runs the worker every 10 seconds and retention daily', async () => {
    const jobs = await owner<{
      jobname: string;
      schedule: string;
      command: string;
      active: boolean;
    }>(
      `select jobname, schedule, command, active from cron.job
        where jobname in ('parley-retention', 'parley-worker') order by jobname`,
    );
    expect(jobs).toEqual([
      {
        jobname: 'parley-retention',
        // Once a day: fixed minute and hour, every day of every month.
        schedule: expect.stringMatching(/^\d{1,2} \d{1,2} \* \* \*$/),
        command: 'select private.run_retention()',
        active: true,
      },
      {
        jobname: 'parley-worker',
        schedule: '10 seconds',
        command: 'select private.invoke_worker()',
        active: true,
      },
    ]);
  });

  it('invoke_worker does nothing until both vault secrets exist', async () => {
    const count = 'select count(*)::int as n from net.http_request_queue';
    const before = await owner(count);
    expect(await svc('select private.invoke_worker() as id')).toEqual([{ id: null }]);
    await owner(
      `select vault.create_secret('http://127.0.0.1:9/functions/v1/worker', 'parley_worker_url')`,
    );
    expect(await svc('select private.invoke_worker() as id')).toEqual([{ id: null }]);
    expect(await owner(count)).toEqual(before);
  });

  it('with the secrets in Vault, it queues a POST to the worker with the service key', async () => {
    await owner(`select vault.create_secret('k', 'parley_service_role_key')`);
    const request = (id: unknown) =>
      owner(
        `select method, url, headers, convert_from(body, 'UTF8')::jsonb as body, timeout_milliseconds
           from net.http_request_queue where id = $1`,
        [id],
      );
    const expected = {
      method: 'POST',
      url: 'http://127.0.0.1:9/functions/v1/worker',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer k', apikey: 'k' },
      body: { source: 'pg_cron' },
      timeout_milliseconds: 30000,
    };

    const [viaService] = await svc<{ id: number }>('select private.invoke_worker() as id');
    expect(typeof viaService?.id).toBe('number');
    expect(await request(viaService?.id)).toEqual([expected]);

    // Exactly what pg_cron runs.
    const [job] = await owner<{ command: string }>(
      `select command from cron.job where jobname = 'parley-worker'`,
    );
    const [viaCron] = await owner<{ invoke_worker: number }>(job?.command ?? '');
    expect(viaCron?.invoke_worker).toBeGreaterThan(viaService?.id ?? 0);
    expect(await request(viaCron?.invoke_worker)).toEqual([expected]);
  });
});

describe('access from the API roles', () => {
  // Harmless arguments, so that a failure here cannot disturb the rest of the file.
  it.each([
    `select private.run_retention('1970-01-01')`,
    `select private.aggregate_usage('1970-01-01', '1970-01-01')`,
    'select private.invoke_worker()',
    `select private.retention_days('00000000-0000-4000-8000-000000000000')`,
  ])('an authenticated user cannot run %s', async (call) => {
    const claims = userClaims(fx.users.signedIn, true);
    await expect(db.asUser(claims, (sql) => sql.query(call))).rejects.toMatchObject({
      code: '42501',
    });
    await expect(db.asUser({ role: 'anon' }, (sql) => sql.query(call))).rejects.toMatchObject({
      code: '42501',
    });
  });
});
