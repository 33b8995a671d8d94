import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { ACTORS, type Actor, createWorld, type World } from '../support/world.ts';

// Private Realtime channels are authorized the way Supabase Realtime does it: with realtime.topic()
// set to the channel's topic, may the user SELECT (receive) or INSERT (send) a broadcast row of
// realtime.messages? The policies are in supabase/migrations/*_realtime.sql and
// *_receive_only_topics.sql. DESIGN.md: conversation:<uuid> → its visitor and its tenant's
// members; tenant:<uuid>:inbox → members; only the server sends on either, so no client may.
// Then: what the triggers broadcast, and on which topic.

let local: LocalDatabase;
let db: Db;
let w: World;

class Rollback extends Error {}

/** One transaction, always rolled back; returns what fn returned. */
async function rolledBack<T>(
  run: (fn: (sql: Sql) => Promise<void>) => Promise<void>,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  let result: { value: T } | undefined;
  try {
    await run(async (sql) => {
      result = { value: await fn(sql) };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  if (!result) throw new Error('no result');
  return result.value;
}
const asActor = <T>(actor: Actor, fn: (sql: Sql) => Promise<T>) =>
  rolledBack((f) => db.asUser(w.claims[actor], f), fn);
const asService = <T>(fn: (sql: Sql) => Promise<T>) => rolledBack((f) => db.asService(f), fn);

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;
const setTopic = (sql: Sql, topic: string) =>
  sql.query(`select set_config('realtime.topic', $1, true)`, [topic]);

// --- Who may use which topic -------------------------------------------------------------------

const MEMBERS_A: Actor[] = ['agentA', 'adminA', 'ownerA'];

interface TopicCase {
  label: string;
  topic: (w: World) => string;
  allowed: Actor[];
}

const TOPICS: TopicCase[] = [
  {
    label: 'conversation:<visitorA’s conversation in A>',
    topic: (w) => `conversation:${w.a.conversationId}`,
    allowed: ['visitorA', ...MEMBERS_A],
  },
  {
    label: 'conversation:<visitorB’s conversation in A>',
    topic: (w) => `conversation:${w.conversationOfVisitorB}`,
    allowed: ['visitorB', ...MEMBERS_A],
  },
  {
    label: 'conversation:<visitorB’s conversation in B>',
    topic: (w) => `conversation:${w.b.conversationId}`,
    allowed: ['visitorB', 'ownerB'],
  },
  { label: 'tenant:<A>:inbox', topic: (w) => `tenant:${w.a.tenantId}:inbox`, allowed: MEMBERS_A },
  { label: 'tenant:<B>:inbox', topic: (w) => `tenant:${w.b.tenantId}:inbox`, allowed: ['ownerB'] },
  // Crawl progress and ingestion state: the knowledge base's curators (and platform admins).
  {
    label: 'tenant:<A>:knowledge',
    topic: (w) => `tenant:${w.a.tenantId}:knowledge`,
    allowed: ['adminA', 'ownerA', 'platformAdmin'],
  },
  {
    label: 'tenant:<B>:knowledge',
    topic: (w) => `tenant:${w.b.tenantId}:knowledge`,
    allowed: ['ownerB', 'platformAdmin'],
  },
  // Malformed or mismatched: nobody, and no error.
  { label: 'conversation:not-a-uuid', topic: () => 'conversation:not-a-uuid', allowed: [] },
  { label: 'tenant:<A>:other', topic: (w) => `tenant:${w.a.tenantId}:other`, allowed: [] },
  { label: '(empty)', topic: () => '', allowed: [] },
  {
    label: 'conversation:<A’s conversation>:extra',
    topic: (w) => `conversation:${w.a.conversationId}:extra`,
    allowed: [],
  },
  { label: 'tenant:<A>', topic: (w) => `tenant:${w.a.tenantId}`, allowed: [] },
  { label: 'tenant:not-a-uuid:inbox', topic: () => 'tenant:not-a-uuid:inbox', allowed: [] },
  { label: 'conversation', topic: () => 'conversation', allowed: [] },
  { label: 'conversation:', topic: () => 'conversation:', allowed: [] },
  {
    label: 'conversation:<A’s tenant id>',
    topic: (w) => `conversation:${w.a.tenantId}`,
    allowed: [],
  },
  {
    label: 'tenant:<A’s conversation id>:inbox',
    topic: (w) => `tenant:${w.a.conversationId}:inbox`,
    allowed: [],
  },
  {
    label: 'inbox:<A>',
    topic: (w) => `inbox:${w.a.tenantId}`,
    allowed: [],
  },
];

/** realtime.messages row per topic label, stored as the service before the tests. */
const storedRow = new Map<string, string>();

async function canReceive(actor: Actor, topic: string, rowId: string): Promise<boolean> {
  // Any error here fails the test: a malformed topic must be a plain "no".
  const rows = await asActor(actor, async (sql) => {
    await setTopic(sql, topic);
    return sql.query('select id from realtime.messages where id = $1', [rowId]);
  });
  return rows.length === 1;
}

async function canSend(
  actor: Actor,
  topic: string,
  extension: 'broadcast' | 'presence' | 'postgres_changes' = 'broadcast',
): Promise<boolean> {
  return asActor(actor, async (sql) => {
    await setTopic(sql, topic);
    try {
      await sql.query(
        `insert into realtime.messages (topic, extension, event, payload, private)
         values ($1, $2, 'typing', '{"typing": true}', true)`,
        [topic, extension],
      );
      return true;
    } catch (error) {
      // The refusal is an RLS violation and nothing else (not e.g. an invalid uuid cast).
      if (codeOf(error) === '42501') return false;
      throw error;
    }
  });
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  await db.asService(async (sql) => {
    for (const t of TOPICS) {
      const [row] = await sql.query<{ id: string }>(
        `insert into realtime.messages (topic, extension, event, payload, private)
         values ($1, 'broadcast', 'ping', '{}', true) returning id`,
        [t.topic(w)],
      );
      storedRow.set(t.label, row?.id as string);
    }
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
});

for (const t of TOPICS) {
  describe(t.label, () => {
    for (const actor of ACTORS) {
      const allowed = t.allowed.includes(actor);
      const verdict = allowed ? 'allowed' : 'denied';
      it(`${actor} receive: ${verdict}`, async () => {
        expect(await canReceive(actor, t.topic(w), storedRow.get(t.label) as string)).toBe(allowed);
      });
      it(`${actor} send broadcast and presence: denied`, async () => {
        expect(await canSend(actor, t.topic(w))).toBe(false);
        expect(await canSend(actor, t.topic(w), 'presence')).toBe(false);
      });
    }
  });
}

describe('extensions', () => {
  it('postgres_changes rows are neither sent nor received by clients', async () => {
    const topic = `conversation:${w.a.conversationId}`;
    expect(await canSend('visitorA', topic, 'postgres_changes')).toBe(false);
    const [row] = await db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into realtime.messages (topic, extension, event, payload)
         values ($1, 'postgres_changes', 'x', '{}') returning id`,
        [topic],
      ),
    );
    expect(await canReceive('visitorA', topic, row?.id as string)).toBe(false);
    expect(await canReceive('ownerA', topic, row?.id as string)).toBe(false);
  });

  it("the server still broadcasts what a client's own write causes", async () => {
    const topic = `conversation:${w.a.conversationId}`;
    const seen = await asActor('visitorA', async (sql) => {
      const [m] = await sql.query<{ id: string }>(
        `insert into public.messages (conversation_id, role, content, client_msg_id)
         values ($1, 'user', 'Where is my order?', $2) returning id`,
        [w.a.conversationId, crypto.randomUUID()],
      );
      await setTopic(sql, topic);
      return sql.query<{ event: string }>(
        `select event from realtime.messages where topic = $1 and payload ->> 'id' = $2`,
        [topic, m?.id],
      );
    });
    expect(seen).toEqual([{ event: 'message_created' }]);
  });

  it('realtime.send runs with the caller’s rights: a client cannot send through it either', async () => {
    const topic = `conversation:${w.a.conversationId}`;
    for (const actor of ['visitorA', 'agentA'] as const) {
      const sent = await asActor(actor, async (sql) => {
        await sql.query(
          `select realtime.send('{"role":"assistant"}'::jsonb, 'message_created', $1, true)`,
          [topic],
        );
        return sql.query(
          `select 1 from realtime.messages where topic = $1 and payload ->> 'role' = 'assistant'
          and event = 'message_created' and inserted_at >= now()`,
          [topic],
        );
      });
      expect(sent, actor).toEqual([]);
    }
    const [row] = await asService(async (sql) => {
      await sql.query(`select realtime.send('{"typing":true}'::jsonb, 'typing', $1, true)`, [
        topic,
      ]);
      return sql.query<{ payload: Record<string, unknown> }>(
        `select payload from realtime.messages where topic = $1 and event = 'typing' and inserted_at >= now()`,
        [topic],
      );
    });
    expect(row?.payload).toEqual({ typing: true, id: expect.any(String) });
  });

  it('without realtime.topic set, nobody passes', async () => {
    for (const actor of ACTORS) {
      const rows = await asActor(actor, (sql) =>
        sql.query('select id from realtime.messages where id = $1', [
          storedRow.get('tenant:<A>:inbox'),
        ]),
      );
      expect(rows, actor).toEqual([]);
    }
  });
});

// --- What the triggers broadcast ---------------------------------------------------------------

interface Broadcast {
  id: string;
  topic: string;
  event: string;
  extension: string;
  private: boolean;
  payload: Record<string, unknown>;
}

const broadcastsAbout = (sql: Sql, id: string) =>
  sql.query<Broadcast>(
    `select id, topic, event, extension, private, payload from realtime.messages
      where payload ->> 'id' = $1 order by inserted_at, event`,
    [id],
  );

describe('broadcasts', () => {
  it('a new message goes to conversation:<id> as message_created, without internals', async () => {
    const sent = await asService(async (sql) => {
      const [m] = await sql.query<{ id: string }>(
        `insert into public.messages (conversation_id, tenant_id, role, content, tokens_in, cost_usd)
         values ($1, $2, 'assistant', 'Your order shipped.', 40, 0.002) returning id`,
        [w.a.conversationId, w.a.tenantId],
      );
      return { id: m?.id as string, rows: await broadcastsAbout(sql, m?.id as string) };
    });
    expect(sent.rows).toHaveLength(1);
    const [b] = sent.rows;
    expect(b).toMatchObject({
      topic: `conversation:${w.a.conversationId}`,
      event: 'message_created',
      extension: 'broadcast',
      private: true,
      payload: {
        id: sent.id,
        conversation_id: w.a.conversationId,
        role: 'assistant',
        content: 'Your order shipped.',
      },
    });
    for (const key of ['tokens_in', 'tokens_out', 'cost_usd', 'model', 'is_private', 'tenant_id']) {
      expect(b?.payload, key).not.toHaveProperty(key);
    }
  });

  it("an agent's reply carries the name and avatar the tenant shows, not the staff account id", async () => {
    const sent = await asService(async (sql) => {
      await sql.query(
        `update public.tenant_members set display_name = 'Sam', avatar_url = 'https://cdn.example/sam.png'
          where tenant_id = $1 and user_id = $2`,
        [w.a.tenantId, w.users.agentA],
      );
      const [m] = await sql.query<{ id: string }>(
        `insert into public.messages (conversation_id, tenant_id, role, content, author_id)
         values ($1, $2, 'agent', 'Hi, Sam here.', $3) returning id`,
        [w.a.conversationId, w.a.tenantId, w.users.agentA],
      );
      return broadcastsAbout(sql, m?.id as string);
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.payload).toMatchObject({
      role: 'agent',
      author: { name: 'Sam', avatar_url: 'https://cdn.example/sam.png' },
    });
    expect(JSON.stringify(sent[0]?.payload)).not.toContain(w.users.agentA);
  });

  it('a private note goes to tenant:<A>:inbox only, never to the conversation topic', async () => {
    const sent = await asService(async (sql) => {
      const [m] = await sql.query<{ id: string }>(
        `insert into public.messages (conversation_id, tenant_id, role, content, is_private, author_id)
         values ($1, $2, 'agent', 'Customer is a VIP', true, $3) returning id`,
        [w.a.conversationId, w.a.tenantId, w.users.agentA],
      );
      const about = await broadcastsAbout(sql, m?.id as string);
      // An edit of the note stays private too.
      await sql.query(`update public.messages set content = 'Customer is a VIP!' where id = $1`, [
        m?.id,
      ]);
      const afterEdit = await broadcastsAbout(sql, m?.id as string);
      const onConversation = await sql.query(
        `select 1 from realtime.messages where topic = $1 and payload::text like '%' || $2 || '%'`,
        [`conversation:${w.a.conversationId}`, 'VIP'],
      );
      return { id: m?.id, about, afterEdit, onConversation };
    });
    expect(sent.about).toHaveLength(1);
    expect(sent.about[0]).toMatchObject({
      topic: `tenant:${w.a.tenantId}:inbox`,
      event: 'message_created',
      private: true,
      payload: { id: sent.id, is_private: true, content: 'Customer is a VIP' },
    });
    expect(sent.afterEdit.map((b) => [b.topic, b.event])).toEqual([
      [`tenant:${w.a.tenantId}:inbox`, 'message_created'],
      [`tenant:${w.a.tenantId}:inbox`, 'message_updated'],
    ]);
    expect(sent.onConversation).toEqual([]);
  });

  it('a handoff emits handoff on the inbox and status_changed on the conversation', async () => {
    const rows = await asService(async (sql) => {
      const before = new Set((await broadcastsAbout(sql, w.a.conversationId)).map((b) => b.id));
      await sql.query(`update public.conversations set status = 'handoff' where id = $1`, [
        w.a.conversationId,
      ]);
      return (await broadcastsAbout(sql, w.a.conversationId)).filter((b) => !before.has(b.id));
    });
    const inbox = `tenant:${w.a.tenantId}:inbox`;
    const conversation = `conversation:${w.a.conversationId}`;
    expect(rows.map((b) => `${b.event} → ${b.topic}`).sort()).toEqual(
      [
        `conversation_updated → ${inbox}`,
        `handoff → ${inbox}`,
        `status_changed → ${conversation}`,
      ].sort(),
    );
    const handoff = rows.find((b) => b.event === 'handoff');
    expect(handoff?.payload).toMatchObject({
      id: w.a.conversationId,
      tenant_id: w.a.tenantId,
      status: 'handoff',
    });
    expect(rows.find((b) => b.event === 'status_changed')?.payload).toEqual({
      id: w.a.conversationId,
      status: 'handoff',
      previous_status: 'bot',
    });
  });

  it('realtime.send wakes the Realtime server with pg_notify on commit', async () => {
    const notes: {
      id: string;
      topic: string;
      event: string;
      private: boolean;
      payload?: unknown;
    }[] = [];
    const unlisten = await local.pg.listen('realtime_broadcast', (payload) => {
      notes.push(JSON.parse(payload));
    });
    try {
      // Committed, on a conversation of its own, so the shared world stays as it was.
      const ids = await db.asService(async (sql) => {
        const [c] = await sql.query<{ id: string }>(
          `insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id`,
          [w.a.tenantId, w.users.visitorA],
        );
        const [m] = await sql.query<{ id: string }>(
          `insert into public.messages (conversation_id, tenant_id, role, content)
           values ($1, $2, 'assistant', 'Hi!') returning id`,
          [c?.id, w.a.tenantId],
        );
        const [n] = await sql.query<{ id: string }>(
          `insert into public.messages (conversation_id, tenant_id, role, content, is_private, author_id)
           values ($1, $2, 'agent', 'note', true, $3) returning id`,
          [c?.id, w.a.tenantId, w.users.agentA],
        );
        return { conversation: c?.id as string, message: m?.id as string, note: n?.id as string };
      });
      const rowFor = async (payloadId: string) =>
        (await db.asService((sql) => broadcastsAbout(sql, payloadId))).map((b) => b.id);
      const messageRows = await rowFor(ids.message);
      const noteRows = await rowFor(ids.note);
      await vi.waitFor(() => {
        expect(notes.map((n) => n.id)).toEqual(
          expect.arrayContaining([...messageRows, ...noteRows]),
        );
      });
      // The row's payload travels with it, so the server need not read it back.
      const [stored] = await db.asService((sql) =>
        sql.query<{ payload: Record<string, unknown> }>(
          'select payload from realtime.messages where id = $1',
          [messageRows[0]],
        ),
      );
      expect(stored?.payload).toMatchObject({ id: ids.message, content: 'Hi!' });
      expect(notes.find((n) => n.id === messageRows[0])).toEqual({
        id: messageRows[0],
        topic: `conversation:${ids.conversation}`,
        event: 'message_created',
        private: true,
        payload: stored?.payload,
      });
      expect(notes.find((n) => n.id === noteRows[0])).toMatchObject({
        id: noteRows[0],
        topic: `tenant:${w.a.tenantId}:inbox`,
        event: 'message_created',
        private: true,
        payload: expect.objectContaining({ content: 'note' }),
      });
      expect(notes.filter((n) => n.topic === `conversation:${ids.conversation}`)).toHaveLength(1);
      expect(notes.some((n) => n.event === 'conversation_created')).toBe(true);
    } finally {
      await unlisten();
    }
  });

  it('a payload too large for NOTIFY is announced by its id and where it goes', async () => {
    const notes: Record<string, unknown>[] = [];
    const unlisten = await local.pg.listen('realtime_broadcast', (payload) => {
      notes.push(JSON.parse(payload));
    });
    try {
      const topic = `tenant:${w.a.tenantId}:inbox`;
      await db.asService((sql) =>
        sql.query(`select realtime.send($1::jsonb, 'large', $2, true)`, [
          { text: 'x'.repeat(9000) },
          topic,
        ]),
      );
      await vi.waitFor(() => expect(notes.some((n) => n.event === 'large')).toBe(true));
      const note = notes.find((n) => n.event === 'large');
      expect(note).toEqual({ id: expect.any(String), topic, event: 'large', private: true });
    } finally {
      await unlisten();
    }
  });

  it('nothing is notified for a transaction that rolls back', async () => {
    const notes: string[] = [];
    const unlisten = await local.pg.listen('realtime_broadcast', (payload) => {
      notes.push(payload);
    });
    try {
      await asService((sql) =>
        sql.query(
          `insert into public.messages (conversation_id, tenant_id, role, content)
           values ($1, $2, 'assistant', 'never sent')`,
          [w.a.conversationId, w.a.tenantId],
        ),
      );
      await local.pg.query('select 1'); // let any pending notification be delivered
      expect(notes).toEqual([]);
    } finally {
      await unlisten();
    }
  });
});

describe('rows of other topics', () => {
  it('authorizing one topic never exposes or accepts rows of another', async () => {
    const inbox = `tenant:${w.a.tenantId}:inbox`;
    const own = `conversation:${w.a.conversationId}`;
    const { seen, inserted } = await rolledBack(
      (f) => db.asService(f),
      async (sql) => {
        await sql.query(
          `insert into realtime.messages (topic, extension, event, payload, private)
           values ($1, 'broadcast', 'handoff', '{"secret":"inbox only"}'::jsonb, true)`,
          [inbox],
        );
        // Now look as visitorA, with its own conversation's topic being authorized.
        await sql.query(
          `select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`,
          [JSON.stringify(w.claims.visitorA)],
        );
        await setTopic(sql, own);
        const seen = await sql.query('select 1 from realtime.messages where topic = $1', [inbox]);
        await sql.query('savepoint other_topic');
        let inserted = true;
        try {
          await sql.query(
            `insert into realtime.messages (topic, extension, event, payload, private)
             values ($1, 'broadcast', 'spoof', '{}'::jsonb, true)`,
            [inbox],
          );
        } catch (error) {
          if (codeOf(error) !== '42501') throw error;
          inserted = false;
          await sql.query('rollback to savepoint other_topic');
        }
        return { seen: seen.length, inserted };
      },
    );
    expect({ seen, inserted }).toEqual({ seen: 0, inserted: false });
  });
});
