import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { openWidget, sendMessage, waitForMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The visitor's earlier conversations in the widget: a chunk fetched only when asked for, listing
// this browser session's other conversations with the tenant and showing one read-only.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let agent: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
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

  it('continues an earlier conversation: the agent reads the new message in it', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    const w = widget(page);
    await sendMessage(page, 'Is the red tent waterproof?');
    await waitForMessage(page, 'assistant', '', 30_000);
    const [earlier] = await ui.h.db.asService((sql) =>
      sql.query<{ id: string }>(
        `select conversation_id as id from public.messages where content = 'Is the red tent waterproof?'`,
      ),
    );
    await w.newConversation.click();
    await page.locator('[data-parley="confirm-new-yes"]').click();
    await sendMessage(page, 'Something unrelated');
    await waitForMessage(page, 'user', 'Something unrelated');

    await page.locator('[data-parley="history"]').click();
    const item = page.locator('[data-parley="history-item"]').first();
    await item.waitFor({ timeout: 20_000 });
    await item.click();
    const resume = page.locator('[data-parley="history-continue"]');
    await resume.waitFor();
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
    await resume.click();
    // The window is back, showing the earlier conversation, and the composer writes in it.
    await waitForMessage(page, 'user', 'Is the red tent waterproof?', 20_000);
    expect(await page.locator('[data-parley="history-message"]').count()).toBe(0);
    await sendMessage(page, 'And does it come in green?');
    await waitForMessage(page, 'user', 'And does it come in green?');

    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    const a = admin(staff);
    const row = a.row(earlier?.id as string);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
    await a.conversation.waitFor({ state: 'visible' });
    await expect
      .poll(() => a.messages.filter({ hasText: 'And does it come in green?' }).count(), {
        timeout: 20_000,
      })
      .toBe(1);
    expect(await a.messages.filter({ hasText: 'Something unrelated' }).count()).toBe(0);
    // After a reload the widget stays in the conversation it went back to.
    await page.reload();
    await openWidget(page);
    await waitForMessage(page, 'user', 'And does it come in green?', 20_000);
  }, 180_000);
});
