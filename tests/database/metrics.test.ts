import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The support metrics in SQL (supabase/migrations/*_metrics.sql) over a fixed set of conversations
// in January, far from the world's own (made today), so every number below is known in advance.

let local: LocalDatabase;
let db: Db;
let w: World;

const as = <T>(actor: Actor, fn: (sql: Sql) => Promise<T>) => db.asUser(w.claims[actor], fn);
const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

interface Fixture {
  created: string;
  handoff?: string;
  assignee?: 'agentA' | 'adminA';
  resolved?: string;
  csat?: number;
  messages: [role: 'user' | 'agent' | 'note', at: string][];
}

const FIXTURES: Fixture[] = [
  // Handed off, answered a minute later (the note before does not count), resolved, rated 5.
  {
    created: '2026-01-10T10:00:00Z',
    handoff: '2026-01-10T10:01:00Z',
    assignee: 'agentA',
    resolved: '2026-01-10T10:31:00Z',
    csat: 5,
    messages: [
      ['user', '2026-01-10T10:00:00Z'],
      ['note', '2026-01-10T10:01:30Z'],
      ['agent', '2026-01-10T10:02:00Z'],
    ],
  },
  // The bot's alone, resolved after ten minutes.
  {
    created: '2026-01-10T12:00:00Z',
    resolved: '2026-01-10T12:10:00Z',
    messages: [['user', '2026-01-10T12:00:00Z']],
  },
  // Handed off, answered after three minutes, still open, rated 3.
  {
    created: '2026-01-11T09:00:00Z',
    handoff: '2026-01-11T09:00:30Z',
    assignee: 'adminA',
    csat: 3,
    messages: [
      ['user', '2026-01-11T09:00:00Z'],
      ['agent', '2026-01-11T09:03:30Z'],
    ],
  },
  // Late on the 11th in UTC, already the 12th in Tokyo.
  { created: '2026-01-11T23:30:00Z', messages: [['user', '2026-01-11T23:30:00Z']] },
];

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  await db.asService(async (sql) => {
    for (const f of FIXTURES) {
      const [c] = await sql.query<{ id: string }>(
        `insert into public.conversations (tenant_id, visitor_id, status, assignee_id, created_at, handoff_at, csat)
         values ($1, $2, 'open', $3, $4, $5, $6) returning id`,
        [
          w.a.tenantId,
          w.users.visitorA,
          f.assignee ? w.users[f.assignee] : null,
          new Date(f.created),
          f.handoff ? new Date(f.handoff) : null,
          f.csat ?? null,
        ],
      );
      for (const [role, at] of f.messages) {
        await sql.query(
          `insert into public.messages (conversation_id, role, content, is_private, created_at)
           values ($1, $2, 'x', $3, $4)`,
          [c?.id, role === 'note' ? 'agent' : role, role === 'note', new Date(at)],
        );
      }
      if (f.resolved) {
        // The status trigger stamps resolved_at with now(); the fixture's time is set after it.
        await sql.query(`update public.conversations set status = 'resolved' where id = $1`, [
          c?.id,
        ]);
        await sql.query(`update public.conversations set resolved_at = $2 where id = $1`, [
          c?.id,
          new Date(f.resolved),
        ]);
      }
    }
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const daily = (actor: Actor, zone = 'UTC', from = '2026-01-10', to = '2026-01-12') =>
  as(actor, (sql) =>
    sql.query<Record<string, unknown>>(
      `select to_char(day, 'YYYY-MM-DD') as day, conversations, handoffs, handoff_rate,
              first_response_seconds, first_response_p90_seconds, resolved, resolution_seconds,
              csat_count, csat_average
         from public.conversation_metrics_daily($1, $2::date, $3::date, $4)`,
      [w.a.tenantId, from, to, zone],
    ),
  );

const byAgent = (actor: Actor) =>
  as(actor, (sql) =>
    sql.query<Record<string, unknown>>(
      `select agent_id, conversations, first_response_seconds, resolved, resolution_seconds,
              csat_count, csat_average
         from public.conversation_metrics_by_agent($1, '2026-01-10', '2026-01-12')
        order by agent_id`,
      [w.a.tenantId],
    ),
  );

describe('metrics per day', () => {
  it('counts conversations, handoffs, first response, resolution and CSAT on the day they started', async () => {
    expect(await daily('ownerA')).toEqual([
      {
        day: '2026-01-10',
        conversations: 2,
        handoffs: 1,
        handoff_rate: 0.5,
        first_response_seconds: 60,
        first_response_p90_seconds: 60,
        resolved: 2,
        resolution_seconds: 1230,
        csat_count: 1,
        csat_average: 5,
      },
      {
        day: '2026-01-11',
        conversations: 2,
        handoffs: 1,
        handoff_rate: 0.5,
        first_response_seconds: 180,
        first_response_p90_seconds: 180,
        resolved: 0,
        resolution_seconds: null,
        csat_count: 1,
        csat_average: 3,
      },
      {
        day: '2026-01-12',
        conversations: 0,
        handoffs: 0,
        handoff_rate: null,
        first_response_seconds: null,
        first_response_p90_seconds: null,
        resolved: 0,
        resolution_seconds: null,
        csat_count: 0,
        csat_average: null,
      },
    ]);
  });

  it('days follow the time zone asked for', async () => {
    const tokyo = await daily('adminA', 'Asia/Tokyo');
    expect(tokyo.map((d) => [d.day, d.conversations])).toEqual([
      ['2026-01-10', 2],
      ['2026-01-11', 1],
      ['2026-01-12', 1],
    ]);
  });
});

describe('metrics per agent', () => {
  it('groups by assignee', async () => {
    const expected = [
      {
        agent_id: w.users.agentA,
        conversations: 1,
        first_response_seconds: 60,
        resolved: 1,
        resolution_seconds: 1860,
        csat_count: 1,
        csat_average: 5,
      },
      {
        agent_id: w.users.adminA,
        conversations: 1,
        first_response_seconds: 180,
        resolved: 0,
        resolution_seconds: null,
        csat_count: 1,
        csat_average: 3,
      },
    ].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
    expect(await byAgent('adminA')).toEqual(expected);
    expect(await byAgent('platformAdmin')).toEqual(expected);
  });
});

describe('who may read them', () => {
  it('agents, visitors, anon and other tenants are refused', async () => {
    for (const actor of ['agentA', 'visitorA', 'ownerB', 'anon'] as const) {
      const code = await daily(actor).then(
        () => undefined,
        (error) => codeOf(error),
      );
      expect(code, actor).toBe('42501');
      const agentCode = await byAgent(actor).then(
        () => undefined,
        (error) => codeOf(error),
      );
      expect(agentCode, actor).toBe('42501');
    }
  });

  it('a reversed or over-long range and an unknown zone are refused', async () => {
    for (const args of [
      ['UTC', '2026-01-12', '2026-01-10'],
      ['UTC', '2025-01-01', '2026-06-01'],
      ['Mars/Olympus', '2026-01-10', '2026-01-12'],
    ] as const) {
      const code = await daily('ownerA', ...args).then(
        () => undefined,
        (error) => codeOf(error),
      );
      expect(code, args.join(' ')).toBe('22023');
    }
  });
});
