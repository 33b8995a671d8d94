import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createWorld, type World } from '../support/world.ts';

// analytics_daily, conversation_metrics_daily and conversation_metrics_by_agent read roll-ups kept by
// triggers (supabase/migrations/*_analytics_rollups.sql, *_analytics_metrics_rollups.sql). Here a
// seeded random history of conversations (some of them Playground ones, which never count),
// messages and tool calls is written, edited and partly deleted, statement by statement and in
// bulk, and after every round each function's answer must equal the same figures computed from the
// rows themselves, in zones whose days start on the hour and in zones whose days start on a half or
// a quarter hour.

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
       and c.playground_by is null
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
       and not exists (select 1 from public.conversations p
                        where p.id = m.conversation_id and p.playground_by is not null)
     group by 1
  ),
  tools as (
    select (e.created_at at time zone $4)::date as day,
           count(*)::int as calls,
           count(*) filter (where e.success)::int as successes
      from public.tool_executions e, b
     where e.tenant_id = $1 and e.created_at >= b.starts and e.created_at < b.ends
       and not exists (select 1 from public.conversations p
                        where p.id = e.conversation_id and p.playground_by is not null)
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

// The support metrics' definition, read from every conversation and message: their first version
// (supabase/migrations/*_metrics.sql), with exact decimal means and without Playground conversations.
const FACTS = `
  select c.id, (c.created_at at time zone $4)::date as day, c.assignee_id,
         c.handoff_at is not null as handed_off,
         extract(epoch from reply.at - start.at) as first_response,
         case when c.status = 'resolved' and c.resolved_at is not null
              then extract(epoch from c.resolved_at - c.created_at) end as resolution,
         c.csat
    from public.conversations c
    cross join lateral (
      select coalesce(c.handoff_at, (select min(m.created_at) from public.messages m
                                      where m.conversation_id = c.id and m.role = 'user')) as at
    ) start
    left join lateral (
      select min(m.created_at) as at from public.messages m
       where m.conversation_id = c.id and m.role = 'agent' and not m.is_private
         and m.created_at >= start.at
    ) reply on true
   where c.tenant_id = $1 and c.playground_by is null
     and c.created_at >= ($2::date::timestamp at time zone $4)
     and c.created_at < (($3::date + 1)::timestamp at time zone $4)`;

const METRIC_COLUMNS = `to_char(day, 'YYYY-MM-DD') as day, conversations, handoffs, handoff_rate,
  first_response_seconds, first_response_p90_seconds, resolved, resolution_seconds, csat_count,
  csat_average`;

const RAW_METRICS = `
  with f as (${FACTS}),
  result as (
    select d.day::date as day,
           count(f.id)::int as conversations,
           count(*) filter (where f.handed_off)::int as handoffs,
           case when count(f.id) > 0
                then round(count(*) filter (where f.handed_off)::numeric / count(f.id), 4)::float8
           end as handoff_rate,
           round(avg(f.first_response), 1)::float8 as first_response_seconds,
           round((percentile_cont(0.9) within group (order by f.first_response::float8))::numeric, 1)::float8
             as first_response_p90_seconds,
           count(f.resolution)::int as resolved,
           round(avg(f.resolution), 1)::float8 as resolution_seconds,
           count(f.csat)::int as csat_count,
           round(avg(f.csat), 2)::float8 as csat_average
      from generate_series($2::date, $3::date, interval '1 day') as d (day)
      left join f on f.day = d.day::date
     group by d.day
  )
  select ${METRIC_COLUMNS} from result order by day`;

const RAW_BY_AGENT = `
  with f as (${FACTS})
  select f.assignee_id as agent_id, tm.display_name, count(*)::int as conversations,
         round(avg(f.first_response), 1)::float8 as first_response_seconds,
         count(f.resolution)::int as resolved,
         round(avg(f.resolution), 1)::float8 as resolution_seconds,
         count(f.csat)::int as csat_count,
         round(avg(f.csat), 2)::float8 as csat_average
    from f
    left join public.tenant_members tm on tm.tenant_id = $1 and tm.user_id = f.assignee_id
   where f.assignee_id is not null
   group by f.assignee_id, tm.display_name
   order by count(*) desc, f.assignee_id`;

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
    const args = [tenantId, FROM, TO, zone];
    const metrics = await db.asUser(w.claims.ownerA, (sql) =>
      sql.query(
        `select ${METRIC_COLUMNS} from public.conversation_metrics_daily($1, $2::date, $3::date, $4)`,
        args,
      ),
    );
    expect(metrics, `metrics: ${round}, ${zone}, seed ${SEED}`).toEqual(
      await service((sql) => sql.query(RAW_METRICS, args)),
    );
    const byAgent = await db.asUser(w.claims.ownerA, (sql) =>
      sql.query(
        'select * from public.conversation_metrics_by_agent($1, $2::date, $3::date, $4)',
        args,
      ),
    );
    expect(byAgent, `by agent: ${round}, ${zone}, seed ${SEED}`).toEqual(
      await service((sql) => sql.query(RAW_BY_AGENT, args)),
    );
  }
};

