import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openWidget, sendMessage, waitForReply, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The tenant's pre-chat form, and a signed-in customer identified by the page with
// `Parley.identify()`, in a real Chromium against the local stack.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let formTenant: TestTenant;
let lockedTenant: TestTenant;

beforeAll(async () => {
  [formTenant, lockedTenant] = await Promise.all([
    createTenant(ui.h, {
      llm: 'openai',
      botConfig: {
        prechat_form: {
          enabled: true,
          fields: [
            { name: 'name', label: 'Your name', type: 'text', required: true },
            { name: 'email', label: 'Work email', type: 'email', required: true },
            { name: 'order', label: 'Order number', type: 'text' },
          ],
        },
      },
    }),
    createTenant(ui.h, { llm: 'openai', enforceIdentity: true }),
  ]);
}, 120_000);

async function visitor(tenant: TestTenant): Promise<Page> {
  return (await ui.openShop(tenant)).page;
}

const conversationsOf = (tenant: TestTenant) =>
  ui.h.db.asService((sql) =>
    sql.query<{ prechat: Record<string, unknown>; identity_verified: boolean }>(
      'select prechat, identity_verified from public.conversations where tenant_id = $1',
      [tenant.id],
    ),
  );

describe('the pre-chat form', () => {
  it('comes before the composer and starts the conversation with its answers', async () => {
    const page = await visitor(formTenant);
    const w = widget(page);
    await w.launcher.click();
    const form = page.locator('form[data-parley="prechat"]');
    await form.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await w.input.count()).toBe(0);

    // Every input has its label, and the required ones say so to assistive technology.
    const name = page.getByLabel('Your name');
    const email = page.getByLabel('Work email');
    const order = page.getByLabel('Order number');
    expect(await name.getAttribute('name')).toBe('name');
    expect(await email.getAttribute('type')).toBe('email');
    expect(await name.evaluate((el: HTMLInputElement) => el.required)).toBe(true);
    expect(await order.evaluate((el: HTMLInputElement) => el.required)).toBe(false);
    await expect
      .poll(() => name.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement))
      .toBe(true);
    const submit = page.locator('button[data-parley="prechat-submit"]');
    expect(await submit.textContent()).toBe('Start chat');

    // Missing answers keep the form up, marked, and create nothing.
    await submit.click();
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(await conversationsOf(formTenant)).toEqual([]);

    // By keyboard: type, tab along, submit with Enter.
    await name.fill('Grace Hopper');
    await email.fill('grace@example.com');
    await order.fill('B-2002');
    expect(await name.getAttribute('aria-invalid')).toBeNull();
    await order.press('Enter');

    await w.input.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await form.count()).toBe(0);
    const rows = await conversationsOf(formTenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.prechat).toEqual({
      name: 'Grace Hopper',
      email: 'grace@example.com',
      fields: { name: 'Grace Hopper', email: 'grace@example.com', order: 'B-2002' },
    });

    ui.h.llm.script({ text: 'Order B-2002 ships tomorrow, Grace.' });
    await sendMessage(page, 'When does my order ship?');
    await waitForReply(page, 'ships tomorrow');
    expect(ui.problems).toEqual([]);
  });
});

describe('Parley.identify()', () => {
  it('lets a verified customer chat where the tenant requires identity', async () => {
    const page = await visitor(lockedTenant);
    const identifier = 'customer-7';
    const identityHash = createHmac('sha256', lockedTenant.identitySecret)
      .update(identifier)
      .digest('hex');
    await page.waitForFunction(() => 'Parley' in window);
    await page.evaluate(
      (identity) =>
        (
          window as unknown as { Parley: { identify(i: typeof identity): Promise<void> } }
        ).Parley.identify(identity),
      { identifier, identityHash },
    );
    await openWidget(page);
    ui.h.llm.script({ text: 'Welcome back, your OSPREY order is on its way.' });
    await sendMessage(page, 'Where is my order?');
    await waitForReply(page, 'OSPREY');
    const rows = await conversationsOf(lockedTenant);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.identity_verified).toBe(true);
  });

  it('without it, the widget says the chat is for signed-in customers', async () => {
    const page = await visitor(lockedTenant);
    const before = (await conversationsOf(lockedTenant)).length;
    const w = widget(page);
    await w.launcher.click();
    await w.window.waitFor({ state: 'visible', timeout: 15_000 });
    const notice = page.locator('[data-parley="notice"]');
    await notice.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await notice.textContent()).toBe('This chat is only available to signed-in customers.');
    expect(await notice.getAttribute('role')).toBe('status');
    expect(await w.input.isDisabled()).toBe(true);
    expect(await conversationsOf(lockedTenant)).toHaveLength(before);
  });
});
