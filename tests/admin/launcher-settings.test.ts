import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStaff, type Staff, signInAt } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The settings page's launcher and greetings section: what an owner saves is what the widget's
// loader applies, malformed greeting rules are refused in words, and the section reads well in
// both languages and color schemes.

const ui = useBrowserHarness();
let tenant: TestTenant;
let owner: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
}, 120_000);

const botConfig = async () =>
  (
    await ui.h.db.asService((sql) =>
      sql.query<{ bot_config: Record<string, unknown> }>(
        'select bot_config from public.tenants where id = $1',
        [tenant.id],
      ),
    )
  )[0]?.bot_config;

async function openSection(page: Page) {
  await signInAt(page, ui.h, owner, `#/${tenant.id}/settings`);
  const section = page.locator('[data-admin="section-launcher"]');
  await section.waitFor({ timeout: 30_000 });
  return section;
}

const outcome = (page: Page) =>
  page
    .locator('[data-admin="saved-launcher"], [data-admin="error-launcher"]')
    .allTextContents()
    .then((texts) => texts.join('').trim());

describe('launcher and greetings settings', () => {
  it('saves the launcher and rules the widget uses, and refuses bad rules in words', async () => {
    const { page, problems } = await ui.newPage({ colorScheme: 'light' });
    const section = await openSection(page);
    await section.locator('select[name="launcher-icon"]').selectOption('mail');
    await section.locator('input[name="launcher-label"]').fill('Write to us');
    await section.locator('input[name="launcher-offset-x"]').fill('24');
    await section.locator('input[name="launcher-offset-y"]').fill('64');
    await section
      .locator('textarea[name="proactive-rules"]')
      .fill('[{"trigger": "scroll", "percent": 60, "message": "Still looking?"}]');
    await page.locator('[data-admin="save-launcher"]').click();
    await expect.poll(() => outcome(page), { timeout: 20_000 }).toBe('Saved.');
    const config = await botConfig();
    expect(config?.launcher).toEqual({
      icon: 'mail',
      label: 'Write to us',
      offset_x: 24,
      offset_y: 64,
    });
    expect(config?.proactive).toEqual([
      { trigger: 'scroll', percent: 60, message: 'Still looking?' },
    ]);
    expect(await axeViolations(page)).toEqual([]);

    // Not JSON, then JSON the database refuses: both said in words, nothing saved.
    const rules = section.locator('textarea[name="proactive-rules"]');
    await rules.fill('[{"trigger": ');
    await page.locator('[data-admin="save-launcher"]').click();
    await expect.poll(() => outcome(page), { timeout: 20_000 }).toContain('not valid JSON');
    await rules.fill('[{"trigger": "hover", "message": "Hi"}]');
    await page.locator('[data-admin="save-launcher"]').click();
    await expect
      .poll(() => page.locator('[data-admin="error-launcher"]').textContent(), { timeout: 20_000 })
      .not.toContain('not valid JSON');
    expect((await botConfig())?.proactive).toEqual(config?.proactive);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  }, 120_000);

  it('reads in Hebrew on a phone in dark mode, axe clean', async () => {
    const { page } = await ui.newPage({
      colorScheme: 'dark',
      locale: 'he-IL',
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const section = await openSection(page);
    await section.scrollIntoViewIfNeeded();
    expect(await page.locator('html').getAttribute('dir')).toBe('rtl');
    expect(await axeViolations(page)).toEqual([]);
  }, 120_000);
});
