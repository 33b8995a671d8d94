import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, overflowing, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';
import { PRICES, SECRET_KEY, startFakeStripe, WEBHOOK_SECRET } from '../support/fake-stripe.ts';

// The billing page against the real billing function, whose stripe SDK talks to the fake Stripe
// API in this process: the plan and this month's usage as bars, an upgrade that starts a real
// Checkout Session (the browser is sent to its URL, answered here since the fake's URLs are
// Stripe's), the Customer Portal once subscribed, and refusals in words.

const stripe = await startFakeStripe();
const ui = useBrowserHarness({
  env: {
    STRIPE_SECRET_KEY: SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    ...PRICES,
  },
});
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;
let operator: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  const elsewhere = await createTenant(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
  operator = await createStaff(ui.h, elsewhere, 'owner', 'Opal');
  await ui.h.db.asService(async (sql) => {
    await sql.query('insert into public.platform_admins (user_id) values ($1)', [operator.id]);
    await sql.query(
      `insert into public.subscriptions (tenant_id, plan_id, status) values ($1, 'free', 'active')
       on conflict (tenant_id) do nothing`,
      [tenant.id],
    );
    // This month: 150 of the free plan's 200 bot replies, all 100 conversations.
    await sql.query(
      `insert into public.usage_counters (tenant_id, metric, period_start, used)
       values ($1, 'bot_replies_per_month', date_trunc('month', now() at time zone 'utc')::date, 150),
              ($1, 'conversations_per_month', date_trunc('month', now() at time zone 'utc')::date, 100)`,
      [tenant.id],
    );
  });
}, 120_000);

// The stack's Stripe client may hold a kept-alive connection until the server times it out.
afterAll(async () => {
  await stripe.close();
}, 30_000);

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });

/** Stripe's hosted pages are not reachable from here: the browser gets a stand-in page. */
async function answerStripePages(page: Page) {
  await page.route(/^https:\/\/(checkout|billing)\.stripe\.com\//, (route) =>
    route.fulfill({ contentType: 'text/html', body: '<title>Stripe</title><p>Stripe</p>' }),
  );
}

