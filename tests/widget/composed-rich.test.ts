import { beforeAll, describe, expect, it } from 'vitest';
import { RICH_TOOL } from '../../functions/_shared/agent/rich-tool.ts';
import {
  admin,
  createStaff,
  latestConversation,
  type Staff,
  signInToAdmin,
} from '../support/admin.ts';
import {
  inShadow,
  openWidget,
  sendMessage,
  waitForMessage,
  waitForReply,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';
import { expectClean, inspect, PAYLOADS, PWN } from '../support/xss.ts';

// Buttons and cards made by people and by the model, seen in Chromium: an agent composes a card in
// the inbox (refused in words while a link is not http(s)), the model calls its rich tool, and the
// visitor's widget draws both as nodes. Hostile labels, titles and links stay text.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let agent: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });
const flat = (text: string | null) => (text ?? '').replace(/\s+/g, ' ').trim();

describe('rich replies in the browser', () => {
  it('an agent composes a card with hostile text; the widget shows it as text and nodes', async () => {
    const { page: shop, problems } = await ui.openShop(tenant);
    const dialogs: string[] = [];
    shop.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss().catch(() => {});
    });
    await openWidget(shop);
    ui.h.llm.script({ text: 'Let me find someone.' });
    await sendMessage(shop, 'Which boots fit wide feet?');
    await waitForReply(shop, 'Let me find someone');
    const conversation = await latestConversation(ui.h, tenant);

    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    const a = admin(staff);
    await a.row(conversation.id).click();
    await a.conversation.waitFor({ state: 'visible' });

    const title = PAYLOADS[1] as string; // <img src=x onerror=…>
    const text = PAYLOADS[0] as string; // <script>…</script>
    const label = PAYLOADS[9] as string; // <a href="javascript:…">click me</a>
    const sneaky = `https://shop.example/"onmouseover="${PWN}`;
    const postback = PAYLOADS[3]?.slice(0, 80) as string; // <svg onload=…>

    await a.input.fill('These fit **wide feet**.');
    await staff.locator('[data-admin="rich-toggle"]').click();
    const composer = staff.locator('[data-admin="rich-composer"]');
    await composer.waitFor({ state: 'visible' });
    await composer.locator('[data-admin="rich-add-card"]').click();
    const card = composer.locator('[data-admin="rich-card"]');
    await card.locator('[data-admin="rich-card-title"]').fill(title);
    await card.locator('[data-admin="rich-card-text"]').fill(text);
    await card.locator('[data-admin="rich-add-button"]').click();
    await card.locator('[data-admin="rich-label"]').fill(label);
    await card.locator('[data-admin="rich-value"]').fill(`javascript:${PWN}`);
    // A reply-style button under the card.
    await composer.locator('[data-admin="rich-add-button"]').first().click();
    const top = composer.locator(':scope > .rich-buttons [data-admin="rich-button"]');
    await top.locator('[data-admin="rich-label"]').fill(postback);
    await top.locator('[data-admin="rich-kind"]').selectOption('payload');
    await top.locator('[data-admin="rich-value"]').fill('Show me wide boots');

    // Not sent while the card's link is not http(s): the agent is told why.
    await a.send.click();
    await poll(() => staff.locator('[role="alert"]').first().textContent()).toContain('http');
    expect(await a.input.inputValue()).toBe('These fit **wide feet**.');

    await card.locator('[data-admin="rich-value"]').fill(sneaky);
    await a.send.click();
    const reply = await waitForMessage(shop, 'agent', 'These fit', 20_000);
    const cards = reply.locator('[data-parley="card"]');
    await poll(() => cards.count()).toBe(1);
    expect(flat(await cards.locator('h3').textContent())).toBe(flat(title));
    expect(flat(await cards.locator('p').textContent())).toBe(flat(text));
    const link = cards.locator('[data-parley="rich-link"]');
    expect(flat(await link.textContent())).toBe(flat(label));
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await link.getAttribute('href')).toMatch(/^https:\/\/shop\.example\//);
    await link.hover();

    // The postback sends its payload as the visitor's words, as text.
    await reply.locator('[data-parley="rich-postback"]').click();
    await waitForMessage(shop, 'user', 'Show me wide boots');
    const stored = await ui.h.db.asService((sql) =>
      sql.query<{ rich: unknown }>(
        `select rich from public.messages where conversation_id = $1 and role = 'agent'`,
        [conversation.id],
      ),
    );
    expect(stored).toEqual([
      {
        rich: {
          buttons: [{ label: postback, payload: 'Show me wide boots' }],
          cards: [{ title, text, buttons: [{ label, url: sneaky }] }],
        },
      },
    ]);
    expectClean(await inspect(shop), dialogs);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);

    // Staff see what went out, as text as well.
    const sent = a.messages.filter({ hasText: 'These fit' }).locator('[data-admin="rich"]');
    await poll(() => sent.locator('[data-admin="rich-card"] strong').textContent()).toBe(title);
    expect(
      await staff.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned),
    ).toBeUndefined();
    expect(await sent.locator('img, script, svg').count()).toBe(0);

    // Filled, closed and opened again empty, the composer adds nothing to the next reply.
    const toggle = staff.locator('[data-admin="rich-toggle"]');
    await toggle.click();
    await composer.locator('[data-admin="rich-add-button"]').first().click();
    await composer.locator('[data-admin="rich-label"]').fill('Hidden');
    await composer.locator('[data-admin="rich-value"]').fill('https://shop.example/hidden');
    await toggle.click();
    await toggle.click();
    await composer.waitFor({ state: 'visible' });
    expect(await composer.locator('[data-admin="rich-button"]').count()).toBe(0);
    await a.input.fill('Anything else?');
    await a.send.click();
    await waitForMessage(shop, 'agent', 'Anything else?', 20_000);
    const [plain] = await ui.h.db.asService((sql) =>
      sql.query<{ rich: unknown }>(
        `select rich from public.messages where conversation_id = $1 and content = 'Anything else?'`,
        [conversation.id],
      ),
    );
    expect(plain?.rich).toBeNull();
  }, 120_000);

  it('the model’s buttons and cards reach the widget as nodes', async () => {
    const { page: shop } = await ui.openShop(tenant);
    await openWidget(shop);
    ui.h.llm.script({
      text: 'Our widest boot: TRAILWIDE.',
      toolCalls: [
        {
          name: RICH_TOOL,
          arguments: {
            cards: [
              {
                title: 'Trailwide boot',
                text: 'Extra wide fit',
                buttons: [{ label: 'See the boot', url: 'https://shop.example/trailwide' }],
              },
            ],
            buttons: [{ label: 'Other sizes', payload: 'Which sizes are there?' }],
          },
        },
      ],
    });
    await sendMessage(shop, 'Your widest boot?');
    const reply = await waitForReply(shop, 'TRAILWIDE');
    await poll(() => reply.locator('[data-parley="card"] h3').textContent()).toBe('Trailwide boot');
    const labels = await inShadow(shop, (root) =>
      [...root.querySelectorAll('[data-parley="rich-link"], [data-parley="rich-postback"]')].map(
        (e) => e.textContent,
      ),
    );
    expect(labels).toEqual(['See the boot', 'Other sizes']);
  }, 120_000);
});
