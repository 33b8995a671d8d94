import { beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  createStaff,
  latestConversation,
  type Staff,
  signInToAdmin,
} from '../support/admin.ts';
import {
  openWidget,
  renderedMessages,
  sendMessage,
  waitForMessage,
  waitForReply,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The live-chat loop in two Chromium contexts: a visitor in the widget on a shop page, an agent in
// the admin SPA served by the stack. Everything the agent sees arrives over Realtime (no reload),
// and everything the agent does goes through the Data API under RLS.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let agent: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
}, 120_000);

// The stack, two browsers and everyone else's tests share two cores: give the UI time.
const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 10_000, ...options });

describe('the admin inbox', () => {
  it('redirects /admin to the SPA and refuses a wrong password', async () => {
    const { page } = await ui.newPage();
    await page.goto(`${ui.h.stack.url}/admin`);
    expect(new URL(page.url()).pathname).toBe('/admin/');
    await page.locator('input[name="email"]').fill(agent.email);
    await page.locator('input[name="password"]').fill('not-the-password');
    await page.locator('form button[type="submit"]').click();
    await poll(() => page.locator('[role="alert"]').count()).toBe(1);
  });

  it('handoff → take over → reply reaches the visitor; a note never does; resolve', async () => {
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    const a = admin(staff);
    expect(await a.rows.count()).toBe(0);

    // The visitor starts chatting: the conversation appears in the inbox live.
    const { page: shop } = await ui.openShop(tenant);
    await openWidget(shop);
    ui.h.llm.script({ text: 'Standard shipping takes 3 to 5 business days.' });
    await sendMessage(shop, 'How long does shipping take?');
    await waitForReply(shop, '3 to 5 business days');
    const conversation = await latestConversation(ui.h, tenant);
    const row = a.row(conversation.id);
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await poll(() => row.getAttribute('data-status')).toBe('bot');

    // The visitor asks for a person: the row turns to "waiting".
    await widget(shop).human.click();
    await poll(() => row.getAttribute('data-status'), { timeout: 15_000 }).toBe('handoff');

    // The agent opens it (keyboard: j opens the first row), sees the transcript, takes over.
    await staff.keyboard.press('j');
    await a.conversation.waitFor({ state: 'visible' });
    await poll(() => a.messages.filter({ hasText: 'How long does shipping take?' }).count()).toBe(
      1,
    );
    await poll(() => a.messages.filter({ hasText: '3 to 5 business days' }).count()).toBe(1);
    await a.takeOver.click();
    await poll(() => a.status.getAttribute('data-status')).toBe('open');
    expect(await latestConversation(ui.h, tenant)).toMatchObject({
      status: 'open',
      assignee_id: agent.id,
    });

    // A reply in Markdown reaches the widget, from the agent, as text (never markup).
    await a.input.fill('Hi, I am **Dana**. Let me <b>check</b> that for you.');
    // While the agent writes, the visitor sees them typing, under the name the tenant shows.
    await widget(shop).typing.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await widget(shop).typing.getAttribute('aria-label')).toContain('Dana');
    await a.send.click();
    const reply = await waitForMessage(shop, 'agent', 'Let me', 20_000);
    expect(await reply.locator('strong').textContent()).toBe('Dana');
    expect(await reply.locator('b').count()).toBe(0);

    // An internal note shows in the admin and never in the widget.
    await a.modeNote.click();
    await a.input.fill('Internal: refund approved ZX-99');
    await a.input.press('Control+Enter');
    const note = a.messages.filter({ hasText: 'ZX-99' });
    await note.waitFor({ state: 'visible' });
    expect(await note.getAttribute('data-private')).toBe('true');

    // The visitor writes again; the agent sees it live.
    await sendMessage(shop, 'Thanks, waiting');
    await poll(() => a.messages.filter({ hasText: 'Thanks, waiting' }).count()).toBe(1);
    const seen = await renderedMessages(shop);
    expect(seen.some((m) => m.text.includes('ZX-99'))).toBe(false);
    expect(await shop.content()).not.toContain('ZX-99');

    // Resolve: the visitor's widget shows the conversation closed.
    await a.resolve.click();
    await poll(() => a.status.getAttribute('data-status')).toBe('resolved');
    await poll(() => row.getAttribute('data-status')).toBe('resolved');
    await poll(() => widget(shop).newConversation.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(ui.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  }, 120_000);

  it('a takeover mid-answer stops the bot: its reply is never posted', async () => {
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    const a = admin(staff);
    const { page: shop } = await ui.openShop(tenant);
    await openWidget(shop);
    // Opening the widget starts the conversation; the agent opens it before the visitor writes.
    let id = '';
    await poll(async () => {
      const [row] = await ui.h.db.asService((sql) =>
        sql.query<{ id: string }>(
          `select id from public.conversations where tenant_id = $1 and status = 'bot'
            order by created_at desc limit 1`,
          [tenant.id],
        ),
      );
      id = row?.id ?? '';
      return id;
    }).not.toBe('');
    await a.row(id).click();
    await a.takeOver.waitFor({ state: 'visible' });

    // The answer streams in four slow pieces: the agent takes over while the visitor watches.
    const answer = `${'The Summit tent is waterproof to 3000 mm and sleeps two comfortably. '.repeat(8)}GHOST-REPLY`;
    ui.h.llm.script({ text: answer, chunkDelayMs: 2500 });
    await sendMessage(shop, 'Is the Summit tent waterproof?');
    await widget(shop).partial.waitFor({ state: 'visible', timeout: 20_000 });
    await a.takeOver.click();
    await poll(() => a.status.getAttribute('data-status')).toBe('open');
    // The widget drops the half-written answer at once.
    await poll(() => widget(shop).partial.count()).toBe(0);

    // The bot's job ends without a reply, and nothing of it ever reaches anyone.
    await poll(
      async () => {
        const rows = await ui.h.db.asService((sql) =>
          sql.query<{ status: string }>(
            `select status from public.jobs where kind = 'reply' and ordering_key = $1`,
            [`conversation:${id}`],
          ),
        );
        return rows.map((r) => r.status).join();
      },
      { timeout: 30_000 },
    ).toBe('succeeded');
    const stored = await ui.h.db.asService((sql) =>
      sql.query(
        `select id from public.messages where conversation_id = $1 and role = 'assistant'`,
        [id],
      ),
    );
    expect(stored).toEqual([]);
    await shop.waitForTimeout(500);
    expect((await renderedMessages(shop)).some((m) => m.text.includes('GHOST-REPLY'))).toBe(false);
    expect(await widget(shop).partial.count()).toBe(0);
    expect(await a.messages.filter({ hasText: 'GHOST-REPLY' }).count()).toBe(0);
  }, 120_000);
});
