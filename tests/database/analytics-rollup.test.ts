import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createWorld, type World } from '../support/world.ts';

// analytics_daily reads hourly roll-ups kept by triggers (supabase/migrations/*_analytics_rollups.sql).
// Here a seeded random history of conversations, messages and tool calls is written, edited and
// partly deleted, statement by statement and in bulk, and after every round the function's answer
// must equal the same figures computed from the rows themselves, in zones whose days start on the
// hour and in zones whose days start on a half or a quarter hour.

let local: LocalDatabase;
let db: Db;
let w: World;

const SEED = Number(process.env.ROLLUP_SEED ?? 20261202);
const FROM = '2026-03-01';
const TO = '2026-03-31';
const ZONES = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Chatham',
];

// mulberry32: a small seeded generator, so a failure can be replayed with ROLLUP_SEED.
const random = (() => {
  let a = SEED >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
})();
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const chance = (p: number) => random() < p;
const int = (max: number) => Math.floor(random() * (max + 1));
const RANGE_START = Date.parse('2026-02-28T00:00:00Z');
const RANGE_MS = Date.parse('2026-04-02T00:00:00Z') - RANGE_START;
// Instants often near a half or quarter hour, where zones like Asia/Kolkata cut a UTC hour in two.
const instant = () => {
  const t = RANGE_START + Math.floor(random() * RANGE_MS);
  return new Date(chance(0.3) ? t - (t % 900_000) + pick([-1000, 0, 1000]) : t);
};

const COLUMNS = `to_char(day, 'YYYY-MM-DD') as day, conversations, bot_only, deflection_rate,
  user_messages, bot_messages, agent_messages, tokens_in::text, tokens_out::text, cost_usd::text,
  tool_calls, tool_successes, tool_success_rate`;

// The definition of the figures, read from every row: the function's first version.
const RAW = `
  with days as (
    select d::date as day from generate_series($2::date, $3::date, interval '1 day') d
  ),
  b as (
    select $2::date::timestamp at time zone $4 as starts, ($3::date + 1)::timestamp at time zone $4 as ends
  ),
  convs as (
    select (c.created_at at time zone $4)::date as day,
           count(*)::int as started,
           count(*) filter (
             where c.handoff_at is null and c.assignee_id is null
               and exists (select 1 from public.messages m
                            where m.conversation_id = c.id and m.role = 'assistant')
               and not exists (select 1 from public.messages m
                                where m.conversation_id = c.id and m.role = 'agent')
           )::int as bot_only
      from public.conversations c, b
     where c.tenant_id = $1 and c.created_at >= b.starts and c.created_at < b.ends
     group by 1
  ),
  msgs as (
    select (m.created_at at time zone $4)::date as day,
           count(*) filter (where m.role = 'user')::int as user_messages,
           count(*) filter (where m.role = 'assistant')::int as bot_messages,
           count(*) filter (where m.role = 'agent' and not m.is_private)::int as agent_messages,
           coalesce(sum(m.tokens_in), 0)::bigint as tokens_in,
           coalesce(sum(m.tokens_out), 0)::bigint as tokens_out,
           coalesce(sum(m.cost_usd), 0)::numeric as cost_usd
      from public.messages m, b
     where m.tenant_id = $1 and m.created_at >= b.starts and m.created_at < b.ends
     group by 1
  ),
  tools as (
    select (e.created_at at time zone $4)::date as day,
           count(*)::int as calls,
           count(*) filter (where e.success)::int as successes
      from public.tool_executions e, b
     where e.tenant_id = $1 and e.created_at >= b.starts and e.created_at < b.ends
     group by 1
  ),
  result as (
    select d.day,
           coalesce(c.started, 0) as conversations,
           coalesce(c.bot_only, 0) as bot_only,
           case when c.started > 0 then round(c.bot_only::numeric / c.started, 4)::float8 end
             as deflection_rate,
           coalesce(m.user_messages, 0) as user_messages,
           coalesce(m.bot_messages, 0) as bot_messages,
           coalesce(m.agent_messages, 0) as agent_messages,
           coalesce(m.tokens_in, 0::bigint) as tokens_in,
           coalesce(m.tokens_out, 0::bigint) as tokens_out,
           round(coalesce(m.cost_usd, 0), 6) as cost_usd,
           coalesce(t.calls, 0) as tool_calls,
           coalesce(t.successes, 0) as tool_successes,
           case when t.calls > 0 then round(t.successes::numeric / t.calls, 4)::float8 end
             as tool_success_rate
      from days d
      left join convs c on c.day = d.day
      left join msgs m on m.day = d.day
      left join tools t on t.day = d.day
  )
  select ${COLUMNS} from result order by day`;

