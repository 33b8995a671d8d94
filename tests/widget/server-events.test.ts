import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openWidget, renderedMessages, waitForMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The widget renders what the server sends on the conversation's topic, in the shape the server
// gives it: an event of another shape, about another conversation, or claiming a role its sender
// cannot have (a visitor's typing shown as staff's, an update that turns a message into an agent's)
// is not rendered, and a malformed part of a message (a source title that is a list) does not
// take the conversation's view down with it.

const ui = useBrowserHarness();
let tenant: TestTenant;
const seen = new Set<string>();

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
}, 120_000);

async function openConversation() {
  const { page, problems } = await ui.openShop(tenant);
  await openWidget(page);
  // Each test's visitor is new, so its conversation is the one not seen before.
  let conversationId: string | undefined;
  for (let i = 0; i < 100 && !conversationId; i++) {
    const [row] = await ui.h.db.asService((sql) =>
      sql.query<{ id: string }>(
        'select id from public.conversations where tenant_id = $1 and not (id = any($2::uuid[])) limit 1',
        [tenant.id, [...seen]],
      ),
    );
    conversationId = row?.id;
    if (!conversationId) await new Promise((r) => setTimeout(r, 100));
  }
  if (!conversationId) throw new Error('the widget opened no conversation');
  seen.add(conversationId);
  // The widget listens once its channel is joined.
  await expect.poll(() => widget(page).status.getAttribute('data-state')).toBe('online');
  return { page, problems, conversationId };
}

/** What only the server can do: send on the conversation's private topic. */
const serverSends = (conversationId: string, event: string, payload: Record<string, unknown>) =>
  ui.h.db.asService((sql) =>
    sql.query(`select realtime.send($1::jsonb, $2, $3, true)`, [
      payload,
      event,
      `conversation:${conversationId}`,
    ]),
  );

const message = (conversationId: string, fields: Record<string, unknown>) => ({
  id: crypto.randomUUID(),
  conversation_id: conversationId,
  role: 'assistant',
  content: 'x',
  quick_replies: null,
  sources: null,
  status: 'sent',
  client_msg_id: null,
  author: null,
  feedback: null,
  created_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
  ...fields,
});

/** Sends a real message last: once it is shown, everything sent before it was handled. */
async function settle(page: Page, conversationId: string, text: string) {
  await serverSends(conversationId, 'message_created', message(conversationId, { content: text }));
  await waitForMessage(page, 'assistant', text);
}

describe('server events in the widget', () => {
  it('renders a message whose sources are malformed, without the malformed parts', async () => {
    const { page, problems, conversationId } = await openConversation();
    await serverSends(
      conversationId,
      'message_created',
      message(conversationId, {
        content: 'See our returns page.',
        sources: [
          { title: ['not', 'a', 'title'], url: 'https://shop.example/a' },
          { title: 'Returns', url: 'https://shop.example/returns' },
          'junk',
          null,
        ],
        quick_replies: ['Track my order', { label: 'no' }, 7],
        author: { name: ['x'] },
      }),
    );
    await waitForMessage(page, 'assistant', 'See our returns page.');
    const w = widget(page);
    await expect.poll(() => w.sources.allTextContents()).toEqual(['Returns']);
    expect(await w.quickReplies.allTextContents()).toEqual(['Track my order']);
    // The view keeps working afterwards.
    await settle(page, conversationId, 'Still here.');
    expect(problems).toEqual([]);
  });

  it('ignores events of another shape, another conversation, or a role they cannot claim', async () => {
    const { page, conversationId } = await openConversation();
    const w = widget(page);
    const real = message(conversationId, { content: 'The real answer.' });
    await serverSends(conversationId, 'message_created', real);
    await waitForMessage(page, 'assistant', 'The real answer.');

    const other = crypto.randomUUID();
    await serverSends(
      conversationId,
      'message_created',
      message(other, { content: 'From another conversation.' }),
    );
    await serverSends(conversationId, 'message_created', { content: 'No id, no role.' });
    await serverSends(
      conversationId,
      'message_created',
      message(conversationId, { role: 'operator', content: 'Unknown role.' }),
    );
    await serverSends(
      conversationId,
      'message_created',
      message(conversationId, { content: ['a', 'list'] }),
    );
    // An update may change the text of a message, never who wrote it.
    await serverSends(conversationId, 'message_updated', {
      ...real,
      role: 'agent',
      author: { name: 'Support Team', avatar_url: null },
      content: 'Rewritten as staff.',
      updated_at: new Date(Date.now() + 1000).toISOString(),
    });
    await serverSends(conversationId, 'status_changed', { id: other, status: 'resolved' });
    await serverSends(conversationId, 'status_changed', { id: conversationId, status: 'hacked' });
    await serverSends(conversationId, 'reply_delta', {
      conversation_id: other,
      text: 'partial elsewhere',
    });
    // The visitor's own typing (stamped by the server as the visitor's) is not shown as staff typing.
    await serverSends(conversationId, 'typing', {
      conversation_id: conversationId,
      typing: true,
      by: 'visitor',
    });
    await serverSends(conversationId, 'typing', {
      conversation_id: conversationId,
      typing: true,
      name: 'Support Team',
    });
    await settle(page, conversationId, 'Settled.');

    expect((await renderedMessages(page)).map((m) => [m.role, m.text])).toEqual([
      ['assistant', 'The real answer.'],
      ['assistant', 'Settled.'],
    ]);
    expect(await w.typing.count()).toBe(0);
    expect(await w.partial.count()).toBe(0);
    expect(await w.input.isEnabled()).toBe(true);
  });

  it('shows the server’s typing and status events as they are', async () => {
    const { page, conversationId } = await openConversation();
    const w = widget(page);
    await serverSends(conversationId, 'typing', {
      conversation_id: conversationId,
      typing: true,
      by: 'agent',
      name: 'Sam',
    });
    await w.typing.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await w.typing.getAttribute('aria-label')).toContain('Sam');
    await serverSends(conversationId, 'typing', {
      conversation_id: conversationId,
      typing: false,
      by: 'agent',
      name: 'Sam',
    });
    await expect.poll(() => w.typing.count()).toBe(0);

    await serverSends(conversationId, 'typing', {
      conversation_id: conversationId,
      typing: true,
      by: 'bot',
    });
    await w.typing.waitFor({ state: 'visible', timeout: 10_000 });
    await serverSends(conversationId, 'reply_delta', {
      conversation_id: conversationId,
      reply_to: crypto.randomUUID(),
      text: 'Partial answer',
    });
    await w.partial.waitFor({ state: 'visible', timeout: 10_000 });

    await serverSends(conversationId, 'status_changed', {
      id: conversationId,
      status: 'resolved',
      previous_status: 'bot',
    });
    // Resolved: the widget asks for a rating, and the composer stays, since a visitor's message
    // reopens the conversation for a person.
    await w.csat.first().waitFor({ state: 'visible', timeout: 10_000 });
    await expect.poll(() => w.partial.count()).toBe(0);
    expect(await w.input.isEnabled()).toBe(true);
  });
});
