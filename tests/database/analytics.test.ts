import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The analytics page's SQL (supabase/migrations/*_analytics.sql): the daily activity aggregate and
// the conversation history, over a fixed set of conversations in January, far from the world's own
// (made today), so every figure below is worked out by hand from the fixtures.

let local: LocalDatabase;
let db: Db;
let w: World;

const as = <T>(actor: Actor, fn: (sql: Sql) => Promise<T>) => db.asUser(w.claims[actor], fn);
const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (error) => codeOf(error),
  );

type Role = 'user' | 'assistant' | 'agent' | 'note';
interface Fixture {
  key: string;
  created: string;
  status?: 'bot' | 'handoff' | 'open' | 'resolved';
  channel?: 'web' | 'whatsapp';
  handoff?: string;
  assignee?: 'agentA';
  csat?: number;
  contact?: string;
  /** role, time, content, tokens in/out, cost */
  messages: [Role, string, string, number?, number?, number?][];
  tools?: [string, boolean][];
}

const FIXTURES: Fixture[] = [
  // The bot answered alone: deflected.
  {
    key: 'c1',
    created: '2026-01-10T10:00:00Z',
    csat: 5,
    contact: 'Zelda Quux',
    messages: [
      ['user', '2026-01-10T10:00:00Z', 'where are my boots'],
      ['assistant', '2026-01-10T10:00:05Z', 'on their way', 100, 20, 0.001],
    ],
    tools: [['2026-01-10T10:00:03Z', true]],
  },
  // The bot answered, then a person was asked for and joined; the note is not a message.
  {
    key: 'c2',
    created: '2026-01-10T12:00:00Z',
    status: 'open',
    channel: 'whatsapp',
    handoff: '2026-01-10T12:01:00Z',
    assignee: 'agentA',
    csat: 2,
    messages: [
      ['user', '2026-01-10T12:00:00Z', 'my parcel never arrived'],
      ['assistant', '2026-01-10T12:00:05Z', 'let me check', 200, 40, 0.002],
      ['agent', '2026-01-10T12:02:00Z', 'I am on it'],
      ['note', '2026-01-10T12:03:00Z', 'courier lost it'],
    ],
    tools: [['2026-01-10T12:00:03Z', false]],
  },
  // Nobody answered: neither deflected nor handed off.
  {
    key: 'c4',
    created: '2026-01-11T09:00:00Z',
    status: 'resolved',
    messages: [['user', '2026-01-11T09:00:00Z', 'hello?']],
  },
  // Late on the 11th in UTC, already the 12th in Tokyo; deflected.
  {
    key: 'c3',
    created: '2026-01-11T23:30:00Z',
    messages: [
      ['user', '2026-01-11T23:30:00Z', 'size chart please'],
      ['assistant', '2026-01-11T23:30:10Z', 'here it is', 50, 10, 0.0005],
    ],
    tools: [['2026-01-11T23:30:05Z', true]],
  },
];