const service = <T>(fn: (sql: Sql) => Promise<T>) => db.asService(fn);

const compare = async (tenantId: string, round: string) => {
  for (const zone of ZONES) {
    const expected = await service((sql) => sql.query(RAW, [tenantId, FROM, TO, zone]));
    const actual = await db.asUser(w.claims.ownerA, (sql) =>
      sql.query(`select ${COLUMNS} from public.analytics_daily($1, $2::date, $3::date, $4)`, [
        tenantId,
        FROM,
        TO,
        zone,
      ]),
    );
    expect(actual, `${round}, ${zone}, seed ${SEED}`).toEqual(expected);
  }
};

const ROLES = ['user', 'user', 'assistant', 'assistant', 'agent', 'note', 'system'] as const;

/** Writes conversations with their messages and tool calls, each kind in one statement. */
const addConversations = async (tenantId: string, count: number) => {
  const created = Array.from({ length: count }, instant);
  const conversations = await service((sql) =>
    sql.query<{ id: string; created_at: Date }>(
      `insert into public.conversations (tenant_id, created_at, handoff_at, assignee_id)
       select $1, c, case when h then c + interval '5 minutes' end, case when a then $4::uuid end
         from unnest($2::timestamptz[], $3::boolean[], $5::boolean[]) as x (c, h, a)
       returning id, created_at`,
      [
        tenantId,
        created,
        created.map(() => chance(0.15)),
        tenantId === w.a.tenantId ? w.users.agentA : null,
        created.map(() => tenantId === w.a.tenantId && chance(0.1)),
      ],
    ),
  );
  const m = {
    conversation: [] as string[],
    role: [] as string[],
    note: [] as boolean[],
    at: [] as Date[],
    tin: [] as number[],
    tout: [] as number[],
    cost: [] as string[],
  };
  const tools = { conversation: [] as string[], at: [] as Date[], ok: [] as boolean[] };
  for (const c of conversations) {
    const start = new Date(c.created_at).getTime();
    const n = int(6);
    for (let i = 0; i < n; i++) {
      const role = pick(ROLES);
      const bot = role === 'assistant';
      m.conversation.push(c.id);
      m.role.push(role === 'note' ? 'agent' : role);
      m.note.push(role === 'note');
      // Replies up to two hours later: past midnight in some zone now and then.
      m.at.push(new Date(start + int(7_200_000)));
      m.tin.push(bot ? int(500) : 0);
      m.tout.push(bot ? int(200) : 0);
      m.cost.push(bot ? (int(5000) / 1_000_000).toFixed(6) : '0');
    }
    for (let i = int(2); i > 0; i--) {
      tools.conversation.push(c.id);
      tools.at.push(new Date(start + int(3_600_000)));
      tools.ok.push(chance(0.7));
    }
  }
  await service(async (sql) => {
    await sql.query(
      `insert into public.messages
         (conversation_id, role, content, is_private, created_at, tokens_in, tokens_out, cost_usd)
       select c, r, 'x', p, t, i, o, k
         from unnest($1::uuid[], $2::text[], $3::boolean[], $4::timestamptz[], $5::int[], $6::int[],
                     $7::numeric[]) as x (c, r, p, t, i, o, k)`,
      [m.conversation, m.role, m.note, m.at, m.tin, m.tout, m.cost],
    );
    await sql.query(
      `insert into public.tool_executions (tenant_id, conversation_id, tool_name, call_id, success, created_at)
       select $1, c, 'order_status', gen_random_uuid()::text, s, t
         from unnest($2::uuid[], $3::timestamptz[], $4::boolean[]) as x (c, t, s)`,
      [tenantId, tools.conversation, tools.at, tools.ok],
    );
  });
  return conversations.map((c) => c.id);
};

