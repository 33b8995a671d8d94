import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, overflowing, type Staff } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { openWidget, sendMessage, waitForReply, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// In Chromium against the local stack: an owner invites someone from the team page, the link is
// shown, the invited person opens it, lands in the workspace and sets a password, and the team
// lists them; an operator suspends a tenant from the platform page, its widget says the chat is
// not available, and after resuming it answers again. Both pages pass axe in light/dark, en/he.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let owner: Staff;
let operator: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
  await ui.h.db.asService((sql) =>
    sql.query(`update public.tenants set plan_id = 'pro' where id = $1`, [tenant.id]),
  );
  owner = await createStaff(ui.h, tenant, 'owner', 'Olga');
  // The operator belongs to a workspace of their own, and to none of `tenant`'s.
  const elsewhere = await createTenant(ui.h);
  operator = await createStaff(ui.h, elsewhere, 'owner', 'Oscar');
  await ui.h.db.asService((sql) =>
    sql.query('insert into public.platform_admins (user_id) values ($1)', [operator.id]),
  );
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 15_000, ...options });

/** Signs in on the given route and waits for the part of the page named `ready`. */
async function signInAt(page: Page, staff: Staff, hash: string, ready: string) {
  await page.goto(`${ui.h.stack.url}/admin/${hash}`);
  await page.locator('input[name="email"]').fill(staff.email);
  await page.locator('input[name="password"]').fill(staff.password);
  await page.locator('form button[type="submit"]').click();
  await page.locator(`[data-admin="${ready}"]`).waitFor({ state: 'visible', timeout: 20_000 });
}

const axe = (page: Page) => axeViolations(page, { mustCheck: ['button-name', 'color-contrast'] });

async function axeEverywhere(page: Page, what: string) {
  const a = admin(page);
  for (const [locale, theme] of [
    ['en', 'light'],
    ['en', 'dark'],
    ['he', 'light'],
    ['he', 'dark'],
  ] as const) {
    await a.locale.selectOption(locale);
    await a.theme.selectOption(theme);
    await poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);
    expect(await axe(page), `${what}, ${locale} ${theme}`).toEqual([]);
  }
  await a.locale.selectOption('en');
  await a.theme.selectOption('light');
}

describe('team page', () => {
  it('invite → link shown → accepted → member listed', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, owner, `#/${tenant.id}/inbox`, 'inbox-list');
    const nav = page.locator('header nav a');
    await poll(() => nav.allTextContents()).toContain('Team');
    expect(await nav.allTextContents()).not.toContain('Platform');
    await nav.filter({ hasText: 'Team' }).click();
    await page.locator('[data-admin="team"]').waitFor();
    await poll(() => page.locator('[data-member]').count()).toBe(1);
    await axeEverywhere(page, 'team');

    const email = `invited-${crypto.randomUUID().slice(0, 8)}@people.example`;
    await page.locator('input[name="invite-email"]').fill(email);
    await page.locator('select[name="invite-role"]').selectOption('agent');
    await page.locator('[data-admin="send-invite"]').click();
    const linkField = page.locator('#invite-link-value');
    await linkField.waitFor({ state: 'visible', timeout: 20_000 });
    const link = await linkField.inputValue();
    expect(link).toMatch(/\/auth\/v1\/verify\?token=/);
    // The stack logged it, as the mail that a local stack cannot send.
    expect(ui.h.stack.output()).toContain(link);
    await poll(() => page.locator(`[data-invitation="${email}"]`).count()).toBe(1);
    expect(await page.locator('[data-admin="seats"]').textContent()).toMatch(/2 of 10/);
    expect(await axe(page), 'team with a link shown').toEqual([]);

    // The invited person opens the link in a browser of their own.
    const { page: invited } = await ui.newPage();
    await invited.goto(link);
    await invited.locator('[data-admin="welcome"]').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await invited.locator('[data-admin="welcome"] h1').textContent()).toContain(
      'Welcome to Shop',
    );
    expect(await invited.locator('[data-admin="welcome"]').textContent()).toContain(
      'You joined as agent',
    );
    // Neither the tokens nor the invitation stay in the address.
    expect(invited.url()).not.toMatch(/access_token|accept=/);
    await invited.locator('input[name="new-password"]').fill('chosen-password-42');
    await invited.locator('[data-admin="welcome"] button[type="submit"]').click();
    await poll(() => invited.locator('[data-admin="welcome"] [role="status"]').textContent()).toBe(
      'Your password is set.',
    );
    expect(await axe(invited), 'welcome').toEqual([]);
    // An agent is not offered the team page.
    expect(await invited.locator('header nav a').allTextContents()).not.toContain('Team');

    await page.reload();
    await page.locator('[data-admin="team"]').waitFor();
    await poll(() => page.locator(`[data-member="${email}"]`).count()).toBe(1);
    expect(await page.locator(`[data-invitation="${email}"]`).count()).toBe(0);
    expect(
      await page.locator(`[data-member="${email}"] [data-admin="member-role"]`).inputValue(),
    ).toBe('agent');

    // The last owner cannot be demoted: the database says so, in words.
    const me = page.locator(`[data-member="${owner.email}"] [data-admin="member-role"]`);
    await me.selectOption('admin');
    await poll(() => page.locator('[data-admin="team-status"]').textContent()).toMatch(
      /at least one owner/,
    );
    await poll(() => me.inputValue()).toBe('owner');

    // An invitation for another address, opened by a signed-in person, is refused in words.
    const [other] = await ui.h.db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into public.tenant_invitations (tenant_id, email, role)
         values ($1, 'someone-else@people.example', 'admin') returning id`,
        [tenant.id],
      ),
    );
    await page.goto(`${ui.h.stack.url}/admin/?accept=${other?.id}#/${tenant.id}/team`);
    await poll(() => page.locator('[data-admin="invitation-problem"]').textContent()).toMatch(
      /could not be accepted: This invitation is not for this account/,
    );
    expect(page.url()).not.toContain('accept=');
    expect(
      await ui.h.db.asService((sql) =>
        sql.query(
          'select 1 from public.tenant_members where tenant_id = $1 and user_id = $2 and role = $3',
          [tenant.id, owner.id, 'owner'],
        ),
      ),
    ).toHaveLength(1);

    // On a phone, in Hebrew and dark: nothing of the page reaches past the screen.
    await page.setViewportSize({ width: 390, height: 800 });
    await admin(page).locale.selectOption('he');
    await admin(page).theme.selectOption('dark');
    expect(await overflowing(page, '[data-admin="team"]')).toEqual([]);
    expect(await axe(page), 'team on a phone, he dark').toEqual([]);
  }, 180_000);
});

