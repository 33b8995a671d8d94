import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The admin tells owners why the bot stopped spending: the tenant's unread notices (quota
// reached, payment failed, …) above every page, read and dismissed through the Data API under
// RLS, which shows them to owners and admins and not to agents.

const ui = useBrowserHarness();
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
  await ui.h.db.asService((sql) =>
    sql.query(
      `insert into public.tenant_notices (tenant_id, kind, dedupe_key, data) values
         ($1, 'quota_warning', 'bot_replies_per_month:2026-12-01',
          '{"metric": "bot_replies_per_month", "used": 160, "limit": 200, "period": "2026-12-01"}'),
         ($1, 'quota_reached', 'bot_replies_per_month:2026-12-01',
          '{"metric": "bot_replies_per_month", "used": 200, "limit": 200, "period": "2026-12-01"}')`,
      [tenant.id],
    ),
  );
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 10_000, ...options });

const banner = (page: Page) => page.locator('[data-admin="notices"] [data-notice]');

describe('admin notices', () => {
  it('shows an owner the limit reached, in English and Hebrew, and axe finds nothing', async () => {
    const { page } = await ui.newPage();
    await signInToAdmin(page, ui.h, owner);
    await poll(() => banner(page).count()).toBe(1);
    // The warning the limit overtook is not shown beside it.
    expect(await banner(page).getAttribute('data-notice')).toBe('quota_reached');
    expect(await banner(page).textContent()).toContain('200 bot replies this month');
    expect(await banner(page).textContent()).toContain('a person');
    expect(
      await axeViolations(page, { mustCheck: ['button-name', 'color-contrast'] }),
      'en, light',
    ).toEqual([]);

    const a = admin(page);
    await a.locale.selectOption('he');
    await a.theme.selectOption('dark');
    await poll(() => banner(page).textContent()).toContain('תשובות בוט החודש');
    expect(
      await axeViolations(page, { mustCheck: ['button-name', 'color-contrast'] }),
      'he, dark',
    ).toEqual([]);
  });

  it('an owner dismisses a notice for good', async () => {
    const { page } = await ui.newPage();
    await signInToAdmin(page, ui.h, owner);
    await poll(() => banner(page).count()).toBe(1);
    await page.locator('[data-admin="dismiss-notice"]').click();
    await poll(() => banner(page).count()).toBe(0);
    // The banner leaves before the write is answered (it comes back if the write fails), so the
    // stored read mark is waited for, not read once.
    const readAt = async () => {
      const [row] = await ui.h.db.asService((sql) =>
        sql.query<{ read_at: string | null }>(
          `select read_at from public.tenant_notices where tenant_id = $1 and kind = 'quota_reached'`,
          [tenant.id],
        ),
      );
      return row?.read_at ?? null;
    };
    await poll(readAt).not.toBeNull();
    expect(await banner(page).count()).toBe(0);
    await page.reload();
    await admin(page).list.waitFor({ state: 'visible', timeout: 15_000 });
    // Only the warning is left unread, and it is shown now that nothing overtakes it.
    await poll(() => banner(page).getAttribute('data-notice')).toBe('quota_warning');
  });

  it('an agent sees no billing notices: RLS keeps them to owners and admins', async () => {
    await ui.h.db.asService((sql) =>
      sql.query(
        `insert into public.tenant_notices (tenant_id, kind, data)
         values ($1, 'payment_failed', '{"plan_id": "pro", "grace_until": "2026-12-09T00:00:00Z"}')`,
        [tenant.id],
      ),
    );
    const { page } = await ui.newPage();
    const responses: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/rest/v1/tenant_notices')) responses.push(r.status());
    });
    await signInToAdmin(page, ui.h, agent);
    // The agent's client asks like the owner's does, and the database answers with nothing.
    await poll(() => responses.length).toBeGreaterThan(0);
    expect(responses.every((s) => s === 200)).toBe(true);
    expect(await page.locator('[data-admin="notices"]').count()).toBe(0);
    expect(ui.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  });
});
