import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeIdentityHash } from '../../functions/_shared/identity/verify-identity.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';

// POST /chat/history: a visitor's earlier conversations with a tenant and their transcripts. The
// same browser session sees its own; a verified identity, proved again with its hash, sees the
// contact's from any session; nobody else sees anything, and internal notes never show.

let h: ChatHarness;
let shop: TestTenant;
let otherShop: TestTenant;

beforeAll(async () => {
  h = await startChatHarness();
  [shop, otherShop] = await Promise.all([createTenant(h), createTenant(h)]);
}, 120_000);
afterAll(() => h?.close());

async function converse(visitor: Visitor, body: Record<string, unknown>, text: string) {
  const session = await visitor.call('sessions', { key: shop.key, ...body });
  expect(session.status).toBeLessThan(300);
  const id = session.body.conversation.id as string;
  const sent = await visitor.call('messages', {
    conversation_id: id,
    client_msg_id: crypto.randomUUID(),
    content: text,
  });
  expect(sent.status).toBe(202);
  return id;
}

const note = (conversationId: string, content: string) =>
  h.db.asService((sql) =>
    sql.query(
      `insert into public.messages (conversation_id, role, content, is_private) values ($1, 'agent', $2, true)`,
      [conversationId, content],
    ),
  );

describe('the visitor’s earlier conversations', () => {
  it('a session lists its own conversations and reads them, notes left out; others see nothing', async () => {
    const visitor = await Visitor.signIn(h);
    const first = await converse(visitor, {}, 'First question about tents');
    await note(first, 'INTERNAL: refund approved');
    const second = await converse(visitor, { new_conversation: true }, 'Second question');

    const list = await visitor.call('history', { key: shop.key });
    expect(list.status).toBe(200);
    expect(list.body.conversations.map((c: { id: string }) => c.id).sort()).toEqual(
      [first, second].sort(),
    );
    expect(JSON.stringify(list.body)).not.toContain('INTERNAL');

    const transcript = await visitor.call('history', { key: shop.key, conversation_id: first });
    expect(transcript.status).toBe(200);
    expect(transcript.body.messages.map((m: { content: string }) => m.content)).toContain(
      'First question about tents',
    );
    expect(JSON.stringify(transcript.body)).not.toContain('INTERNAL');

    const stranger = await Visitor.signIn(h);
    expect((await stranger.call('history', { key: shop.key })).body.conversations).toEqual([]);
    const peek = await stranger.call('history', { key: shop.key, conversation_id: first });
    expect(peek).toMatchObject({
      status: 404,
      body: { error: { code: 'conversation_not_found' } },
    });
    // Another tenant's key does not reach this tenant's conversations, even for their visitor.
    expect((await visitor.call('history', { key: otherShop.key })).body.conversations).toEqual([]);
  }, 60_000);

  it('a verified identity finds the contact’s conversations from another session; a wrong hash does not', async () => {
    const identifier = `customer-${crypto.randomUUID().slice(0, 8)}`;
    const identity = {
      identifier,
      identityHash: await computeIdentityHash(shop.identitySecret, identifier),
    };
    const laptop = await Visitor.signIn(h);
    const earlier = await converse(laptop, { visitor: identity }, 'Asked on my laptop');

    const phone = await Visitor.signIn(h);
    const list = await phone.call('history', { key: shop.key, visitor: identity });
    expect(list.body.conversations.map((c: { id: string }) => c.id)).toEqual([earlier]);
    const transcript = await phone.call('history', {
      key: shop.key,
      visitor: identity,
      conversation_id: earlier,
    });
    expect(transcript.body.messages.map((m: { content: string }) => m.content)).toContain(
      'Asked on my laptop',
    );

    const forged = await phone.call('history', {
      key: shop.key,
      visitor: { identifier, identityHash: '0'.repeat(64) },
    });
    expect(forged).toMatchObject({ status: 403, body: { error: { code: 'identity_invalid' } } });
    const unproved = await phone.call('history', { key: shop.key, visitor: { identifier } });
    expect(unproved.status).toBe(403);
    // Without the identity, the phone's session has nothing of its own.
    expect((await phone.call('history', { key: shop.key })).body.conversations).toEqual([]);
  }, 60_000);

  it('a visitor takes up an earlier conversation and writes in it; nobody else can', async () => {
    const visitor = await Visitor.signIn(h);
    const first = await converse(visitor, {}, 'About my order');
    await converse(visitor, { new_conversation: true }, 'Something else');

    const again = await visitor.call('sessions', { key: shop.key, conversation_id: first });
    expect(again).toMatchObject({ status: 200, body: { conversation: { id: first } } });
    const sent = await visitor.call('messages', {
      conversation_id: first,
      client_msg_id: crypto.randomUUID(),
      content: 'One more thing about that order',
    });
    expect(sent.status).toBe(202);

    // Another session, another tenant's key, or the playground: the same answer as no conversation.
    const stranger = await Visitor.signIn(h);
    const taken = await stranger.call('sessions', { key: shop.key, conversation_id: first });
    expect(taken).toMatchObject({
      status: 404,
      body: { error: { code: 'conversation_not_found' } },
    });
    const elsewhere = await visitor.call('sessions', {
      key: otherShop.key,
      conversation_id: first,
    });
    expect(elsewhere.status).toBe(404);
    const owner = await h.db.asService((sql) =>
      sql.query<{ visitor_id: string }>(
        'select visitor_id from public.conversations where id = $1',
        [first],
      ),
    );
    expect(owner[0]?.visitor_id).toBe(visitor.userId);
    const write = await stranger.call('messages', {
      conversation_id: first,
      client_msg_id: crypto.randomUUID(),
      content: 'Let me in',
    });
    expect(write.status).toBeGreaterThanOrEqual(400);
    expect(write.status).toBeLessThan(500);

    // A WhatsApp conversation stays there, even one the widget's visitor is tied to.
    const [phone] = await h.db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into public.conversations (tenant_id, visitor_id, channel) values ($1, $2, 'whatsapp')
         returning id`,
        [shop.id, visitor.userId],
      ),
    );
    const whatsapp = await visitor.call('sessions', { key: shop.key, conversation_id: phone?.id });
    expect(whatsapp.status).toBe(404);
  }, 60_000);

  it('a verified identity takes up the contact’s conversation on another device; without it, no', async () => {
    const identifier = `customer-${crypto.randomUUID().slice(0, 8)}`;
    const identity = {
      identifier,
      identityHash: await computeIdentityHash(shop.identitySecret, identifier),
    };
    const laptop = await Visitor.signIn(h);
    const earlier = await converse(laptop, { visitor: identity }, 'Started on my laptop');

    const phone = await Visitor.signIn(h);
    expect((await phone.call('sessions', { key: shop.key, conversation_id: earlier })).status).toBe(
      404,
    );
    const forged = await phone.call('sessions', {
      key: shop.key,
      visitor: { identifier, identityHash: '0'.repeat(64) },
      conversation_id: earlier,
    });
    expect(forged.status).toBe(403);
    // The laptop itself, signed out of the shop, no longer reaches a verified conversation.
    expect(
      (await laptop.call('sessions', { key: shop.key, conversation_id: earlier })).status,
    ).toBe(404);

    const moved = await phone.call('sessions', {
      key: shop.key,
      visitor: identity,
      conversation_id: earlier,
    });
    expect(moved).toMatchObject({ status: 200, body: { conversation: { id: earlier } } });
    const sent = await phone.call('messages', {
      conversation_id: earlier,
      client_msg_id: crypto.randomUUID(),
      content: 'Now on my phone',
    });
    expect(sent.status).toBe(202);
    // One browser holds it at a time: the laptop's session has let go of it.
    const stale = await laptop.call(`messages?conversation_id=${earlier}`);
    expect(stale.status).toBeGreaterThanOrEqual(400);
    expect(stale.status).toBeLessThan(500);
  }, 60_000);

  it('refuses bad input with a 400', async () => {
    const visitor = await Visitor.signIn(h);
    const bad = await visitor.call('history', { key: shop.key, conversation_id: 'nope' });
    expect(bad.status).toBe(400);
    const reopen = await visitor.call('sessions', { key: shop.key, conversation_id: 'nope' });
    expect(reopen.status).toBe(400);
  }, 30_000);
});
