import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/axe.ts';
import { openWidget, sendMessage, waitForMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The visitor's earlier conversations in the widget: a chunk fetched only when asked for, listing
// this browser session's other conversations with the tenant and showing one read-only.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
}, 120_000);

describe('earlier conversations in the widget', () => {
  it('lists the session’s other conversations and shows one, loaded on demand', async () => {
    const { page, problems } = await ui.openShop(tenant);
    const chunks: string[] = [];
    page.on('request', (request) => {
      if (/parley-history-[^/]+\.js$/.test(request.url())) chunks.push(request.url());
    });
    await openWidget(page);
    const w = widget(page);
    await sendMessage(page, 'Do you ship to Norway?');
    await waitForMessage(page, 'assistant', '', 30_000);
    await w.newConversation.click();
    await page.locator('[data-parley="confirm-new-yes"]').click();
    await sendMessage(page, 'A new question');
    await waitForMessage(page, 'user', 'A new question');
    expect(chunks).toEqual([]);

    await page.locator('[data-parley="history"]').click();
    const items = page.locator('[data-parley="history-item"]');
    await expect.poll(() => items.count(), { timeout: 20_000 }).toBe(1);
    expect(chunks).toHaveLength(1);
    expect(await items.first().textContent()).toContain('·');
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);

    await items.first().click();
    const shown = page.locator('[data-parley="history-message"]');
    await expect.poll(() => shown.filter({ hasText: 'Do you ship to Norway?' }).count()).toBe(1);
    expect(await shown.filter({ hasText: 'A new question' }).count()).toBe(0);

    // Back to the list, then back to the conversation being had.
    await page.locator('[data-parley="history-back"]').click();
    await items.first().waitFor();
    await page.locator('[data-parley="history-back"]').click();
    await waitForMessage(page, 'user', 'A new question');
    expect(problems).toEqual([]);
  }, 120_000);
});