const ROLES = ['user', 'user', 'assistant', 'assistant', 'agent', 'note', 'system'] as const;

/** Writes conversations with their messages and tool calls, each kind in one statement. */
const addConversations = async (tenantId: string, count: number) => {
  const created = Array.from({ length: count }, instant);
  const ours = tenantId === w.a.tenantId;
  // Resolved some minutes to hours after the start, rated 1 to 5, assigned to one of two people,
  // opened from the Playground.
  const conversations = await service((sql) =>
    sql.query<{ id: string; created_at: Date }>(
      `insert into public.conversations
         (tenant_id, created_at, handoff_at, assignee_id, status, resolved_at, csat, playground_by)
       select $1, c, case when h then c + interval '5 minutes' end, a,
              case when r is null then 'open' else 'resolved' end,
              c + (r || ' seconds')::interval, s, p
         from unnest($2::timestamptz[], $3::boolean[], $4::uuid[], $5::int[], $6::smallint[],
                     $7::uuid[]) as x (c, h, a, r, s, p)
       returning id, created_at`,
      [
        tenantId,
        created,
        created.map(() => chance(0.15)),
        created.map(() => (ours && chance(0.15) ? pick([w.users.agentA, w.users.adminA]) : null)),
        created.map(() => (chance(0.3) ? int(20_000) : null)),
        created.map(() => (chance(0.2) ? 1 + int(4) : null)),
        created.map(() => (ours && chance(0.1) ? w.users.ownerA : null)),
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
      for (const role of ['assistant', 'user', 'agent']) {
        await service((sql) =>
          sql.query(
            `insert into public.messages (conversation_id, role, content, created_at, tokens_in, cost_usd)
             values ($1, $2, 'one more', $3, 7, 0.000123)`,
            [id, role, instant()],
          ),
        );
      }
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
        resolved: await sample(conversations, [a], 0.15),
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
        // Resolved now, or reopened (resolved_at stays, the status no longer says resolved).
        await sql.query(
          `update public.conversations
              set status = case status when 'resolved' then 'open' else 'resolved' end,
                  resolved_at = case when status = 'resolved' then resolved_at
                                     else created_at + interval '17 minutes 3.25 seconds' end
            where id = any ($1::uuid[])`,
          [edits.resolved],
        );
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
        conversations: [
          ...(await sample(conversations, [a], 0.08)),
          // Playground ones too: their messages and tool calls must leave no trace going.
          ...(await sample(
            `select id from public.conversations where tenant_id = $1 and playground_by is not null order by id`,
            [a],
            0.3,
          )),
        ],
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

    // Nothing in the roll-up went below zero on the way. (A time to resolve may: a conversation
    // moved later than its resolution here resolves before it starts, as its rows say.)
    const negative = await service((sql) =>
      sql.query(
        `select * from public.analytics_hourly
          where least(conversations, bot_only, user_messages, bot_messages, agent_messages,
                      tool_calls, tool_successes, handoffs, first_responses, resolved, csat_count,
                      csat_sum) < 0 or least(tokens_in, tokens_out) < 0
             or least(cost_usd, first_response_seconds) < 0`,
      ),
    );
    expect(negative).toEqual([]);

    // Recounting from the rows (after a bulk load with triggers off) gives the same roll-up.
    const hourly = `select hour, conversations, bot_only, user_messages, bot_messages, agent_messages,
        tokens_in::text, tokens_out::text, cost_usd::float8, tool_calls, tool_successes, handoffs,
        first_responses, first_response_seconds::float8, resolved, resolution_seconds::float8,
        csat_count, csat_sum
        from public.analytics_hourly
       where tenant_id = $1
         and (conversations, bot_only, user_messages, bot_messages, agent_messages, tool_calls,
              tool_successes, tokens_in, tokens_out, cost_usd, handoffs, first_responses,
              first_response_seconds, resolved, resolution_seconds, csat_count, csat_sum)
             <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
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

  it("a Playground conversation counts nowhere, a customer's like it does", async () => {
    const a = w.a.tenantId;
    const day = ['2026-06-14', '2026-06-16', 'Asia/Kolkata'];
    const figures = async () => ({
      daily: await db.asUser(w.claims.ownerA, (sql) =>
        sql.query(`select ${COLUMNS} from public.analytics_daily($1, $2::date, $3::date, $4)`, [
          a,
          ...day,
        ]),
      ),
      metrics: await db.asUser(w.claims.ownerA, (sql) =>
        sql.query(
          `select ${METRIC_COLUMNS} from public.conversation_metrics_daily($1, $2::date, $3::date, $4)`,
          [a, ...day],
        ),
      ),
      byAgent: await db.asUser(w.claims.ownerA, (sql) =>
        sql.query(
          'select * from public.conversation_metrics_by_agent($1, $2::date, $3::date, $4)',
          [a, ...day],
        ),
      ),
      hourly: await service((sql) =>
        sql.query(
          `select * from public.analytics_hourly
            where tenant_id = $1 and hour >= '2026-06-13' and hour < '2026-06-17' order by hour`,
          [a],
        ),
      ),
    });
    // A conversation with everything the figures count: a handoff at 05:20 UTC (10:50 in Kolkata),
    // an assignee, bot tokens and cost, a staff answer, a tool call, a rating and a resolution.
    const converse = (playgroundBy: string | null) =>
      service(async (sql) => {
        const [c] = await sql.query<{ id: string }>(
          `insert into public.conversations
             (tenant_id, created_at, handoff_at, assignee_id, playground_by)
           values ($1, '2026-06-15T05:15:00Z', '2026-06-15T05:20:00Z', $2, $3) returning id`,
          [a, w.users.agentA, playgroundBy],
        );
        const id = c?.id as string;
        await sql.query(
          `insert into public.messages (conversation_id, role, content, created_at, tokens_in, tokens_out, cost_usd)
           values ($1, 'user', 'where is my order', '2026-06-15T05:15:00Z', 0, 0, 0),
                  ($1, 'assistant', 'let me look', '2026-06-15T05:15:05Z', 120, 30, 0.0042)`,
          [id],
        );
        await sql.query(
          `insert into public.messages (conversation_id, role, content, created_at)
           values ($1, 'agent', 'here it is', '2026-06-15T05:21:30Z')`,
          [id],
        );
        await sql.query(
          `insert into public.tool_executions (tenant_id, conversation_id, tool_name, call_id, success, created_at)
           values ($1, $2, 'order_status', gen_random_uuid()::text, true, '2026-06-15T05:15:03Z')`,
          [a, id],
        );
        await sql.query(
          `update public.conversations set status = 'resolved', csat = 5 where id = $1`,
          [id],
        );
        return id;
      });

    const before = await figures();
    const staff = await service(async (sql) => {
      await sql.query(`select set_config('role', 'none', true)`);
      const [u] = await sql.query<{ id: string }>(
        `insert into auth.users (email) values ('playground-analytics@example.test') returning id`,
      );
      return u?.id as string;
    });
    const playground = await converse(staff);
    expect(await figures()).toEqual(before);

    // The mark is for good: otherwise a Playground conversation could turn into a customer's.
    const refused = await service((sql) =>
      sql.query('update public.conversations set playground_by = null where id = $1', [playground]),
    ).then(
      () => 'ok',
      (error) => (error as { code?: string }).code,
    );
    expect(refused).toBe('42501');

    await converse(null);
    const after = await figures();
    const daily = after.daily as { day: string; conversations: number; bot_messages: number }[];
    expect(daily.find((d) => d.day === '2026-06-15')).toMatchObject({
      conversations: 1,
      user_messages: 1,
      bot_messages: 1,
      agent_messages: 1,
      tokens_in: '120',
      cost_usd: '0.004200',
      tool_calls: 1,
      tool_successes: 1,
    });
    expect((after.metrics as { day: string }[]).find((d) => d.day === '2026-06-15')).toEqual({
      day: '2026-06-15',
      conversations: 1,
      handoffs: 1,
      handoff_rate: 1,
      first_response_seconds: 90,
      first_response_p90_seconds: 90,
      resolved: 1,
      // Resolving stamps resolved_at with the time it happened.
      resolution_seconds: expect.any(Number),
      csat_count: 1,
      csat_average: 5,
    });
    expect(after.byAgent).toEqual([
      expect.objectContaining({ agent_id: w.users.agentA, conversations: 1, csat_count: 1 }),
    ]);

    // The person who opened it leaves: the Playground conversation goes with them, nothing moves.
    await service(async (sql) => {
      await sql.query(`select set_config('role', 'none', true)`);
      await sql.query('delete from auth.users where id = $1', [staff]);
    });
    const [left] = await service((sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from public.conversations where id = $1',
        [playground],
      ),
    );
    expect(left?.n).toBe(0);
    expect(await figures()).toEqual(after);
  });
});
