import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The bot settings page in Chromium, against the local stack: each section saves through the Data
// API or its SQL function, and the widget on a shop page shows what was saved (greeting and quick
// starts per language, color and position, the pre-chat form). Secrets are shown once and the
// model key never comes back; an agent never reaches the page.

const ui = useBrowserHarness();
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
  [owner, agent] = await Promise.all([
    createStaff(ui.h, tenant, 'owner', 'Olive'),
    createStaff(ui.h, tenant, 'agent', 'Avery'),
  ]);
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });

async function signIn(page: Page, staff: Staff, hash: string) {
  await page.goto(`${ui.h.stack.url}/admin/${hash}`);
  await page.locator('input[name="email"]').fill(staff.email);
  await page.locator('input[name="password"]').fill(staff.password);
  await page.locator('form button[type="submit"]').click();
}

async function openSettings(staff: Staff = owner) {
  const { page } = await ui.newPage();
  await signIn(page, staff, `#/${tenant.id}/settings`);
  await page.locator('[data-admin="section-persona"]').waitFor({ timeout: 30_000 });
  return page;
}

const section = (page: Page, id: string) => page.locator(`[data-admin="section-${id}"]`);

async function saveSection(page: Page, id: string) {
  await page.locator(`[data-admin="save-${id}"]`).click();
  // The section's error, if it says one, is the better failure message.
  const outcome = () =>
    page
      .locator(`[data-admin="saved-${id}"], [data-admin="error-${id}"]`)
      .allTextContents()
      .then((texts) => texts.join('').trim());
  await poll(outcome).not.toBe('');
  expect(await outcome()).toBe('Saved.');
}

const tenantRow = async () =>
  (
    await ui.h.db.asService((sql) =>
      sql.query<{
        bot_config: Record<string, unknown>;
        bot_engine: string;
        allowed_origins: string[];
        enforce_identity: boolean;
        widget_key: string;
        llm_config: Record<string, unknown>;
      }>(
        'select bot_config, bot_engine, allowed_origins, enforce_identity, widget_key, llm_config from public.tenants where id = $1',
        [tenant.id],
      ),
    )
  )[0];

const secrets = async () =>
  (
    await ui.h.db.asService((sql) =>
      sql.query<{ identity_secret: string; llm_api_key: string | null }>(
        'select identity_secret, llm_api_key from public.tenant_secrets where tenant_id = $1',
        [tenant.id],
      ),
    )
  )[0];

const hostStyle = (page: Page, property: string) =>
  widget(page).host.evaluate((el, p) => (el as HTMLElement).style.getPropertyValue(p), property);