describe('platform page', () => {
  it('operator suspends a tenant → its widget says so → resume', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, operator, `#/${tenant.id}/platform`, 'platform');
    const row = page.locator(`[data-tenant="${(await slugOf(tenant.id)) ?? ''}"]`);
    await row.waitFor();
    expect(await row.locator('[data-admin="tenant-status"]').textContent()).toBe('Active');
    await axeEverywhere(page, 'platform');

    // The read-only view, written to the audit log.
    await row.locator('[data-admin="view-tenant"]').click();
    await page.locator('[data-admin="tenant-view"]').waitFor();
    expect(await page.locator('[data-admin="tenant-view"]').textContent()).toContain(owner.email);
    await poll(() =>
      page.locator('[data-admin="audit-log"] tbody tr').first().textContent(),
    ).toMatch(/viewed/);
    expect(await axe(page), 'platform with a view open').toEqual([]);

    await row.locator('[data-admin="suspend-tenant"]').click();
    await page.locator('input[name="suspend-reason"]').fill('Unpaid invoices');
    await row.locator('[data-admin="confirm-suspend"]').click();
    await poll(() => row.locator('[data-admin="tenant-status"]').textContent()).toBe('Suspended');
    await poll(() =>
      page.locator('[data-admin="audit-log"] tbody tr').first().textContent(),
    ).toMatch(/suspended.*Unpaid invoices/);

    const { page: shop } = await ui.openShop(tenant);
    // A suspended tenant's composer never takes a message, so wait for the window, not for the
    // composer: it may be enabled for a moment before the refusal arrives, or never.
    await widget(shop).launcher.click();
    await widget(shop).window.waitFor({ state: 'visible', timeout: 15_000 });
    await poll(() => widget(shop).window.locator('[data-parley="notice"]').textContent(), {
      timeout: 20_000,
    }).toBe('This chat is not available right now.');
    expect(await widget(shop).input.isDisabled()).toBe(true);

    await row.locator('[data-admin="resume-tenant"]').click();
    await poll(() => row.locator('[data-admin="tenant-status"]').textContent()).toBe('Active');

    const { page: again } = await ui.openShop(tenant);
    await openWidget(again);
    ui.h.llm.script({ text: 'We are open again.' });
    await sendMessage(again, 'Hello?');
    await waitForReply(again, 'We are open again.');

    await page.setViewportSize({ width: 390, height: 800 });
    await admin(page).locale.selectOption('he');
    expect(await overflowing(page, '[data-admin="platform"]')).toEqual([]);
  }, 180_000);
});

async function slugOf(tenantId: string) {
  const [row] = await ui.h.db.asService((sql) =>
    sql.query<{ slug: string }>('select slug from public.tenants where id = $1', [tenantId]),
  );
  return row?.slug;
}