const ids: Record<string, string> = {};

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  await db.asService(async (sql) => {
    const insertConversation = async (tenantId: string, f: Fixture) => {
      let contactId: string | null = null;
      if (f.contact) {
        const [ct] = await sql.query<{ id: string }>(
          `insert into public.contacts (tenant_id, identifier, name, email)
           values ($1, $2, $3, 'zelda@example.test') returning id`,
          [tenantId, `${f.key}-${tenantId.slice(0, 8)}`, f.contact],
        );
        contactId = ct?.id ?? null;
      }
      const [c] = await sql.query<{ id: string }>(
        `insert into public.conversations
           (tenant_id, status, channel, assignee_id, contact_id, created_at, handoff_at, csat)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id`,
        [
          tenantId,
          f.status ?? 'bot',
          f.channel ?? 'web',
          f.assignee ? w.users[f.assignee] : null,
          contactId,
          new Date(f.created),
          f.handoff ? new Date(f.handoff) : null,
          f.csat ?? null,
        ],
      );
      for (const [role, at, content, tokensIn, tokensOut, cost] of f.messages) {
        await sql.query(
          `insert into public.messages
             (conversation_id, role, content, is_private, created_at, tokens_in, tokens_out, cost_usd)
           values ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            c?.id,
            role === 'note' ? 'agent' : role,
            content,
            role === 'note',
            new Date(at),
            tokensIn ?? 0,
            tokensOut ?? 0,
            cost ?? 0,
          ],
        );
      }
      // After the messages: a visitor's message into a resolved conversation reopens it.
      await sql.query('update public.conversations set status = $2 where id = $1', [
        c?.id,
        f.status ?? 'bot',
      ]);
      for (const [at, success] of f.tools ?? []) {
        await sql.query(
          `insert into public.tool_executions (tenant_id, conversation_id, tool_name, call_id, success, created_at)
           values ($1, $2, 'order_status', $3, $4, $5)`,
          [tenantId, c?.id, crypto.randomUUID(), success, new Date(at)],
        );
      }
      return c?.id as string;
    };
    for (const f of FIXTURES) ids[f.key] = await insertConversation(w.a.tenantId, f);
    // Another tenant's activity on the same days must not count.
    for (const f of FIXTURES) {
      await insertConversation(w.b.tenantId, { ...f, contact: undefined, assignee: undefined });
    }
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const COLUMNS = `to_char(day, 'YYYY-MM-DD') as day, conversations, bot_only, deflection_rate,
  user_messages, bot_messages, agent_messages, tokens_in::int, tokens_out::int, cost_usd::float8,
  tool_calls, tool_successes, tool_success_rate`;

const daily = (actor: Actor, zone: string | null = 'UTC', from = '2026-01-10', to = '2026-01-12') =>
  as(actor, (sql) =>
    sql.query<Record<string, unknown>>(
      `select ${COLUMNS} from public.analytics_daily($1, $2::date, $3::date, $4)`,
      [w.a.tenantId, from, to, zone],
    ),
  );

const EMPTY_DAY = {
  conversations: 0,
  bot_only: 0,
  deflection_rate: null,
  user_messages: 0,
  bot_messages: 0,
  agent_messages: 0,
  tokens_in: 0,
  tokens_out: 0,
  cost_usd: 0,
  tool_calls: 0,
  tool_successes: 0,
  tool_success_rate: null,
};

describe('analytics per day', () => {
  it('counts conversations, deflection, messages, tokens, cost and tool calls per UTC day', async () => {
    expect(await daily('ownerA')).toEqual([
      {
        day: '2026-01-10',
        conversations: 2,
        bot_only: 1,
        deflection_rate: 0.5,
        user_messages: 2,
        bot_messages: 2,
        agent_messages: 1,
        tokens_in: 300,
        tokens_out: 60,
        cost_usd: 0.003,
        tool_calls: 2,
        tool_successes: 1,
        tool_success_rate: 0.5,
      },
      {
        day: '2026-01-11',
        conversations: 2,
        bot_only: 1,
        deflection_rate: 0.5,
        user_messages: 2,
        bot_messages: 1,
        agent_messages: 0,
        tokens_in: 50,
        tokens_out: 10,
        cost_usd: 0.0005,
        tool_calls: 1,
        tool_successes: 1,
        tool_success_rate: 1,
      },
      { day: '2026-01-12', ...EMPTY_DAY },
    ]);
  });

  it('days start at midnight in the zone asked for', async () => {
    const tokyo = await daily('adminA', 'Asia/Tokyo');
    expect(tokyo).toEqual([
      {
        day: '2026-01-10',
        conversations: 2,
        bot_only: 1,
        deflection_rate: 0.5,
        user_messages: 2,
        bot_messages: 2,
        agent_messages: 1,
        tokens_in: 300,
        tokens_out: 60,
        cost_usd: 0.003,
        tool_calls: 2,
        tool_successes: 1,
        tool_success_rate: 0.5,
      },
      {
        ...EMPTY_DAY,
        day: '2026-01-11',
        conversations: 1,
        deflection_rate: 0,
        user_messages: 1,
      },
      {
        day: '2026-01-12',
        conversations: 1,
        bot_only: 1,
        deflection_rate: 1,
        user_messages: 1,
        bot_messages: 1,
        agent_messages: 0,
        tokens_in: 50,
        tokens_out: 10,
        cost_usd: 0.0005,
        tool_calls: 1,
        tool_successes: 1,
        tool_success_rate: 1,
      },
    ]);
  });

  it("without a zone, the tenant's own time zone decides, which its owners set", async () => {
    const set = (actor: Actor, zone: string) =>
      as(actor, (sql) =>
        sql.query<{ id: string }>(
          'update public.tenants set time_zone = $2 where id = $1 returning id',
          [w.a.tenantId, zone],
        ),
      );
    // An agent's update reaches no row; a zone Postgres does not know is refused.
    expect(await set('agentA', 'Asia/Tokyo')).toEqual([]);
    expect(await refusal(set('ownerA', 'Mars/Olympus'))).toBe('22023');
    expect(await set('ownerA', 'Asia/Tokyo')).toHaveLength(1);
    try {
      expect(await daily('ownerA', null)).toEqual(await daily('ownerA', 'Asia/Tokyo'));
      // conversation_metrics_daily keeps its explicit zone; the page passes the tenant's.
    } finally {
      await set('ownerA', 'UTC');
    }
  });

  it('agents, visitors, anon and other tenants are refused; bad ranges and zones too', async () => {
    for (const actor of ['agentA', 'visitorA', 'ownerB', 'anon'] as const) {
      expect(await refusal(daily(actor)), actor).toBe('42501');
    }
    expect(await refusal(daily('platformAdmin'))).toBe('ok');
    expect(await refusal(daily('ownerA', 'UTC', '2026-01-12', '2026-01-10'))).toBe('22023');
    expect(await refusal(daily('ownerA', 'UTC', '2025-01-01', '2026-06-01'))).toBe('22023');
    expect(await refusal(daily('ownerA', 'Mars/Olympus'))).toBe('22023');
  });
});

interface HistoryArgs {
  status?: string;
  channel?: string;
  from?: string;
  to?: string;
  csatMin?: number;
  csatMax?: number;
  rated?: boolean;
  assignee?: string;
  unassigned?: boolean;
  query?: string;
  zone?: string;
  limit?: number;
  offset?: number;
}

const history = (actor: Actor, args: HistoryArgs = {}) =>
  as(actor, (sql) =>
    sql.query<{ id: string; total: number; first_message: string; assignee_name: string | null }>(
      `select id, total::int, first_message, assignee_name
         from public.conversation_history(
           p_tenant_id => $1, p_status => $2, p_channel => $3, p_from => $4::date, p_to => $5::date,
           p_csat_min => $6::smallint, p_csat_max => $7::smallint, p_rated => $8, p_assignee => $9,
           p_unassigned => $10, p_query => $11, p_time_zone => $12, p_limit => $13, p_offset => $14)`,
      [
        w.a.tenantId,
        args.status ?? null,
        args.channel ?? null,
        args.from ?? '2026-01-10',
        args.to ?? '2026-01-12',
        args.csatMin ?? null,
        args.csatMax ?? null,
        args.rated ?? null,
        args.assignee ?? null,
        args.unassigned ?? false,
        args.query ?? null,
        args.zone ?? 'UTC',
        args.limit ?? 50,
        args.offset ?? 0,
      ],
    ),
  );

const keys = (rows: { id: string }[]) =>
  rows.map((r) => Object.keys(ids).find((k) => ids[k] === r.id) ?? r.id);

describe('conversation history', () => {
  it('lists the range newest first with the total, and pages through it', async () => {
    await db.asService((sql) =>
      sql.query(
        `update public.tenant_members set display_name = 'Dana' where tenant_id = $1 and user_id = $2`,
        [w.a.tenantId, w.users.agentA],
      ),
    );
    const all = await history('ownerA');
    expect(keys(all)).toEqual(['c3', 'c4', 'c2', 'c1']);
    expect(all.every((r) => r.total === 4)).toBe(true);
    expect(all[2]?.first_message).toBe('my parcel never arrived');
    expect(all[2]?.assignee_name).toBe('Dana');
    const page2 = await history('ownerA', { limit: 3, offset: 3 });
    expect(keys(page2)).toEqual(['c1']);
    expect(page2[0]?.total).toBe(4);
  });

  it('filters by status, channel, day in a zone, rating, assignee and text', async () => {
    expect(keys(await history('ownerA', { status: 'resolved' }))).toEqual(['c4']);
    expect(keys(await history('ownerA', { channel: 'whatsapp' }))).toEqual(['c2']);
    expect(keys(await history('ownerA', { from: '2026-01-11', to: '2026-01-11' }))).toEqual([
      'c3',
      'c4',
    ]);
    expect(
      keys(await history('ownerA', { from: '2026-01-11', to: '2026-01-11', zone: 'Asia/Tokyo' })),
    ).toEqual(['c4']);
    expect(keys(await history('ownerA', { csatMin: 4, csatMax: 5 }))).toEqual(['c1']);
    expect(keys(await history('ownerA', { rated: false }))).toEqual(['c3', 'c4']);
    expect(keys(await history('ownerA', { assignee: w.users.agentA }))).toEqual(['c2']);
    expect(keys(await history('ownerA', { unassigned: true }))).toEqual(['c3', 'c4', 'c1']);
    // A word of any message, notes included, or of the contact.
    expect(keys(await history('ownerA', { query: 'parcel' }))).toEqual(['c2']);
    expect(keys(await history('ownerA', { query: 'courier' }))).toEqual(['c2']);
    expect(keys(await history('ownerA', { query: 'zelda' }))).toEqual(['c1']);
    expect(keys(await history('ownerA', { query: '%' }))).toEqual([]);
  });

  it('only owners, admins and platform admins read it, and only their tenant', async () => {
    expect(keys(await history('platformAdmin'))).toHaveLength(4);
    for (const actor of ['agentA', 'visitorA', 'ownerB', 'anon'] as const) {
      expect(await refusal(history(actor)), actor).toBe('42501');
    }
    expect(await refusal(history('ownerA', { status: 'lost' }))).toBe('22023');
    expect(await refusal(history('ownerA', { limit: 5000 }))).toBe('22023');
    expect(await refusal(history('ownerA', { zone: 'Mars/Olympus' }))).toBe('22023');
  });
});