const sample = async (query: string, params: unknown[], share: number) => {
  const rows = await service((sql) => sql.query<{ id: string }>(query, params));
  return rows.map((r) => r.id).filter(() => chance(share));
};

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

describe('analytics roll-ups', () => {
  it('answer as the rows do after random writes, edits and deletions, in every kind of zone', async () => {
    const a = w.a.tenantId;
    await addConversations(a, 80);
    // Another tenant's activity in the same hours must not count.
    await addConversations(w.b.tenantId, 20);
    await compare(a, 'after bulk inserts');

    // One row at a time, as the chat writes them.
    const ids = await addConversations(a, 5);
    for (const id of ids) {
      await service((sql) =>
        sql.query(
          `insert into public.messages (conversation_id, role, content, created_at, tokens_in, cost_usd)
           values ($1, 'assistant', 'one more', $2, 7, 0.000123)`,
          [id, instant()],
        ),
      );
    }
    await compare(a, 'after single inserts');

    const messages = `select id from public.messages where tenant_id = $1 order by id`;
    const conversations = `select id from public.conversations where tenant_id = $1 and created_at < '2026-04-03' order by id`;
    const toolRuns = `select id from public.tool_executions where tenant_id = $1 order by id`;
    for (let round = 1; round <= 3; round++) {
      // Late token counts and costs, a note made visible or hidden, a reply re-authored, backdating.
      for (const id of await sample(messages, [a], 0.1)) {
        await service((sql) =>
          sql.query(
            `update public.messages set tokens_in = $2, tokens_out = $3, cost_usd = $4 where id = $1`,
            [id, int(900), int(300), (int(9000) / 1_000_000).toFixed(6)],
          ),
        );
      }
      // Samples are drawn before the transaction: the database runs one at a time.
      const edits = {
        notes: await sample(messages, [a], 0.1),
        authors: await sample(messages, [a], 0.05),
        backdated: await sample(messages, [a], 0.05),
        handoffs: await sample(conversations, [a], 0.1),
        assigned: await sample(conversations, [a], 0.1),
        rated: await sample(conversations, [a], 0.2),
        moved: await sample(conversations, [a], 0.05),
        tools: await sample(toolRuns, [a], 0.2),
      };
      await service(async (sql) => {
        await sql.query(
          `update public.messages set is_private = not is_private
            where id = any ($1::uuid[]) and role = 'agent'`,
          [edits.notes],
        );
        await sql.query(
          `update public.messages set role = case role when 'assistant' then 'agent' else 'assistant' end
            where id = any ($1::uuid[]) and role in ('assistant', 'agent')`,
          [edits.authors],
        );
        await sql.query(
          `update public.messages set created_at = created_at - interval '97 minutes'
            where id = any ($1::uuid[])`,
          [edits.backdated],
        );
        // Handoffs, assignments and their removal, ratings, a conversation moved in time.
        await sql.query(
          `update public.conversations set handoff_at = case when handoff_at is null then now() end
            where id = any ($1::uuid[])`,
          [edits.handoffs],
        );
        await sql.query(
          `update public.conversations set assignee_id = case when assignee_id is null then $2::uuid end
            where id = any ($1::uuid[])`,
          [edits.assigned, w.users.agentA],
        );
        await sql.query(`update public.conversations set csat = 4 where id = any ($1::uuid[])`, [
          edits.rated,
        ]);
        await sql.query(
          `update public.conversations set created_at = created_at + interval '45 minutes'
            where id = any ($1::uuid[])`,
          [edits.moved],
        );
        await sql.query(
          `update public.tool_executions set success = not success where id = any ($1::uuid[])`,
          [edits.tools],
        );
      });
      await compare(a, `round ${round}: after edits`);

      // Retention removes old messages in one statement; conversations and tool calls are deleted.
      const removed = {
        messages: await sample(messages, [a], 0.05),
        conversations: await sample(conversations, [a], 0.08),
        tools: await sample(toolRuns, [a], 0.1),
      };
      await service(async (sql) => {
        await sql.query(
          `delete from public.messages where tenant_id = $1 and created_at < $2 and random() < 0.5`,
          [a, new Date(RANGE_START + (round * RANGE_MS) / 6)],
        );
        await sql.query(`delete from public.messages where id = any ($1::uuid[])`, [
          removed.messages,
        ]);
        await sql.query(`delete from public.conversations where id = any ($1::uuid[])`, [
          removed.conversations,
        ]);
        await sql.query(`delete from public.tool_executions where id = any ($1::uuid[])`, [
          removed.tools,
        ]);
      });
      await compare(a, `round ${round}: after deletions`);
      await addConversations(a, 15);
      await compare(a, `round ${round}: after more conversations`);
    }

    // Nothing in the roll-up went below zero on the way.
    const [negative] = await service((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.analytics_hourly
          where least(conversations, bot_only, user_messages, bot_messages, agent_messages,
                      tool_calls, tool_successes) < 0 or least(tokens_in, tokens_out) < 0
             or cost_usd < 0`,
      ),
    );
    expect(negative?.n).toBe(0);

    // Recounting from the rows (after a bulk load with triggers off) gives the same roll-up.
    const hourly = `select hour, conversations, bot_only, user_messages, bot_messages, agent_messages,
        tokens_in::text, tokens_out::text, cost_usd::float8, tool_calls, tool_successes
        from public.analytics_hourly
       where tenant_id = $1
         and (conversations, bot_only, user_messages, bot_messages, agent_messages, tool_calls,
              tool_successes, tokens_in, tokens_out, cost_usd) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
       order by hour`;
    const kept = await service((sql) => sql.query(hourly, [a]));
    await service((sql) => sql.query('select private.analytics_rebuild($1)', [a]));
    expect(await service((sql) => sql.query(hourly, [a]))).toEqual(kept);
    await compare(a, 'after a rebuild');

    // Deleting a tenant takes its conversations, messages and roll-up with it.
    const [gone] = await service((sql) =>
      sql.query<{ id: string }>(
        `insert into public.tenants (name, slug) values ('Gone', 'gone-analytics') returning id`,
      ),
    );
    const goneId = gone?.id as string;
    await addConversations(goneId, 10);
    await service((sql) => sql.query('delete from public.tenants where id = $1', [goneId]));
    // As the database owner: the per-conversation record is not the API roles' to read.
    const { rows: left } = await local.pg.query<{ hourly: number; state: number }>(
      `select (select count(*)::int from public.analytics_hourly where tenant_id = $1) as hourly,
              (select count(*)::int from private.analytics_conversations where tenant_id = $1) as state`,
      [goneId],
    );
    expect(left).toEqual([{ hourly: 0, state: 0 }]);
  }, 300_000);

  it('is written by triggers only: an owner can neither add nor change a roll-up row', async () => {
    const codes: (string | undefined)[] = [];
    for (const statement of [
      `insert into public.analytics_hourly (tenant_id, hour, conversations) values ($1, '2026-03-02T00:00:00Z', 1000)`,
      `update public.analytics_hourly set conversations = conversations + 1000 where tenant_id = $1`,
      `delete from public.analytics_hourly where tenant_id = $1`,
    ]) {
      codes.push(
        await db
          .asUser(w.claims.ownerA, (sql) => sql.query(statement, [w.a.tenantId]))
          .then(
            () => 'ok',
            (error) => (error as { code?: string }).code,
          ),
      );
    }
    codes.push(
      await db
        .asUser(w.claims.ownerA, (sql) =>
          sql.query('select private.analytics_rebuild($1)', [w.a.tenantId]),
        )
        .then(
          () => 'ok',
          (error) => (error as { code?: string }).code,
        ),
    );
    expect(codes).toEqual(['42501', '42501', '42501', '42501']);
    // The owner reads its own rows, and no other tenant's.
    const rows = await db.asUser(w.claims.ownerA, (sql) =>
      sql.query<{ tenant_id: string }>('select distinct tenant_id from public.analytics_hourly'),
    );
    expect(rows.map((r) => r.tenant_id)).toEqual([w.a.tenantId]);
    const agentRows = await db.asUser(w.claims.agentA, (sql) =>
      sql.query('select 1 from public.analytics_hourly'),
    );
    expect(agentRows).toEqual([]);
  });
});