async function openBilling(page: Page, staff: Staff) {
  await signInToAdmin(page, ui.h, staff);
  await page.locator('nav a[href$="/billing"]').first().waitFor({ timeout: 10_000 });
  await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/billing`);
  await page.locator('[data-admin="usage"]').waitFor({ timeout: 30_000 });
}

const usage = (page: Page, metric: string) => page.locator(`[data-usage="${metric}"]`);

describe('billing page', () => {
  it('shows the plan and usage bars, and an upgrade starts Stripe Checkout', async () => {
    const { page } = await ui.newPage();
    await answerStripePages(page);
    await openBilling(page, owner);
    expect(await page.locator('[data-admin="current-plan"]').textContent()).toBe(
      'You are on the Free plan.',
    );
    const replies = usage(page, 'bot_replies_per_month');
    expect(await replies.locator('[data-admin="usage-amount"]').textContent()).toBe('150 of 200');
    expect(await replies.locator('progress').getAttribute('value')).toBe('150');
    expect(await replies.locator('progress').getAttribute('max')).toBe('200');
    expect(await replies.locator('progress').getAttribute('data-level')).toBe('ok');
    const conversations = usage(page, 'conversations_per_month');
    expect(await conversations.locator('[data-admin="usage-amount"]').textContent()).toBe(
      '100 of 100 · Limit reached',
    );
    expect(await conversations.locator('progress').getAttribute('data-level')).toBe('full');
    // Seats count the members: the owner and the agent, the free plan's two.
    expect(await usage(page, 'seats').locator('[data-admin="usage-amount"]').textContent()).toBe(
      '2 of 2 · Limit reached',
    );

    expect(await axeViolations(page, { mustCheck: ['color-contrast'] }), 'en, light').toEqual([]);
    const a = admin(page);
    await a.locale.selectOption('he');
    await a.theme.selectOption('dark');
    await poll(() => page.locator('.billing h1').textContent()).toBe('חיוב');
    expect(await axeViolations(page, { mustCheck: ['color-contrast'] }), 'he, dark').toEqual([]);
    await a.locale.selectOption('en');

    await page.locator('[data-admin="interval-year"]').check();
    await page.locator('[data-plan="pro"] [data-admin="choose-plan"]').click();
    await page.waitForURL(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_/, { timeout: 30_000 });
    const session = stripe.requests.find(
      (r) => r.method === 'POST' && r.path === '/v1/checkout/sessions',
    );
    expect(session?.params.client_reference_id).toBe(tenant.id);
    expect(session?.params.mode).toBe('subscription');
    expect(session?.params.line_items).toEqual([
      { price: PRICES.STRIPE_PRICE_PRO_YEARLY, quantity: '1' },
    ]);
  }, 180_000);

  it('once subscribed, plan changes and the card go through the Customer Portal', async () => {
    await ui.h.db.asService(async (sql) => {
      await sql.query(
        `update public.subscriptions set plan_id = 'pro', status = 'active', billing_interval = 'year',
                current_period_end = '2027-12-02T00:00:00Z' where tenant_id = $1`,
        [tenant.id],
      );
      await sql.query(`update public.tenants set plan_id = 'pro' where id = $1`, [tenant.id]);
    });
    const { page } = await ui.newPage();
    await answerStripePages(page);
    await openBilling(page, owner);
    expect(await page.locator('[data-admin="current-plan"]').textContent()).toBe(
      'You are on the Pro plan.',
    );
    expect(await page.locator('[data-admin="subscription-status"]').textContent()).toBe(
      'Subscription: active',
    );
    expect(
      await usage(page, 'bot_replies_per_month')
        .locator('[data-admin="usage-amount"]')
        .textContent(),
    ).toBe('150 of 10,000');
    expect(
      await page.locator('[data-plan="business"] [data-admin="choose-plan"]').textContent(),
    ).toBe('Change Business in the portal');
    await page.locator('[data-admin="portal"]').click();
    await page.waitForURL(/^https:\/\/billing\.stripe\.com\/p\/session\//, { timeout: 30_000 });
    expect(stripe.requests.some((r) => r.path === '/v1/billing_portal/sessions')).toBe(true);
  }, 180_000);

  it('reads on a phone in Hebrew: nothing reaches past the screen', async () => {
    const { page } = await ui.newPage({ viewport: { width: 390, height: 844 } });
    await openBilling(page, owner);
    await admin(page).locale.selectOption('he');
    await poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    expect(await overflowing(page, '.billing')).toEqual([]);
  }, 120_000);

  it('says in words why an operator cannot buy for a tenant', async () => {
    await ui.h.db.asService(async (sql) => {
      await sql.query(
        `update public.subscriptions set plan_id = 'free', status = 'canceled' where tenant_id = $1`,
        [tenant.id],
      );
      await sql.query(`update public.tenants set plan_id = 'free' where id = $1`, [tenant.id]);
    });
    const { page } = await ui.newPage();
    await openBilling(page, operator);
    await page.locator('[data-plan="starter"] [data-admin="choose-plan"]').click();
    await poll(() => page.locator('[data-admin="billing-error"]').textContent()).toBe(
      'Only the workspace’s owners and admins can manage billing.',
    );
    expect(page.url()).toContain('/admin/');
  }, 180_000);

  it('an agent has no billing page, and the database and function refuse them', async () => {
    const { page } = await ui.newPage();
    await signInToAdmin(page, ui.h, agent);
    expect(await page.locator('nav a[href$="/billing"]').count()).toBe(0);
    await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/billing`);
    await poll(() => page.locator('main .empty').textContent()).toBeTruthy();
    expect(await page.locator('[data-admin="billing"]').count()).toBe(0);
    // The agent's own session, asking directly.
    const token = await page.evaluate(() => {
      const raw = localStorage.getItem('parley-admin-auth');
      return raw ? (JSON.parse(raw) as { access_token: string }).access_token : '';
    });
    const headers = {
      apikey: ui.h.stack.keys.anonKey,
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
    };
    const checkout = await fetch(`${ui.h.stack.url}/functions/v1/billing/checkout`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ tenant_id: tenant.id, plan: 'pro' }),
    });
    const answer = { checkout: checkout.status, body: await checkout.json() };
    const usageRows = await fetch(`${ui.h.stack.url}/rest/v1/rpc/tenant_usage`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ p_tenant_id: tenant.id }),
    });
    expect(usageRows.status).toBe(200);
    expect(await usageRows.json()).toEqual([]);
    const subscriptions = await fetch(
      `${ui.h.stack.url}/rest/v1/subscriptions?select=plan_id&tenant_id=eq.${tenant.id}`,
      { headers },
    );
    expect(await subscriptions.json()).toEqual([]);
    expect(answer.checkout).toBe(403);
    expect(answer.body.error.code).toBe('forbidden');
  }, 120_000);
});
