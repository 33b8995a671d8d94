import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { openWidget, sendMessage, waitForMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Presence, routing and read receipts in Chromium: an agent goes online in the admin, handoffs
// are given to them up to the tenant's cap and queue beyond it, the visitor sees "Seen" when the
// agent opens the conversation, and the agent sees "Seen" once the widget showed their reply.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let dana: Staff;
let eli: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
  dana = await createStaff(ui.h, tenant, 'agent', 'Dana');
  eli = await createStaff(ui.h, tenant, 'agent', 'Eli');
  await ui.h.db.asService((sql) =>
    sql.query('update public.tenants set max_open_per_agent = 1 where id = $1', [tenant.id]),
  );
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, interval: 250, ...options });

/** The tenant's conversations started since `since`, oldest first. */
const conversationsSince = async (since: Date) => {
  const rows = await ui.h.db.asService((sql) =>
    sql.query<{ id: string; status: string; assignee_id: string | null }>(
      `select id, status, assignee_id from public.conversations
        where tenant_id = $1 and created_at >= $2 order by created_at`,
      [tenant.id, since],
    ),
  );
  return rows;
};

describe('presence, routing and read receipts', () => {
  it('an online agent is given handoffs up to the cap, the rest wait; receipts go both ways', async () => {
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, dana);
    const a = admin(staff);
    const presence = staff.locator('[data-admin="presence"]');
    await presence.locator('summary').click();
    const danaRow = presence.locator(`[data-agent="${dana.id}"]`);
    await poll(() => danaRow.getAttribute('data-presence')).toBe('offline');
    await presence.locator('[data-admin="my-status"]').selectOption('online');
    await poll(() => danaRow.getAttribute('data-presence')).toBe('online');
    expect(await presence.locator(`[data-agent="${eli.id}"]`).getAttribute('data-presence')).toBe(
      'offline',
    );

    // First visitor asks for a person: routed to Dana, the only one online.
    const since = new Date(Date.now() - 1000);
    const { page: first } = await ui.openShop(tenant);
    await openWidget(first);
    await widget(first).human.click();
    await poll(async () => (await conversationsSince(since))[0]?.assignee_id ?? null).toBe(dana.id);
    await poll(() => danaRow.textContent()).toContain('1');

    // Second visitor: Dana is at the cap of 1, so it waits unassigned.
    const { page: second } = await ui.openShop(tenant);
    await openWidget(second);
    await widget(second).human.click();
    await poll(async () => (await conversationsSince(since))[1]?.status ?? null).toBe('handoff');
    const [firstId, secondId] = (await conversationsSince(since)).map((c) => c.id) as [
      string,
      string,
    ];
    await staff.waitForTimeout(1000);
    expect((await conversationsSince(since))[1]?.assignee_id).toBeNull();

    // The first visitor writes; Dana opens the conversation: the visitor sees "Seen".
    await sendMessage(first, 'Is anyone there?');
    expect(await widget(first).window.locator('[data-parley="seen"]').count()).toBe(0);
    await a.row(firstId).click();
    await a.conversation.waitFor({ state: 'visible' });
    await poll(() => a.messages.filter({ hasText: 'Is anyone there?' }).count()).toBe(1);
    await poll(() => first.locator('[data-parley="seen"]').count(), { timeout: 30_000 }).toBe(1);
    // Why a person was asked for is on the conversation.
    await poll(() =>
      staff.locator('[data-admin="handoff-reason"]').getAttribute('data-reason'),
    ).toBe('visitor');

    // Dana replies; the open widget shows it, and Dana sees it was seen.
    await a.input.fill('Hi, Dana here.');
    await a.send.click();
    await waitForMessage(first, 'agent', 'Dana here', 30_000);
    await poll(() => staff.locator('[data-admin="seen"]').count(), { timeout: 30_000 }).toBe(1);

    // The presence panel, the handoff facts and the receipt pass axe in light English and in
    // dark right-to-left Hebrew.
    const axe = () => axeViolations(staff, { mustCheck: ['color-contrast'] });
    expect(await axe(), 'en, light').toEqual([]);
    await a.theme.selectOption('dark');
    await a.locale.selectOption('he');
    await poll(() => staff.evaluate(() => document.documentElement.dir)).toBe('rtl');
    expect(await axe(), 'he, dark').toEqual([]);
    await a.locale.selectOption('en');

    // Resolving frees Dana's place: the waiting conversation is hers now.
    await a.resolve.click();
    await poll(
      async () =>
        (await conversationsSince(since)).find((c) => c.id === secondId)?.assignee_id ?? null,
      { timeout: 30_000 },
    ).toBe(dana.id);

    // Going away hands back what she has not taken up yet.
    await presence.locator('[data-admin="my-status"]').selectOption('away');
    await poll(
      async () =>
        (await conversationsSince(since)).find((c) => c.id === secondId)?.assignee_id ?? null,
    ).toBeNull();
    expect(ui.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  }, 180_000);
});

describe('live-chat settings', () => {
  it('owners set the cap, business hours and keywords; a malformed line is explained', async () => {
    const owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
    const { page } = await ui.newPage();
    await signInToAdmin(page, ui.h, owner);
    await page.evaluate((id) => {
      location.hash = `#/${id}/settings`;
    }, tenant.id);
    const section = (id: string) => page.locator(`[data-admin="section-${id}"]`);
    await section('routing').waitFor({ state: 'visible', timeout: 20_000 });

    await page.locator('[data-admin="routing-cap"]').fill('3');
    await page.locator('[data-admin="save-routing"]').click();
    await poll(() => page.locator('[data-admin="saved-routing"]').textContent()).not.toBe('');

    await section('hours').locator('input[name="time_zone"]').fill('Europe/Berlin');
    await page.locator('[data-admin="hours-on"]').check();
    await section('hours').locator('input[name="mon-open"]').check();
    await section('hours').locator('textarea[name="holidays"]').fill('2026-12-25');
    await page.locator('[data-admin="save-hours"]').click();
    await poll(() => page.locator('[data-admin="saved-hours"]').textContent()).not.toBe('');

    await page.locator('[data-admin="handoff-keywords"]').fill('refund, lawyer');
    await page.locator('[data-admin="save-triggers"]').click();
    await poll(() => page.locator('[data-admin="error-triggers"]').textContent()).toContain(
      'refund, lawyer',
    );
    await page.locator('[data-admin="handoff-keywords"]').fill('en: refund, lawyer\nhe: החזר');
    await page.locator('[data-admin="save-triggers"]').click();
    await poll(() => page.locator('[data-admin="saved-triggers"]').textContent()).not.toBe('');

    const [row] = await ui.h.db.asService((sql) =>
      sql.query<{
        max_open_per_agent: number;
        time_zone: string;
        business_hours: Record<string, unknown>;
        handoff_rules: Record<string, unknown>;
      }>(
        'select max_open_per_agent, time_zone, business_hours, handoff_rules from public.tenants where id = $1',
        [tenant.id],
      ),
    );
    expect(row).toMatchObject({
      max_open_per_agent: 3,
      time_zone: 'Europe/Berlin',
      business_hours: { mon: [['09:00', '17:00']], holidays: ['2026-12-25'] },
      handoff_rules: { keywords: { en: ['refund', 'lawyer'], he: ['החזר'] } },
    });
    expect(await axeViolations(page, { mustCheck: ['color-contrast'] })).toEqual([]);
  }, 120_000);
});
