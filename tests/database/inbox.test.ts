import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReplyContext } from '../../functions/_shared/agent/context.ts';
import { writeReply } from '../../functions/_shared/agent/reply.ts';
import type { Draft } from '../../functions/_shared/agent/reply-types.ts';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The staff inbox in SQL (supabase/migrations/*_inbox.sql): the actions that work a conversation,
// what each one broadcasts and to whom, read markers and search. Staff of tenant A act on their
// conversations; visitors, anon and staff of tenant B can drive none of it.

let local: LocalDatabase;
let db: Db;
let w: World;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const as = <T>(actor: Actor, fn: (sql: Sql) => Promise<T>) =>
  actor === 'anon' ? db.asUser(w.claims.anon, fn) : db.asUser(w.claims[actor], fn);
const service = <T>(fn: (sql: Sql) => Promise<T>) => db.asService(fn);
const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

async function refusal(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return codeOf(error);
  }
  return undefined;
}

interface Conversation {
  id: string;
  status: string;
  assignee_id: string | null;
}

/** A fresh conversation of visitorA in tenant A with one visitor message, as the chat function makes it. */
async function newConversation(status = 'bot'): Promise<string> {
  return service(async (sql) => {
    const [c] = await sql.query<{ id: string }>(
      `insert into public.conversations (tenant_id, visitor_id, status) values ($1, $2, $3) returning id`,
      [w.a.tenantId, w.users.visitorA, status === 'resolved' ? 'open' : status],
    );
    await sql.query(
      `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'Where are my boots?')`,
      [c?.id],
    );
    // Resolved after its message, which would otherwise have reopened it.
    if (status === 'resolved')
      await sql.query(`update public.conversations set status = 'resolved' where id = $1`, [c?.id]);
    return c?.id as string;
  });
}

const conversation = (id: string) =>
  service(async (sql) => {
    const [row] = await sql.query<Conversation>(
      'select id, status, assignee_id from public.conversations where id = $1',
      [id],
    );
    return row as Conversation;
  });

/** Broadcasts stored for a topic, oldest first. */
const broadcasts = (topic: string) =>
  service((sql) =>
    sql.query<{ event: string; payload: Record<string, unknown> }>(
      `select event, payload from realtime.messages where topic = $1 order by inserted_at, id`,
      [topic],
    ),
  );

const call = (actor: Actor, fn: string, args: unknown[]) =>
  as(actor, (sql) =>
    sql.query<Record<string, unknown>>(
      `select * from public.${fn}(${args.map((_, i) => `$${i + 1}`).join(', ')})`,
      args,
    ),
  );

const STAFF_ACTIONS: [string, (id: string) => unknown[]][] = [
  ['take_over_conversation', (id) => [id]],
  ['assign_conversation', (id) => [id, w.users.agentA]],
  ['hand_back_to_bot', (id) => [id]],
  ['resolve_conversation', (id) => [id]],
  ['reopen_conversation', (id) => [id]],
  ['post_agent_message', (id) => [id, 'Hello from staff', false, null]],
  ['post_agent_message', (id) => [id, 'A note', true, null]],
  ['mark_conversation_read', (id) => [id]],
  ['send_agent_typing', (id) => [id, true]],
];

describe('who may work a conversation', () => {
  it.each(['anon', 'visitorA', 'visitorB', 'ownerB', 'platformAdmin'] as Actor[])(
    '%s drives none of the staff actions',
    async (actor) => {
      const id = await newConversation('handoff');
      const before = await service((sql) =>
        sql.query('select count(*)::int as n from public.messages where conversation_id = $1', [
          id,
        ]),
      );
      for (const [fn, args] of STAFF_ACTIONS) {
        expect(await refusal(() => call(actor, fn, args(id))), `${actor} ${fn}`).toBe('42501');
      }
      expect(await conversation(id)).toMatchObject({ status: 'handoff', assignee_id: null });
      const after = await service((sql) =>
        sql.query('select count(*)::int as n from public.messages where conversation_id = $1', [
          id,
        ]),
      );
      expect(after).toEqual(before);
    },
  );

  it('a visitor cannot post as an agent or write a note directly either', async () => {
    const id = await newConversation();
    for (const [role, isPrivate] of [
      ['agent', false],
      ['user', true],
      ['system', false],
    ] as const) {
      expect(
        await refusal(() =>
          as('visitorA', (sql) =>
            sql.query(
              `insert into public.messages (conversation_id, role, content, is_private, author_id)
               values ($1, $2, 'forged', $3, auth.uid())`,
              [id, role, isPrivate],
            ),
          ),
        ),
      ).toBe('42501');
    }
    // Nor take the conversation by updating it.
    const updated = await as('visitorA', (sql) =>
      sql.query(`update public.conversations set status = 'resolved' where id = $1 returning id`, [
        id,
      ]),
    );
    expect(updated).toEqual([]);
  });

  it.each(['agentA', 'adminA', 'ownerA'] as Actor[])(
    '%s works its tenant’s conversations',
    async (actor) => {
      const id = await newConversation('handoff');
      const [taken] = await call(actor, 'take_over_conversation', [id]);
      expect(taken).toMatchObject({ status: 'open', assignee_id: w.users[actor as 'agentA'] });
    },
  );
});

describe('taking over from the bot', () => {
  it('makes the conversation open and the caller’s, and tells the widget and the inbox', async () => {
    const id = await newConversation('bot');
    await call('agentA', 'take_over_conversation', [id]);
    expect(await conversation(id)).toEqual({ id, status: 'open', assignee_id: w.users.agentA });
    expect(await broadcasts(`conversation:${id}`)).toContainEqual({
      event: 'status_changed',
      payload: { id, status: 'open', previous_status: 'bot' },
    });
    const inbox = (await broadcasts(`tenant:${w.a.tenantId}:inbox`)).filter(
      (b) => b.payload.id === id && b.event === 'conversation_updated',
    );
    expect(inbox.at(-1)?.payload).toMatchObject({ status: 'open', assignee_id: w.users.agentA });
  });

  it('stops the reply the bot was drafting: it is never posted', async () => {
    const id = await newConversation('bot');
    const context = await service(async (sql) => {
      const [m] = await sql.query<{ id: string }>(
        `select id from public.messages where conversation_id = $1 and role = 'user'`,
        [id],
      );
      return loadReplyContext(sql, m?.id as string);
    });
    if (!context) throw new Error('no reply context');
    // The bot read the conversation while it was still its own; a person takes over meanwhile.
    await call('agentA', 'take_over_conversation', [id]);
    const draft: Draft = {
      content: 'Your boots ship tomorrow.',
      quickReplies: [],
      engine: 'ai',
      provider: null,
      model: null,
      tokensIn: 1,
      tokensOut: 1,
      costUsd: 0,
      rounds: 1,
      fallbackReason: null,
      tools: [],
      handoff: null,
      passages: [],
      sources: [],
    };
    const replyId = await service((sql) => writeReply(sql, context, draft, 10, context.message.id));
    expect(replyId).toBeNull();
    const assistant = await service((sql) =>
      sql.query(
        `select id from public.messages where conversation_id = $1 and role = 'assistant'`,
        [id],
      ),
    );
    expect(assistant).toEqual([]);
    expect(
      (await broadcasts(`conversation:${id}`)).filter(
        (b) => b.event === 'message_created' && b.payload.role === 'assistant',
      ),
    ).toEqual([]);
  });

  it('a bot still in charge posts its reply as before', async () => {
    const id = await newConversation('bot');
    const context = await service(async (sql) => {
      const [m] = await sql.query<{ id: string }>(
        `select id from public.messages where conversation_id = $1 and role = 'user'`,
        [id],
      );
      return loadReplyContext(sql, m?.id as string);
    });
    if (!context) throw new Error('no reply context');
    const replyId = await service((sql) =>
      writeReply(
        sql,
        context,
        {
          content: 'Tomorrow.',
          quickReplies: [],
          engine: 'retrieval',
          provider: null,
          model: null,
          tokensIn: 0,
          tokensOut: 0,
          costUsd: 0,
          rounds: 0,
          fallbackReason: 'no_llm',
          tools: [],
          handoff: null,
          passages: [],
          sources: [],
        },
        10,
        context.message.id,
      ),
    );
    expect(replyId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('replies and internal notes', () => {
  it('an agent reply reaches the visitor, with the name the tenant shows', async () => {
    await service((sql) =>
      sql.query(
        `update public.tenant_members set display_name = 'Dana' where tenant_id = $1 and user_id = $2`,
        [w.a.tenantId, w.users.agentA],
      ),
    );
    const id = await newConversation('handoff');
    const [message] = await call('agentA', 'post_agent_message', [
      id,
      '  **Hi**, I am here.  ',
      false,
      'a-1',
    ]);
    expect(message).toMatchObject({
      role: 'agent',
      content: '**Hi**, I am here.',
      is_private: false,
      author_id: w.users.agentA,
    });
    // Replying is working the conversation: it is no longer waiting.
    expect(await conversation(id)).toMatchObject({ status: 'open', assignee_id: w.users.agentA });
    const seen = await as('visitorA', (sql) =>
      sql.query<{ content: string }>(
        `select content from public.messages where conversation_id = $1 and role = 'agent'`,
        [id],
      ),
    );
    expect(seen).toEqual([{ content: '**Hi**, I am here.' }]);
    const created = (await broadcasts(`conversation:${id}`)).find(
      (b) => b.event === 'message_created' && b.payload.role === 'agent',
    );
    expect(created?.payload).toMatchObject({
      id: message?.id,
      content: '**Hi**, I am here.',
      author: { name: 'Dana', avatar_url: null },
    });
    // Sending twice with the same client id stores it once.
    const [again] = await call('agentA', 'post_agent_message', [id, 'ignored', false, 'a-1']);
    expect(again?.id).toBe(message?.id);
  });

  it('an internal note never reaches the visitor: not in reads, not on the conversation topic', async () => {
    const id = await newConversation('open');
    const [note] = await call('agentA', 'post_agent_message', [
      id,
      'Refund approved, VIP',
      true,
      null,
    ]);
    expect(note).toMatchObject({ is_private: true, role: 'agent' });
    // A note does not change who works the conversation.
    expect(await conversation(id)).toMatchObject({ status: 'open', assignee_id: null });
    const visible = await as('visitorA', (sql) =>
      sql.query('select id from public.messages where id = $1', [note?.id]),
    );
    expect(visible).toEqual([]);
    const onConversation = (await broadcasts(`conversation:${id}`)).filter(
      (b) => b.payload.id === note?.id,
    );
    expect(onConversation).toEqual([]);
    const onInbox = (await broadcasts(`tenant:${w.a.tenantId}:inbox`)).filter(
      (b) => b.payload.id === note?.id,
    );
    expect(onInbox).toEqual([
      expect.objectContaining({
        event: 'message_created',
        payload: expect.objectContaining({ is_private: true }),
      }),
    ]);
    // Staff of the tenant read it; the other tenant's do not.
    expect(
      await as('adminA', (sql) =>
        sql.query('select id from public.messages where id = $1', [note?.id]),
      ),
    ).toHaveLength(1);
    expect(
      await as('ownerB', (sql) =>
        sql.query('select id from public.messages where id = $1', [note?.id]),
      ),
    ).toEqual([]);
  });

  it('refuses an empty message', async () => {
    const id = await newConversation('open');
    expect(
      await refusal(() => call('agentA', 'post_agent_message', [id, '   ', false, null])),
    ).toBe('22023');
  });
});

describe('staff typing', () => {
  it('reaches the conversation under the name the tenant shows, stamped by the server', async () => {
    await service((sql) =>
      sql.query(
        `update public.tenant_members set display_name = 'Dana' where tenant_id = $1 and user_id = $2`,
        [w.a.tenantId, w.users.agentA],
      ),
    );
    const id = await newConversation('open');
    await as('agentA', (sql) => sql.query('select public.send_agent_typing($1, true)', [id]));
    expect(await broadcasts(`conversation:${id}`)).toContainEqual({
      event: 'typing',
      payload: expect.objectContaining({
        conversation_id: id,
        typing: true,
        by: 'agent',
        name: 'Dana',
      }),
    });
  });
});

describe('assignment, hand back, resolve and reopen', () => {
  it('assigns to a member, not to anyone else, and unassigns', async () => {
    const id = await newConversation('handoff');
    const [assigned] = await call('adminA', 'assign_conversation', [id, w.users.agentA]);
    expect(assigned).toMatchObject({ status: 'open', assignee_id: w.users.agentA });
    expect(await refusal(() => call('adminA', 'assign_conversation', [id, w.users.ownerB]))).toBe(
      '23514',
    );
    const [unassigned] = await call('agentA', 'assign_conversation', [id, null]);
    expect(unassigned).toMatchObject({ status: 'open', assignee_id: null });
  });

  it('hands back to the bot, which answers the next visitor message', async () => {
    const id = await newConversation('open');
    await call('agentA', 'take_over_conversation', [id]);
    const [back] = await call('agentA', 'hand_back_to_bot', [id]);
    expect(back).toMatchObject({ status: 'bot', assignee_id: null });
    await as('visitorA', (sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'Thanks')`,
        [id],
      ),
    );
    const jobs = await service((sql) =>
      sql.query(`select id from public.jobs where kind = 'reply' and ordering_key = $1`, [
        `conversation:${id}`,
      ]),
    );
    expect(jobs.length).toBeGreaterThan(0);
  });

  it('resolves; a new visitor message reopens it for its assignee, and the bot stays quiet', async () => {
    const id = await newConversation('handoff');
    await call('agentA', 'take_over_conversation', [id]);
    const [resolved] = await call('agentA', 'resolve_conversation', [id]);
    expect(resolved).toMatchObject({ status: 'resolved' });
    expect(await broadcasts(`conversation:${id}`)).toContainEqual({
      event: 'status_changed',
      payload: { id, status: 'resolved', previous_status: 'open' },
    });
    await as('visitorA', (sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'One more thing')`,
        [id],
      ),
    );
    expect(await conversation(id)).toMatchObject({ status: 'open', assignee_id: w.users.agentA });
    const jobs = await service((sql) =>
      sql.query(`select id from public.jobs where kind = 'reply' and ordering_key = $1`, [
        `conversation:${id}`,
      ]),
    );
    expect(jobs).toEqual([]);
  });

  it('an unassigned resolved conversation reopens as waiting for a person', async () => {
    const id = await newConversation('resolved');
    await as('visitorA', (sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'Hello?')`,
        [id],
      ),
    );
    expect(await conversation(id)).toMatchObject({ status: 'handoff', assignee_id: null });
  });

  it('staff reopen a resolved conversation as theirs', async () => {
    const id = await newConversation('resolved');
    const [reopened] = await call('ownerA', 'reopen_conversation', [id]);
    expect(reopened).toMatchObject({ status: 'open', assignee_id: w.users.ownerA });
  });
});

describe('the inbox list', () => {
  let tenantId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // A tenant of its own, so other tests' conversations do not shift the pages.
    const made = await service(async (sql) => {
      const [t] = await sql.query<{ id: string }>(
        `insert into public.tenants (name, slug) values ('Inbox shop', $1) returning id`,
        [`inbox-${crypto.randomUUID().slice(0, 8)}`],
      );
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent'), ($1, $3, 'owner')`,
        [t?.id, w.users.agentA, w.users.ownerA],
      );
      const [contact] = await sql.query<{ id: string }>(
        `insert into public.contacts (tenant_id, identifier, name, email) values ($1, 'cust-42', 'Noa Levi', 'noa@example.test') returning id`,
        [t?.id],
      );
      const rows: [string, string, string | null, string | null, string][] = [
        ['bot', 'bot', null, null, 'Do you ship to Haifa?'],
        ['waiting', 'handoff', null, null, 'I want a refund for the tent'],
        ['mine', 'open', w.users.agentA, contact?.id ?? null, 'The zipper broke on my jacket'],
        ['theirs', 'open', w.users.ownerA, null, 'Hello there'],
        ['unassigned', 'open', null, null, 'Still waiting'],
        ['resolved', 'resolved', w.users.agentA, null, 'Thanks, all good'],
      ];
      const out: Record<string, string> = {};
      let minute = 0;
      for (const [name, status, assignee, contactId, text] of rows) {
        const [c] = await sql.query<{ id: string }>(
          `insert into public.conversations (tenant_id, visitor_id, status, assignee_id, contact_id, channel)
           values ($1, $2, $3, $4, $5, $6) returning id`,
          [
            t?.id,
            w.users.visitorA,
            status === 'resolved' ? 'open' : status,
            assignee,
            contactId,
            name === 'bot' ? 'whatsapp' : 'web',
          ],
        );
        minute += 1;
        await sql.query(
          `insert into public.messages (conversation_id, role, content, created_at)
           values ($1, 'user', $2, now() - interval '1 hour' + $3 * interval '1 minute')`,
          [c?.id, text, minute],
        );
        // Resolved after its messages: a visitor message reopens a resolved conversation.
        if (name === 'resolved')
          await sql.query(`update public.conversations set status = 'resolved' where id = $1`, [
            c?.id,
          ]);
        out[name] = c?.id as string;
      }
      return { tenantId: t?.id as string, out };
    });
    tenantId = made.tenantId;
    Object.assign(ids, made.out);
  });

  const list = (actor: Actor, args: Record<string, unknown> = {}) =>
    as(actor, (sql) =>
      sql.query<{
        id: string;
        unread: number;
        contact_name: string | null;
        matched: string | null;
        last_message: string;
      }>(
        `select * from public.search_conversations(
           p_tenant_id => $1, p_query => $2, p_filter => $3, p_channel => $4, p_limit => $5,
           p_before_at => $6, p_before_id => $7, p_conversation_id => $8)`,
        [
          tenantId,
          args.query ?? null,
          args.filter ?? 'all',
          args.channel ?? null,
          args.limit ?? 50,
          args.beforeAt ?? null,
          args.beforeId ?? null,
          args.conversationId ?? null,
        ],
      ),
    );
  const names = (rows: { id: string }[]) =>
    rows.map((r) => Object.keys(ids).find((k) => ids[k] === r.id));

  it('lists newest activity first, with previews and unread counts', async () => {
    const rows = await list('agentA');
    expect(names(rows)).toEqual(['resolved', 'unassigned', 'theirs', 'mine', 'waiting', 'bot']);
    expect(rows.every((r) => r.unread === 1)).toBe(true);
    expect(rows.find((r) => r.id === ids.mine)).toMatchObject({
      contact_name: 'Noa Levi',
      last_message: 'The zipper broke on my jacket',
    });
  });

  it.each([
    ['waiting', ['waiting']],
    ['mine', ['mine']],
    ['unassigned', ['unassigned', 'waiting']],
    ['bot', ['bot']],
    ['open', ['unassigned', 'theirs', 'mine']],
    ['resolved', ['resolved']],
  ])('filter %s', async (filter, expected) => {
    expect(names(await list('agentA', { filter }))).toEqual(expected);
  });

  it('filters by channel and pages by keyset', async () => {
    expect(names(await list('agentA', { channel: 'whatsapp' }))).toEqual(['bot']);
    const first = await list('agentA', { limit: 4 });
    const last = first.at(-1) as { id: string; activity_at?: unknown } & Record<string, unknown>;
    const next = await list('agentA', { limit: 4, beforeAt: last.activity_at, beforeId: last.id });
    expect(names(next)).toEqual(['waiting', 'bot']);
  });

  it('searches message text and the contact', async () => {
    const byText = await list('agentA', { query: 'refund' });
    expect(names(byText)).toEqual(['waiting']);
    expect(byText[0]?.matched).toBe('I want a refund for the tent');
    expect(names(await list('agentA', { query: 'noa levi' }))).toEqual(['mine']);
    expect(names(await list('agentA', { query: 'nothing-like-this' }))).toEqual([]);
    // LIKE wildcards in the query are plain characters.
    expect(names(await list('agentA', { query: '%' }))).toEqual([]);
  });

  it('keeps a read marker per person', async () => {
    await call('agentA', 'mark_conversation_read', [ids.mine]);
    expect((await list('agentA', { conversationId: ids.mine }))[0]?.unread).toBe(0);
    expect((await list('ownerA', { conversationId: ids.mine }))[0]?.unread).toBe(1);
    await as('visitorA', (sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'Hello?')`,
        [ids.mine],
      ),
    );
    expect((await list('agentA', { conversationId: ids.mine }))[0]?.unread).toBe(1);
    // Markers are private to their owner.
    const seen = await as('ownerA', (sql) =>
      sql.query('select user_id from public.conversation_reads where conversation_id = $1', [
        ids.mine,
      ]),
    );
    expect(seen).toEqual([]);
  });

  it('another tenant’s staff, visitors and anon see nothing', async () => {
    expect(await list('ownerB')).toEqual([]);
    expect(await list('visitorA')).toEqual([]);
    expect(await refusal(() => list('anon'))).toBe('42501');
  });

  it('refuses an unknown filter', async () => {
    expect(await refusal(() => list('agentA', { filter: 'everything' }))).toBe('22023');
  });
});