describe('bot settings', () => {
  it('greeting and quick starts per language, colors and position reach the widget', async () => {
    const page = await openSettings();
    const words = section(page, 'words');
    await words.locator('select[name="language"]').selectOption('en');
    await words.locator('textarea[name="greeting"]').fill('Welcome to the test shop!');
    await words.locator('textarea[name="quick-starts"]').fill('Where is my order?\nSizing help');
    await words.locator('input[name="add-language"]').fill('he');
    await words.locator('[data-admin="add-language"]').click();
    await words.locator('textarea[name="greeting"]').fill('ברוכים הבאים לחנות!');
    await words.locator('textarea[name="quick-starts"]').fill('איפה ההזמנה שלי?');
    await saveSection(page, 'words');

    const look = section(page, 'look');
    await look.locator('input[name="color"]').fill('#aa3355');
    await look.locator('input[name="position"][value="left"]').check();
    await saveSection(page, 'look');

    const saved = await tenantRow();
    expect(saved?.bot_config).toMatchObject({
      greeting: { en: 'Welcome to the test shop!', he: 'ברוכים הבאים לחנות!' },
      quick_starts: { en: ['Where is my order?', 'Sizing help'], he: ['איפה ההזמנה שלי?'] },
      color: '#aa3355',
      position: 'left',
      // What the sections did not touch is kept.
      system_prompt: 'You help a test shop.',
    });

    for (const [locale, greeting, start] of [
      ['en', 'Welcome to the test shop!', 'Sizing help'],
      ['he', 'ברוכים הבאים לחנות!', 'איפה ההזמנה שלי?'],
    ] as const) {
      const { page: shop } = await ui.openShop(tenant, { locale });
      const w = widget(shop);
      await w.launcher.click();
      await poll(() => shop.locator('[data-parley="greeting"]').textContent()).toContain(greeting);
      await poll(() => shop.getByText(start, { exact: true }).count()).toBeGreaterThan(0);
      await poll(() => hostStyle(shop, '--p-color')).toBe('#aa3355');
      expect(await w.host.getAttribute('data-position')).toBe('left');
    }
  }, 180_000);

  it('the pre-chat form editor puts its questions in front of the chat', async () => {
    const page = await openSettings();
    const form = section(page, 'prechat');
    await form.locator('input[name="prechat-enabled"]').check();
    await form.locator('[data-admin="add-field"]').click();
    const field = form.locator('[data-admin="prechat-field"]').last();
    await field.locator('input[name="field-name"]').fill('order_number');
    await field.locator('input[name="field-label"]').fill('Your order number');
    await field.locator('input[name="field-required"]').check();
    await saveSection(page, 'prechat');
    expect((await tenantRow())?.bot_config.prechat_form).toEqual({
      enabled: true,
      fields: [{ name: 'order_number', label: 'Your order number', type: 'text', required: true }],
    });

    const { page: shop } = await ui.openShop(tenant);
    await widget(shop).launcher.click();
    await shop
      .locator('form[data-parley="prechat"]')
      .waitFor({ state: 'visible', timeout: 20_000 });
    const input = shop.getByLabel('Your order number');
    expect(await input.evaluate((el: HTMLInputElement) => el.required)).toBe(true);

    // A field name the database refuses comes back in words, and nothing is saved.
    await field.locator('input[name="field-name"]').fill('order number');
    await page.locator('[data-admin="save-prechat"]').click();
    // The browser's own check stops it first (pattern); the database's words cover the rest.
    expect(
      await field
        .locator('input[name="field-name"]')
        .evaluate((el: HTMLInputElement) => el.validity.valid),
    ).toBe(false);
    expect((await tenantRow())?.bot_config.prechat_form).toMatchObject({
      fields: [{ name: 'order_number' }],
    });
    // Switched off again, so the later tests chat straight away.
    await form.locator('input[name="prechat-enabled"]').uncheck();
    await field.locator('input[name="field-name"]').fill('order_number');
    await saveSection(page, 'prechat');
  }, 180_000);

  it('persona, engine and origins save; a refused value is explained', async () => {
    const page = await openSettings();
    const persona = section(page, 'persona');
    await persona.locator('textarea[name="system-prompt"]').fill('You help hikers pick boots.');
    await persona.locator('select[name="tone"]').selectOption('professional');
    await persona
      .locator('textarea[name="guardrails"]')
      .fill('Never promise refunds.\nOffer a person when unsure.');
    await saveSection(page, 'persona');

    await section(page, 'engine').locator('input[name="engine"][value="human"]').check();
    await saveSection(page, 'engine');

    const origins = section(page, 'origins');
    await origins.locator('textarea[name="allowed-origins"]').fill('shop.example/path');
    await page.locator('[data-admin="save-origins"]').click();
    await poll(() => page.locator('[data-admin="error-origins"]').textContent()).toContain(
      'is not an origin',
    );
    await origins
      .locator('textarea[name="allowed-origins"]')
      .fill(`${ui.shop.origin}\nhttps://*.shop.example`);
    await saveSection(page, 'origins');

    const row = await tenantRow();
    expect(row?.bot_config).toMatchObject({
      system_prompt: 'You help hikers pick boots.',
      tone: 'professional',
      guardrails: ['Never promise refunds.', 'Offer a person when unsure.'],
    });
    expect(row?.bot_engine).toBe('human');
    expect(row?.allowed_origins).toEqual([ui.shop.origin, 'https://*.shop.example']);

    // People only: the visitor's first message waits for a person, no bot answers.
    const { page: shop } = await ui.openShop(tenant);
    const w = widget(shop);
    await w.launcher.click();
    await w.input.fill('Is anyone there?');
    await w.send.click();
    await poll(async () => {
      const rows = await ui.h.db.asService((sql) =>
        sql.query<{ status: string }>(
          'select status from public.conversations where tenant_id = $1 order by created_at desc limit 1',
          [tenant.id],
        ),
      );
      return rows[0]?.status;
    }, 30_000).toBe('handoff');
    expect(await w.byRole('assistant').count()).toBe(0);

    // The settings page lists where the widget has loaded.
    const again = await openSettings();
    await poll(() => again.locator('[data-admin="widget-loads"]').textContent()).toContain(
      ui.shop.origin,
    );
    await section(again, 'engine').locator('input[name="engine"][value="ai"]').check();
    await saveSection(again, 'engine');
  }, 180_000);

  it('the model key is written and never shown; secrets are shown once; the key rotates with the snippet', async () => {
    const page = await openSettings();
    const model = section(page, 'model');
    await model.locator('select[name="provider"]').selectOption('openai');
    await model.locator('input[name="model"]').fill('gpt-test');
    await saveSection(page, 'model');
    expect((await tenantRow())?.llm_config).toMatchObject({
      provider: 'openai',
      model: 'gpt-test',
    });

    const apiKey = `sk-test-${crypto.randomUUID()}`;
    await model.locator('input[name="api-key"]').fill(apiKey);
    await page.locator('[data-admin="save-key"]').click();
    await poll(() => page.locator('[data-admin="api-key-status"]').getAttribute('data-set')).toBe(
      'true',
    );
    expect((await secrets())?.llm_api_key).toBe(apiKey);
    expect(await model.locator('input[name="api-key"]').inputValue()).toBe('');

    // Identity verification: enforced, and a new secret shown this once.
    const identity = section(page, 'identity');
    await identity.locator('input[name="enforce-identity"]').check();
    await saveSection(page, 'identity');
    expect((await tenantRow())?.enforce_identity).toBe(true);
    await page.locator('[data-admin="rotate-identity"]').click();
    await poll(() => page.locator('[data-admin="identity-secret"]').inputValue()).toMatch(
      /^[0-9a-f]{64}$/,
    );
    expect(await page.locator('[data-admin="identity-secret"]').inputValue()).toBe(
      (await secrets())?.identity_secret,
    );

    // The widget key: confirmed, then the snippet carries the new key.
    const before = (await tenantRow())?.widget_key ?? '';
    await page.locator('[data-admin="rotate-key"]').click();
    await page.locator('[data-admin="confirm-rotate-key"]').click();
    await poll(() => page.locator('[data-admin="widget-key"]').inputValue()).not.toBe(before);
    const after = (await tenantRow())?.widget_key ?? '';
    expect(await page.locator('[data-admin="widget-key"]').inputValue()).toBe(after);
    expect(await page.locator('[data-admin="snippet"]').inputValue()).toContain(
      `data-key="${after}"`,
    );
    tenant = { ...tenant, key: after };

    // A fresh page load knows "set" and nothing else: neither the key nor the identity secret is
    // anywhere in what the page received.
    const bodies: string[] = [];
    const fresh = (await ui.newPage()).page;
    fresh.on('response', async (response) => {
      if (response.url().includes('/rest/v1/')) bodies.push(await response.text().catch(() => ''));
    });
    await signIn(fresh, owner, `#/${tenant.id}/settings`);
    await fresh.locator('[data-admin="section-persona"]').waitFor({ timeout: 30_000 });
    await poll(() => fresh.locator('[data-admin="api-key-status"]').getAttribute('data-set')).toBe(
      'true',
    );
    const everything = `${await fresh.content()}\n${bodies.join('\n')}`;
    expect(bodies.length).toBeGreaterThan(0);
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain((await secrets())?.identity_secret ?? 'none');
  }, 180_000);

  it('an agent gets no settings page, link or data', async () => {
    const { page } = await ui.newPage();
    await signIn(page, agent, `#/${tenant.id}/settings`);
    await poll(() => page.locator('main').textContent()).toContain('There is nothing here.');
    expect(await page.locator('[data-admin="section-persona"]').count()).toBe(0);
    expect(await page.locator('nav a[href$="/settings"]').count()).toBe(0);
  }, 120_000);

  it('is axe clean in light and dark, English and Hebrew', async () => {
    const page = await openSettings();
    for (const [locale, theme] of [
      ['en', 'light'],
      ['he', 'dark'],
    ] as const) {
      await admin(page).locale.selectOption(locale);
      await admin(page).theme.selectOption(theme);
      await poll(() => page.locator('html').getAttribute('dir')).toBe(
        locale === 'he' ? 'rtl' : 'ltr',
      );
      expect(
        await axeViolations(page, { selector: 'main', mustCheck: ['label', 'color-contrast'] }),
      ).toEqual([]);
    }
    // On a phone nothing in the page is wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await poll(() =>
      page
        .locator('.settings-page')
        .evaluate((el) => el.scrollWidth <= (el as HTMLElement).clientWidth + 1),
    ).toBe(true);
  }, 120_000);
});
