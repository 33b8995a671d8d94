import { beforeAll, describe, expect, it } from 'vitest';
import { openWidget, sendMessage, waitForMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Resolve → CSAT → reopen in the widget: once staff resolve the conversation the widget asks for a
// rating with an optional comment, sends both together, and the visitor can still write, which
// reopens the conversation for a person.

const ui = useBrowserHarness();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
}, 120_000);

const row = (tenantId: string) =>
  ui.h.db.asService(async (sql) => {
    const [c] = await sql.query<{
      id: string;
      status: string;
      csat: number | null;
      csat_comment: string | null;
    }>(
      'select id, status, csat, csat_comment from public.conversations where tenant_id = $1 limit 1',
      [tenantId],
    );
    return c;
  });

describe('CSAT in the widget', () => {
  it('asks after resolve, sends the score with a comment, and a new message reopens', async () => {
    const { page, problems } = await ui.openShop(tenant);
    await openWidget(page);
    await expect.poll(async () => (await row(tenant.id))?.id).toBeTruthy();
    await expect.poll(() => widget(page).status.getAttribute('data-state')).toBe('online');
    const conversationId = (await row(tenant.id))?.id as string;

    await ui.h.db.asService((sql) =>
      sql.query(`update public.conversations set status = 'resolved' where id = $1`, [
        conversationId,
      ]),
    );
    const csat = page.locator('[data-parley="csat"]');
    await csat.locator('.stars button').nth(3).click();
    await page.locator('[data-parley="csat-comment"]').click();
    await page.keyboard.type('Quick and kind');
    await page.locator('[data-parley="csat-send"]').click();
    await expect
      .poll(async () => {
        const c = await row(tenant.id);
        return [c?.csat, c?.csat_comment];
      })
      .toEqual([4, 'Quick and kind']);
    await expect.poll(() => csat.getByRole('status').isVisible()).toBe(true);

    await sendMessage(page, 'One more thing, please');
    await waitForMessage(page, 'user', 'One more thing, please');
    await expect.poll(async () => (await row(tenant.id))?.status).toBe('handoff');
    expect(problems).toEqual([]);
  }, 90_000);
});
