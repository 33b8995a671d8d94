import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';

// Resolve → CSAT → reopen through the chat function: staff resolve, the visitor rates with a
// comment, and the visitor's next message reopens the conversation for a person (not the bot),
// instead of being refused.

let h: ChatHarness;
let shop: TestTenant;

beforeAll(async () => {
  h = await startChatHarness();
  shop = await createTenant(h);
}, 120_000);
afterAll(() => h?.close());

const conversationRow = (id: string) =>
  h.db.asService(async (sql) => {
    const [row] = await sql.query<{
      status: string;
      assignee_id: string | null;
      csat: number | null;
      csat_comment: string | null;
    }>('select status, assignee_id, csat, csat_comment from public.conversations where id = $1', [
      id,
    ]);
    return row;
  });

describe('resolve → CSAT → reopen', () => {
  it('a resolved conversation takes a rating with a comment, then reopens on the next message', async () => {
    const visitor = await Visitor.signIn(h);
    const session = await visitor.call('sessions', { key: shop.key, locale: 'en' });
    expect(session.status).toBe(201);
    const conversationId = session.body.conversation.id as string;
    const agent = await createStaff(h, shop, 'agent', 'Dana');
    await h.db.asService((sql) =>
      sql.query(
        `update public.conversations set status = 'resolved', assignee_id = $2 where id = $1`,
        [conversationId, agent.id],
      ),
    );

    const rated = await visitor.call('feedback', {
      conversation_id: conversationId,
      csat: 4,
      comment: 'Quick, but I had to ask twice',
    });
    expect(rated).toEqual({ status: 200, body: { ok: true } });
    expect(await conversationRow(conversationId)).toMatchObject({
      status: 'resolved',
      csat: 4,
      csat_comment: 'Quick, but I had to ask twice',
    });

    // Typing the message that reopens it reaches staff too.
    const typing = await visitor.call('typing', { conversation_id: conversationId, typing: true });
    expect(typing.status).toBe(202);

    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content: 'Actually, one more thing about my order',
    });
    expect(sent.status).toBe(202);
    expect(sent.body.message).toMatchObject({ role: 'user' });
    // Back to the person who had it; the bot stays out of a conversation staff worked.
    expect(await conversationRow(conversationId)).toMatchObject({
      status: 'open',
      assignee_id: agent.id,
    });
    const [replies] = await h.db.asService((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.jobs where kind = 'reply' and ordering_key = $1`,
        [`conversation:${conversationId}`],
      ),
    );
    expect(replies?.n).toBe(0);
    await visitor.close();
  });

  it('without an assignee the reopened conversation waits for a person', async () => {
    const visitor = await Visitor.signIn(h);
    const session = await visitor.call('sessions', { key: shop.key, locale: 'en' });
    const conversationId = session.body.conversation.id as string;
    await h.db.asService((sql) =>
      sql.query(`update public.conversations set status = 'resolved' where id = $1`, [
        conversationId,
      ]),
    );
    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content: 'Hello again',
    });
    expect(sent.status).toBe(202);
    expect((await conversationRow(conversationId))?.status).toBe('handoff');
    await visitor.close();
  });
});
