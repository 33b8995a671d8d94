import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { admin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';

// A new business from sign-up to its bot answering, in Chromium against the local stack with its
// config as deployed (email confirmations on): sign up on the sign-in page, confirm with the code
// the stack logged, create the workspace, pick the bot's language and tone, paste a first source,
// take the snippet (its site already allowed), see the live check turn green once the widget has
// loaded on the shop's page, then ask the playground and get an answer from that source.

const ui = useBrowserHarness();

const poll = <T>(fn: () => T | Promise<T>, timeout = 30_000) => expect.poll(fn, { timeout });

/** The 6-digit code the stack logged for this address (no mail server locally). */
async function confirmationCode(email: string): Promise<string> {
  const pattern = new RegExp(
    `confirm ${email.replace(/[.+]/g, '\\$&')} by opening \\S+ \\(or with the code (\\d{6})\\)`,
  );
  for (let i = 0; i < 100; i++) {
    const match = pattern.exec(ui.h.stack.output());
    if (match?.[1]) return match[1];
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no confirmation logged for ${email}`);
}

const step = (page: Page, id: string) => page.locator(`[data-admin="step-${id}"]`);

describe('onboarding', () => {
  it('from sign-up to a live widget and a first answer in the playground', async () => {
    const { page } = await ui.newPage();
    await page.goto(`${ui.h.stack.url}/admin/`);
    await page.locator('[data-admin="to-signup"]').click();
    const email = `founder-${crypto.randomUUID().slice(0, 8)}@cedar.example`;
    const signup = page.locator('[data-admin="signup"]');
    await signup.locator('input[name="email"]').fill(email);
    await signup.locator('input[name="password"]').fill('cedar-password-1');
    await signup.locator('button[type="submit"]').click();
    await signup.locator('input[name="code"]').fill(await confirmationCode(email));
    await signup.locator('button[type="submit"]').click();

    // No workspace yet: onboarding, its first step a form.
    const create = step(page, 'workspace');
    await create.locator('input[name="workspace-name"]').waitFor({ timeout: 30_000 });
    await create.locator('input[name="workspace-name"]').fill('Cedar Goods');
    await create.locator('input[name="website"]').fill(`${ui.shop.origin}/`);
    await page.locator('[data-admin="create-workspace"]').click();
    await step(page, 'voice').waitFor({ timeout: 30_000 });
    const tenantId = /#\/([0-9a-f-]{36})\/onboarding/.exec(page.url())?.[1] ?? '';
    expect(tenantId).not.toBe('');
    const tenantRow = async () =>
      (
        await ui.h.db.asService((sql) =>
          sql.query<{
            name: string;
            widget_key: string;
            allowed_origins: string[];
            bot_config: Record<string, unknown>;
          }>(
            'select name, widget_key, allowed_origins, bot_config from public.tenants where id = $1',
            [tenantId],
          ),
        )
      )[0];
    const row = await tenantRow();
    expect(row).toMatchObject({ name: 'Cedar Goods', allowed_origins: [ui.shop.origin] });

    // The bot's language and tone.
    await step(page, 'voice').locator('select[name="bot-language"]').selectOption('he');
    await step(page, 'voice').locator('select[name="bot-tone"]').selectOption('concise');
    await page.locator('[data-admin="save-voice"]').click();
    await poll(() => page.locator('[data-admin="voice-feedback"]').textContent()).toBe('Saved.');
    expect((await tenantRow())?.bot_config).toMatchObject({
      locale: 'he',
      tone: 'concise',
      greeting: { he: 'שלום! איך אפשר לעזור היום?', en: 'Hi! How can we help you today?' },
    });

    // A first source, pasted; it is read (ingested) in the background.
    const source = step(page, 'source');
    await source.locator('input[name="source-title"]').fill('Returns policy');
    await source
      .locator('textarea[name="source-text"]')
      .fill(
        'Cedar Goods accepts returns within 45 days of delivery. Items must be unused and in their original packaging. Refunds reach the original payment method within five business days.',
      );
    await page.locator('[data-admin="add-source"]').click();
    await poll(
      () => page.locator('[data-admin="sources"] li').first().getAttribute('data-status'),
      60_000,
    ).toBe('ready');

    // A file, uploaded into Storage with its progress, is read too; a website is queued to be read.
    await source.locator('input[name="source-file"]').setInputFiles({
      name: 'shipping.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(
        '# Shipping\n\nCedar Goods ships every order within two business days.\n',
      ),
    });
    await page.locator('[data-admin="upload-source"]').click();
    await poll(
      () =>
        page
          .locator('[data-admin="sources"] li', { hasText: 'shipping' })
          .getAttribute('data-status'),
      60_000,
    ).toBe('ready');
    await source.locator('input[name="source-url"]').fill(`${ui.shop.origin}/`);
    await page.locator('[data-admin="crawl-source"]').click();
    await poll(() => page.locator('[data-admin="crawl-feedback"]').textContent()).toContain(
      ui.shop.origin,
    );
    const crawls = await ui.h.db.asService((sql) =>
      sql.query<{ url: string }>('select url from public.crawls where tenant_id = $1', [tenantId]),
    );
    expect(crawls.map((c) => c.url)).toEqual([`${ui.shop.origin}/`]);

    // The snippet carries the key and the site is already allowed.
    const snippet = await page.locator('[data-admin="snippet"]').inputValue();
    expect(snippet).toContain(`data-key="${row?.widget_key}"`);
    expect(
      await step(page, 'install').locator('textarea[name="allowed-origins"]').inputValue(),
    ).toBe(ui.shop.origin);

    // Not live until the widget loads on the site; then green, with the site's origin.
    const check = page.locator('[data-admin="live-check"]');
    expect(await check.getAttribute('data-live')).toBe('false');
    for (const [locale, theme] of [
      ['he', 'dark'],
      ['en', 'light'],
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
    const { page: shop } = await ui.openShop({
      id: tenantId,
      key: row?.widget_key ?? '',
      identitySecret: '',
      n8nSecret: '',
    });
    await widget(shop).launcher.waitFor();
    await poll(() => check.getAttribute('data-live'), 45_000).toBe('true');
    expect(await check.textContent()).toContain(ui.shop.origin);
    const loads = await ui.h.db.asService((sql) =>
      sql.query<{ origin: string; allowed: boolean }>(
        'select origin, allowed from public.widget_loads where tenant_id = $1',
        [tenantId],
      ),
    );
    expect(loads).toEqual([{ origin: ui.shop.origin, allowed: true }]);

    // Then the playground: a first answer, from the source pasted above.
    await page.locator('[data-admin="to-playground"]').click();
    const input = page.locator('[data-admin="playground-input"]');
    await input.waitFor({ timeout: 30_000 });
    await input.fill('How many days do I have to return an item?');
    await page.locator('[data-admin="playground-send"]').click();
    const reply = page.locator('[data-admin="playground-message"][data-role="assistant"]');
    await poll(() => reply.count(), 60_000).toBeGreaterThan(0);
    await poll(() => reply.first().textContent(), 30_000).toContain('45 days');
  }, 300_000);

  it('a page on a site not in the list shows up as refused, not live', async () => {
    const { page } = await ui.newPage();
    await page.goto(`${ui.h.stack.url}/admin/`);
    await page.locator('[data-admin="to-signup"]').click();
    const email = `second-${crypto.randomUUID().slice(0, 8)}@cedar.example`;
    const signup = page.locator('[data-admin="signup"]');
    await signup.locator('input[name="email"]').fill(email);
    await signup.locator('input[name="password"]').fill('cedar-password-2');
    await signup.locator('button[type="submit"]').click();
    await signup.locator('input[name="code"]').fill(await confirmationCode(email));
    await signup.locator('button[type="submit"]').click();
    const create = step(page, 'workspace');
    await create.locator('input[name="workspace-name"]').waitFor({ timeout: 30_000 });
    await create.locator('input[name="workspace-name"]').fill('Elsewhere');
    await create.locator('input[name="website"]').fill('https://elsewhere.example');
    await page.locator('[data-admin="create-workspace"]').click();
    await step(page, 'voice').waitFor({ timeout: 30_000 });
    const tenantId = /#\/([0-9a-f-]{36})\/onboarding/.exec(page.url())?.[1] ?? '';
    const [row] = await ui.h.db.asService((sql) =>
      sql.query<{ widget_key: string }>('select widget_key from public.tenants where id = $1', [
        tenantId,
      ]),
    );
    await ui.openShop({
      id: tenantId,
      key: row?.widget_key ?? '',
      identitySecret: '',
      n8nSecret: '',
    });
    const check = page.locator('[data-admin="live-check"]');
    await poll(() => check.textContent(), 45_000).toContain('not in the list');
    expect(await check.getAttribute('data-live')).toBe('false');
  }, 180_000);
});
