import type { Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, overflowing, type Staff, signInAt } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';
import type { ReceivedDelivery } from '../support/tool-receiver.ts';

// The Tools page in Chromium against the local stack: a tool made from a catalog template, its
// secret shown once, a test call that reaches a receiver verifying Standard Webhooks signatures
// (checked again here with the standardwebhooks library), a rotation whose overlap keeps the old
// secret working, and the log with its numbers. An agent never gets the page.

const ui = useBrowserHarness();
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, ...options });

const part = (page: Page, name: string) => page.locator(`[data-admin="${name}"]`);

/** The delivery, verified by a receiver holding only `secret`, with the reference library. */
function verifiesWith(secret: string, delivery: ReceivedDelivery | undefined) {
  if (!delivery) return false;
  const header = (name: string) => String(delivery.headers[name] ?? '');
  try {
    new Webhook(secret).verify(delivery.rawBody, {
      'webhook-id': header('webhook-id'),
      'webhook-timestamp': header('webhook-timestamp'),
      'webhook-signature': header('webhook-signature'),
    });
    return true;
  } catch {
    return false;
  }
}

describe('the Tools page', () => {
  it('template → tool → secret once → signed test call → rotation with overlap → log', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, owner, `#/${tenant.id}/tools`);
    await part(page, 'new-tool').click();
    await page.locator('[data-template="order_lookup"]').click();

    // The editor validates the schema as it is typed, and refuses to save a broken one.
    const form = part(page, 'tool-form');
    await form.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await form.locator('input[name="name"]').inputValue()).toBe('order_lookup');
    const schema = form.locator('textarea[name="parameters"]');
    const original = await schema.inputValue();
    await schema.fill(
      '{"type": "object", "properties": {"n": {"type": "strnig"}}, "required": ["m"]}',
    );
    await poll(() => part(page, 'schema-check').textContent()).toMatch(/properties\.n\.type/);
    await form.locator('input[name="webhook_url"]').fill(ui.h.receiver.url('/admin-order'));
    await part(page, 'tool-save').click();
    await part(page, 'form-errors').waitFor({ state: 'visible' });
    expect(
      await ui.h.db.asService((sql) =>
        sql.query('select 1 from public.tenant_tools where tenant_id = $1', [tenant.id]),
      ),
    ).toHaveLength(0);
    await schema.fill(original);
    await poll(() => part(page, 'schema-check').getAttribute('class')).toBe('ok');
    await part(page, 'tool-save').click();

    // Created: the secret is shown this once.
    const secretBox = part(page, 'tool-secret');
    await secretBox.waitFor({ state: 'visible', timeout: 20_000 });
    const first = (await secretBox.textContent()) ?? '';
    expect(first).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    // A test call: the receiver verifies it, and so does the reference library.
    ui.h.receiver.setSecrets([first]);
    ui.h.receiver.on('/admin-order', {
      status: 200,
      body: { order: 'A-1001', status: 'shipped' },
    });
    await part(page, 'test-args').fill('{"order_number": "A-1001"}');
    await part(page, 'test-send').click();
    const result = page.locator('[data-admin="test-result"]');
    await poll(() => result.getAttribute('data-ok')).toBe('true');
    expect(await part(page, 'test-response').textContent()).toContain('shipped');
    const firstDelivery = ui.h.receiver.deliveries('/admin-order').at(-1);
    expect(firstDelivery?.verified).toBe(true);
    expect(verifiesWith(first, firstDelivery)).toBe(true);
    expect(firstDelivery?.body).toMatchObject({
      tool: 'order_lookup',
      arguments: { order_number: 'A-1001' },
      test: true,
    });

    // Rotate with a one-hour overlap: a receiver still on the old secret keeps verifying.
    await part(page, 'overlap').selectOption('3600');
    await part(page, 'rotate').click();
    await poll(() => secretBox.textContent()).not.toBe(first);
    const second = (await secretBox.textContent()) ?? '';
    expect(second).toMatch(/^whsec_/);
    await part(page, 'overlap-until').waitFor({ state: 'visible' });
    await part(page, 'test-send').click();
    await poll(() => ui.h.receiver.deliveries('/admin-order').length).toBe(2);
    await poll(() => result.getAttribute('data-ok')).toBe('true');
    const during = ui.h.receiver.deliveries('/admin-order').at(-1);
    expect(during?.verified).toBe(true);
    expect(verifiesWith(first, during)).toBe(true);
    expect(verifiesWith(second, during)).toBe(true);
    expect(String(during?.headers['webhook-signature']).split(' ')).toHaveLength(2);

    // The workflow moves to the new secret; a failing answer reads as a failure, in words.
    ui.h.receiver.setSecrets([second]);
    ui.h.receiver.on('/admin-order', { status: 502, body: { error: 'upstream down' } });
    await part(page, 'test-send').click();
    await poll(() => ui.h.receiver.deliveries('/admin-order').length).toBe(3);
    await poll(() => result.getAttribute('data-ok')).toBe('false');
    expect(await result.textContent()).toContain('HTTP 502');
    expect(ui.h.receiver.deliveries('/admin-order').at(-1)?.verified).toBe(true);

    // The log: three calls, two of them good, with their latency.
    await part(page, 'log-refresh').click();
    await poll(() => part(page, 'tool-stats').getAttribute('data-calls')).toBe('3');
    expect(await part(page, 'tool-stats').textContent()).toContain('66.7%');
    expect(await page.locator('[data-execution]').count()).toBe(3);
    expect(await page.locator('[data-execution][data-success="false"]').count()).toBe(1);

    // Reloaded, the secret is gone for good.
    await page.reload();
    await part(page, 'tool-form').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await secretBox.count()).toBe(0);
    expect(await page.content()).not.toContain(second);

    const violations = await axeViolations(page, { mustCheck: ['button-name', 'label'] });
    expect(violations).toEqual([]);
    expect(ui.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  }, 180_000);

  it('in Hebrew, dark mode and on a phone the tool page stays accessible and fits', async () => {
    const { page } = await ui.newPage({
      colorScheme: 'dark',
      viewport: { width: 390, height: 844 },
    });
    await signInAt(page, ui.h, owner, `#/${tenant.id}/tools/new`);
    await page.locator('[data-template="booking"]').waitFor({ state: 'visible', timeout: 20_000 });
    await admin(page).locale.selectOption('he');
    await admin(page).theme.selectOption('dark');
    await poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    expect(await axeViolations(page, { mustCheck: ['button-name'] })).toEqual([]);
    expect(await overflowing(page, '.tools')).toEqual([]);
    await page.locator('[data-template="booking"]').click();
    await part(page, 'tool-form').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await axeViolations(page, { mustCheck: ['label', 'color-contrast'] })).toEqual([]);
    expect(await overflowing(page, '.tools')).toEqual([]);
  }, 120_000);

  it('an agent has no Tools page, and the Data API and the function refuse it', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, agent, `#/${tenant.id}/inbox`);
    await admin(page).list.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator(`a[href="#/${tenant.id}/tools"]`).count()).toBe(0);
    await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/tools/new`);
    await page.waitForTimeout(1000);
    expect(await page.locator('[data-template]').count()).toBe(0);

    const [tool] = await ui.h.db.asService((sql) =>
      sql.query<{ id: string }>('select id from public.tenant_tools where tenant_id = $1', [
        tenant.id,
      ]),
    );
    // From the agent's own signed-in browser: what a person bypassing the UI would send.
    const refused = await page.evaluate(
      async ({ url, key, toolId }) => {
        const token = JSON.parse(localStorage.getItem('parley-admin-auth') ?? '{}')
          .access_token as string;
        const headers = {
          Authorization: `Bearer ${token}`,
          apikey: key,
          'Content-Type': 'application/json',
        };
        const rotate = await fetch(`${url}/rest/v1/rpc/rotate_tool_secret`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ p_tool_id: toolId, p_overlap_seconds: 0 }),
        });
        const test = await fetch(`${url}/functions/v1/tools/test`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ tool_id: toolId, arguments: { order_number: 'A-1' } }),
        });
        const list = await fetch(`${url}/rest/v1/tenant_tools?select=id,webhook_url`, { headers });
        return {
          rotate: rotate.status,
          test: [test.status, (await test.json()).error?.code],
          list: await list.json(),
        };
      },
      { url: ui.h.stack.url, key: ui.h.stack.keys.anonKey, toolId: tool?.id },
    );
    expect(refused.rotate).toBe(403);
    expect(refused.test).toEqual([404, 'tool_not_found']);
    expect(refused.list).toEqual([]);
  }, 120_000);
});
