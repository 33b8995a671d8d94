import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../functions/_shared/webhooks/signature.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  startChatHarness,
  TOOL_SECRET,
  Visitor,
} from '../support/chat.ts';

// Buttons and cards from the tenant's n8n workflow, at once or through /n8n-callback: stored with
// the reply, broadcast to the visitor and read back with the conversation; an unsafe one is
// refused (the callback answers 400 and nothing is written).

let h: ChatHarness;
beforeAll(async () => {
  h = await startChatHarness();
}, 120_000);
afterAll(() => h?.close());

const RICH = {
  buttons: [{ label: 'Track my order', url: 'https://shop.example/track' }],
  cards: [
    {
      title: 'Blue mug',
      image_url: 'https://cdn.example/mug.png',
      buttons: [{ label: 'More like this', payload: 'Show me more mugs' }],
    },
  ],
};

async function conversation(path: string) {
  const tenant = await createTenant(h, { engine: 'n8n', n8nPath: path });
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key });
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  await visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: 'r1',
    content: 'Show me mugs',
  });
  return { tenant, visitor, conversationId };
}

function callback(body: Record<string, unknown>) {
  const raw = JSON.stringify(body);
  const headers = signRequest({ secret: TOOL_SECRET, body: raw, id: `msg_${crypto.randomUUID()}` });
  return fetch(`${h.stack.url}/functions/v1/n8n-callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  }).then(async (res) => ({ status: res.status, body: await res.json() }));
}

describe('rich replies from n8n', () => {
  it('an immediate answer’s buttons and cards reach the visitor and stay with the conversation', async () => {
    h.receiver.on('/n8n-rich-now', {
      status: 200,
      body: { reply: 'Here are our mugs.', rich: RICH },
    });
    const { visitor, conversationId } = await conversation('/n8n-rich-now');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload).toMatchObject({ content: 'Here are our mugs.', rich: RICH });
    const listed = await visitor.call(`messages?conversation_id=${conversationId}`);
    const stored = (listed.body.messages as { role: string; rich: unknown }[]).find(
      (m) => m.role === 'assistant',
    );
    expect(stored?.rich).toEqual(RICH);
    await visitor.close();
  });

  it('a callback with buttons is stored; one with a script link is refused with 400', async () => {
    h.receiver.on('/n8n-rich-later', { status: 202, body: {} });
    const { visitor, conversationId } = await conversation('/n8n-rich-later');
    const bad = await callback({
      conversation_id: conversationId,
      reply: 'Click here',
      rich: { buttons: [{ label: 'Click', url: 'javascript:alert(1)' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBeTypeOf('string');

    const good = await callback({
      conversation_id: conversationId,
      reply: 'Later mugs.',
      rich: RICH,
    });
    expect(good.status).toBe(201);
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload).toMatchObject({ content: 'Later mugs.', rich: RICH });
    const rows = await h.db.asService((sql) =>
      sql.query<{ content: string; rich: unknown }>(
        `select content, rich from public.messages where conversation_id = $1 and role = 'assistant'`,
        [conversationId],
      ),
    );
    expect(rows).toEqual([{ content: 'Later mugs.', rich: RICH }]);
    await visitor.close();
  });
});
