import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff, signInToAdmin } from '../support/admin.ts';
import { openWidget, sendMessage, waitForMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Two Chromium contexts, a visitor in the widget and an agent in the admin: a handoff outside
// business hours ends with the visitor's email in the agent's view of the conversation, and an
// agent passes a conversation to a colleague from the conversation view.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let closed: TestTenant;
let staffed: TestTenant;
let dana: Staff;
let eli: Staff;
let night: Staff;

beforeAll(async () => {
  [closed, staffed] = await Promise.all([
    createTenant(ui.h, { llm: null }),
    createTenant(ui.h, { llm: null }),
  ]);
  [dana, eli, night] = await Promise.all([
    createStaff(ui.h, staffed, 'agent', 'Dana'),
    createStaff(ui.h, staffed, 'agent', 'Eli'),
    createStaff(ui.h, closed, 'agent', 'Noa'),
  ]);
  // Open every day but today, all day, in UTC: people are back at midnight.
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const today = new Date().getUTCDay();
  const hours = Object.fromEntries(
    days.filter((_, i) => i !== today).map((d) => [d, [['00:00', '24:00']]]),
  );
  await ui.h.db.asService((sql) =>
    sql.query(
      `update public.tenants set business_hours = $2::jsonb, time_zone = 'UTC' where id = $1`,
      [closed.id, hours],
    ),
  );
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, interval: 250, ...options });

const conversationOf = async (tenant: TestTenant) => {
  const [row] = await ui.h.db.asService((sql) =>
    sql.query<{ id: string; assignee_id: string | null; followup_email: string | null }>(
      `select id, assignee_id, followup_email from public.conversations where tenant_id = $1
        order by created_at desc limit 1`,
      [tenant.id],
    ),
  );
  if (!row) throw new Error('no conversation yet');
  return row;
};

describe('offline hours and transfers', () => {
  it('outside business hours the visitor leaves an email and the agent sees it', async () => {
    const { page: shop } = await ui.openShop(closed);
    await openWidget(shop);
    await sendMessage(shop, 'Hello, anyone there?');
    await waitForMessage(shop, 'user', 'Hello, anyone there?');
    await widget(shop).human.click();
    const tomorrow = new Intl.DateTimeFormat('en', { weekday: 'long', timeZone: 'UTC' }).format(
      new Date(Date.now() + 86_400_000),
    );
    await waitForMessage(shop, 'assistant', `back ${tomorrow}`, 30_000);
    await sendMessage(shop, 'noa.visitor@example.com');
    await waitForMessage(shop, 'assistant', 'noa.visitor@example.com', 30_000);

    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, night);
    const a = admin(staff);
    const conversation = await conversationOf(closed);
    expect(conversation.followup_email).toBe('noa.visitor@example.com');
    await a.row(conversation.id).click();
    await a.conversation.waitFor({ state: 'visible' });
    const email = staff.locator('[data-admin="followup-email"]');
    await poll(() => email.textContent()).toContain('noa.visitor@example.com');
    expect(await email.locator('a').getAttribute('href')).toBe('mailto:noa.visitor@example.com');
  }, 180_000);

  it('an agent transfers a conversation to a colleague from the conversation view', async () => {
    const { page: shop } = await ui.openShop(staffed);
    await openWidget(shop);
    await sendMessage(shop, 'I need help with a return');
    await waitForMessage(shop, 'user', 'I need help with a return');
    await widget(shop).human.click();
    const { id } = await conversationOf(staffed);

    const { page: danaPage } = await ui.newPage();
    await signInToAdmin(danaPage, ui.h, dana);
    const a = admin(danaPage);
    await a.row(id).click();
    await a.conversation.waitFor({ state: 'visible' });
    await a.takeOver.click();
    await poll(async () => (await conversationOf(staffed)).assignee_id).toBe(dana.id);
    await a.input.fill('Let me check that for you.');
    await a.send.click();
    await waitForMessage(shop, 'agent', 'Let me check that for you.', 30_000);

    // Transfer: Eli becomes the assignee, in the database and in Eli's own inbox.
    await poll(() => a.assignee.locator(`option[value="${eli.id}"]`).count()).toBe(1);
    // Only the tenant's own team is offered: another tenant's agent is not a choice.
    expect(await a.assignee.locator(`option[value="${night.id}"]`).count()).toBe(0);
    await a.assignee.selectOption(eli.id);
    await poll(async () => (await conversationOf(staffed)).assignee_id).toBe(eli.id);
    await poll(() => a.assignee.inputValue()).toBe(eli.id);

    const { page: eliPage } = await ui.newPage();
    await signInToAdmin(eliPage, ui.h, eli);
    const e = admin(eliPage);
    await eliPage.locator('[data-filter="mine"]').click();
    await e.row(id).waitFor({ state: 'visible', timeout: 20_000 });
    await e.row(id).click();
    await poll(() => e.assignee.inputValue()).toBe(eli.id);
    await e.input.fill('Eli here, I will take it from now.');
    await e.send.click();
    await waitForMessage(shop, 'agent', 'Eli here, I will take it from now.', 30_000);
  }, 180_000);
});
