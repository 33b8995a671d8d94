import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/axe.ts';
import { gotoShop, inShadow, shopPage } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The tenant's launcher (icon, label, offsets) and proactive greetings: the loader applies the
// launcher options from the widget's config (at once from the second page view on), and fetches
// the greeting rules' chunk only for a tenant that has rules; a rule shows its bubble above the
// launcher, opens the chat when clicked, and respects its cap per visitor.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let plain: TestTenant;
let triggers: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
  plain = await createTenant(ui.h, { llm: null });
  triggers = await createTenant(ui.h, { llm: null });
  await ui.h.db.asService((sql) =>
    sql.query(`update public.tenants set bot_config = bot_config || $2::jsonb where id = $1`, [
      triggers.id,
      {
        proactive: [
          { trigger: 'url', pattern: '*#promo', message: 'Questions about the promotion?' },
          { trigger: 'scroll', percent: 90, message: 'Still looking?' },
          { trigger: 'exit', message: 'Before you go…' },
          { trigger: 'returning', message: 'Welcome back!' },
        ],
      },
    ]),
  );
  await ui.h.db.asService((sql) =>
    sql.query(`update public.tenants set bot_config = bot_config || $2::jsonb where id = $1`, [
      tenant.id,
      {
        launcher: {
          icon: 'help',
          label: { en: 'Questions?', he: 'שאלות?' },
          offset_x: 32,
          offset_y: 48,
        },
        proactive: [
          { trigger: 'time', seconds: 1, message: { en: 'Need a hand?', he: 'צריכים עזרה?' } },
          { trigger: 'url', pattern: '*/checkout*', message: 'Questions about paying?' },
        ],
      },
    ]),
  );
}, 120_000);

const HELP_ICON =
  'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01';

/** The greeting chunk's fetches since the page loaded. */
const chunkFetches = (page: Page) =>
  page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => e.name)
      .filter((name) => /parley-proactive\.js$/.test(name)),
  );

async function check(page: Page, greeting: string, label: string) {
  // The first view learns the options when the app loads (idle); the bubble follows.
  const text = page.locator('[data-parley="launcher-label"]');
  await expect.poll(() => text.textContent(), { timeout: 30_000 }).toBe(label);
  const look = await inShadow(page, (root) => {
    const host = root.host as HTMLElement;
    const style = getComputedStyle(host);
    return {
      d: root.querySelector('.launcher .ico path')?.getAttribute('d'),
      bottom: style.bottom,
      right: style.right,
    };
  });
  expect(look).toEqual({ d: HELP_ICON, bottom: '48px', right: '32px' });

  const bubble = page.locator('[data-parley="proactive"]');
  await bubble.waitFor({ timeout: 30_000 });
  expect(await bubble.textContent()).toContain(greeting);
  expect(await chunkFetches(page)).toHaveLength(1);
  expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
  await page.screenshot({ path: `/tmp/parley-proactive-${label}.png` }).catch(() => {});

  // Clicking the greeting opens the chat and takes the bubble away.
  await page.locator('[data-parley="proactive-open"]').click();
  await page.locator('[data-parley="launcher"][aria-expanded="true"]').waitFor();
  expect(await bubble.count()).toBe(0);

  // The next page view paints the launcher from what was learnt, before the app loads, and the
  // greeting has had its one showing for today.
  await page.reload();
  await page.locator('[data-parley="launcher"]').waitFor();
  expect(await text.textContent()).toBe(label);
  await page.waitForTimeout(3_000);
  expect(await bubble.count()).toBe(0);
}

describe('launcher options and proactive greetings', () => {
  it('desktop, light, English', async () => {
    const { page, problems } = await ui.openShop(tenant, {}, { colorScheme: 'light' });
    await check(page, 'Need a hand?', 'Questions?');
    expect(problems).toEqual([]);
  }, 180_000);

  it('phone, dark, Hebrew', async () => {
    const { page, problems } = await ui.openShop(
      tenant,
      { locale: 'he', lang: 'he', dir: 'rtl' },
      {
        colorScheme: 'dark',
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      },
    );
    await check(page, 'צריכים עזרה?', 'שאלות?');
    expect(problems).toEqual([]);
  }, 180_000);

  it('a tenant without rules never fetches the greeting chunk, and keeps the default launcher', async () => {
    const { page, problems } = await ui.openShop(plain);
    await page.waitForTimeout(6_000); // past the idle load of the app
    expect(await page.evaluate(() => typeof window.Parley)).toBe('object');
    expect(await chunkFetches(page)).toEqual([]);
    const label = page.locator('[data-parley="launcher-label"]');
    expect(await label.isHidden()).toBe(true);
    expect(problems).toEqual([]);
  }, 120_000);

  describe('each trigger, in a browser of its own', () => {
    const TALL = '<div style="height:4000px">Long page</div>';
    async function visit(options: { hash?: string; returning?: boolean } = {}) {
      const { page, problems } = await ui.newPage();
      if (options.returning) {
        // This browser first saw the widget three days ago.
        await page.addInitScript(
          ([key, first]) =>
            localStorage.setItem(`parley:${key}:proactive`, JSON.stringify({ first })),
          [triggers.key, Math.floor(Date.now() / 86_400_000) - 3] as const,
        );
      }
      const url = ui.shop.page(shopPage(ui.h, triggers).replace('</body>', `${TALL}</body>`));
      await gotoShop(page, `${url}${options.hash ?? ''}`);
      // The rules arrive with the app's config (idle load), then the chunk starts watching.
      await expect.poll(() => chunkFetches(page), { timeout: 30_000 }).toHaveLength(1);
      return { page, problems, bubble: page.locator('[data-parley="proactive"]') };
    }

    it('a matching URL', async () => {
      const { bubble, problems } = await visit({ hash: '#promo' });
      await bubble.waitFor({ timeout: 20_000 });
      expect(await bubble.textContent()).toContain('Questions about the promotion?');
      expect(problems).toEqual([]);
    }, 120_000);

    it('scroll depth, and nothing before it', async () => {
      const { page, bubble } = await visit();
      await page.waitForTimeout(2_000);
      expect(await bubble.count()).toBe(0);
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await bubble.waitFor({ timeout: 20_000 });
      expect(await bubble.textContent()).toContain('Still looking?');
      // Dismissed, it stays away.
      await page.locator('[data-parley="proactive-close"]').click();
      expect(await bubble.count()).toBe(0);
    }, 120_000);

    it('exit intent', async () => {
      const { page, bubble } = await visit();
      await page.mouse.move(200, 200);
      await page.mouse.move(200, 0, { steps: 5 });
      // The pointer leaving through the top edge of the window, as the browser reports it.
      await page.evaluate(() =>
        document.dispatchEvent(
          new MouseEvent('mouseout', { clientX: 200, clientY: -1, bubbles: true }),
        ),
      );
      await bubble.waitFor({ timeout: 20_000 });
      expect(await bubble.textContent()).toContain('Before you go…');
    }, 120_000);

    it('a returning visitor', async () => {
      const { bubble } = await visit({ returning: true });
      await bubble.waitFor({ timeout: 20_000 });
      expect(await bubble.textContent()).toContain('Welcome back!');
    }, 120_000);
  });
});
