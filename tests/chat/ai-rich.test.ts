import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RICH_TOOL } from '../../functions/_shared/agent/rich-tool.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  startChatHarness,
  Visitor,
} from '../support/chat.ts';

// Buttons and cards from the AI engine: the model calls the built-in rich tool (OpenAI's and
// Anthropic's wire formats alike), the part is checked with the stored shape's schema, kept with
// the reply, broadcast and read back. A part that does not fit is dropped and the text still goes
// out.

let h: ChatHarness;
beforeAll(async () => {
  h = await startChatHarness();
}, 120_000);
afterAll(() => h?.close());

const RICH = {
  cards: [
    {
      title: 'Trail tent 2P',
      text: 'Two people, 1.9 kg',
      image_url: 'https://cdn.example/tent.jpg',
      buttons: [
        { label: 'See the tent', url: 'https://shop.example/tent' },
        { label: 'Compare tents', payload: 'Compare your two-person tents' },
      ],
    },
  ],
  buttons: [{ label: 'Talk about sizes', payload: 'Which size do I need?' }],
};

const PARCEL = [{ label: 'Follow the parcel', url: 'https://carrier.example/t/1' }];

async function ask(llm: 'openai' | 'anthropic', question: string) {
  const tenant = await createTenant(h, { llm });
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  const first = h.llm.requests.length;
  const sent = await visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: crypto.randomUUID(),
    content: question,
  });
  expect(sent.status).toBe(202);
  const reply = await visitor.waitFor(isReply);
  const listed = await visitor.call(`messages?conversation_id=${conversationId}`);
  const stored = (listed.body.messages as { role: string; rich: unknown }[]).find(
    (m) => m.role === 'assistant',
  );
  await visitor.close();
  return { reply, stored, requests: h.llm.requests.slice(first) };
}

describe('rich replies from the AI engine', () => {
  it.each(['openai', 'anthropic'] as const)(
    '%s: text beside the rich tool is the reply, with its buttons and cards, in one model call',
    async (llm) => {
      h.llm.script({
        text: 'Here is our lightest tent.',
        toolCalls: [{ name: RICH_TOOL, arguments: RICH }],
      });
      const { reply, stored, requests } = await ask(llm, 'Which tent is lightest?');
      expect(reply.payload).toMatchObject({ content: 'Here is our lightest tent.', rich: RICH });
      expect(stored?.rich).toEqual(RICH);
      expect(requests).toHaveLength(1);
      const offered = (requests[0]?.body.tools ?? []).map((t) =>
        JSON.stringify(t).includes(RICH_TOOL),
      );
      expect(offered).toContain(true);
    },
  );

  it('the rich tool called alone is answered, and the text that follows carries the part', async () => {
    h.llm.script(
      { toolCalls: [{ name: RICH_TOOL, arguments: { buttons: PARCEL } }] },
      { text: 'You can follow your parcel with the button below.' },
    );
    const { reply, stored, requests } = await ask('openai', 'Where is my parcel?');
    expect(reply.payload).toMatchObject({
      content: 'You can follow your parcel with the button below.',
      rich: { buttons: PARCEL },
    });
    expect(stored?.rich).toEqual({ buttons: PARCEL });
    expect(requests).toHaveLength(2);
    expect(requests[1]?.toolResults[0]?.content).toContain('"ok":true');
  });

  it.each([
    ['a script link', { buttons: [{ label: 'Click', url: 'javascript:alert(1)' }] }],
    ['a data picture', { cards: [{ title: 'x', image_url: 'data:image/svg+xml,<svg/>' }] }],
    ['a button with both', { buttons: [{ label: 'x', url: 'https://a.example', payload: 'p' }] }],
    ['unknown keys', { html: '<b>x</b>' }],
    ['six buttons', { buttons: Array(6).fill({ label: 'x', payload: 'p' }) }],
    ['arguments that are not JSON', '{"buttons": ['],
  ])('%s is dropped and the text still reaches the visitor', async (_name, bad) => {
    h.llm.script({
      text: 'Here you go.',
      toolCalls: [{ name: RICH_TOOL, arguments: bad }],
    });
    const { reply, stored } = await ask('openai', 'Show me something');
    expect(reply.payload).toMatchObject({ content: 'Here you go.', rich: null });
    expect(stored?.rich).toBeNull();
  });

  it('a rejected part is explained to a model that has not written its text yet', async () => {
    h.llm.script(
      {
        toolCalls: [{ name: RICH_TOOL, arguments: { buttons: [{ label: 'x', url: 'ftp://a' }] } }],
      },
      { text: 'Our returns page explains it.' },
    );
    const { reply, requests } = await ask('openai', 'How do returns work?');
    expect(reply.payload).toMatchObject({ content: 'Our returns page explains it.', rich: null });
    expect(requests[1]?.toolResults[0]?.content).toContain('Nothing was shown');
  });
});
