import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { openWidget, renderedMessages, sendMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Logging out: after `Parley.reset()`, or once identify() names someone else, the next person on
// the same browser starts over: a new anonymous user, a new conversation, the old session revoked.

const ui = useBrowserHarness();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
}, 120_000);

interface Stored {
  session: { access_token: string; refresh_token: string; user: { id: string } } | null;
  conversation: { id: string; identifier: string | null } | null;
}

const stored = (page: Page): Promise<Stored> =>
  page.evaluate((key) => {
    const read = (name: string) =>
      JSON.parse(localStorage.getItem(`parley:${key}:${name}`) ?? 'null');
    return { session: read('session'), conversation: read('conversation') };
  }, tenant.key);

async function settled(page: Page, previous?: string): Promise<Stored> {
  let now = await stored(page);
  for (let i = 0; i < 100 && (!now.conversation || now.conversation.id === previous); i++) {
    await page.waitForTimeout(100);
    now = await stored(page);
  }
  return now;
}

const refreshWith = (token: string) =>
  fetch(`${ui.h.stack.url}/auth/v1/token?grant_type=refresh_token`, {
    method: 'POST',
    headers: { apikey: ui.h.stack.keys.anonKey, 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: token }),
  });

describe('Parley.reset() and a change of identity', () => {
  it('reset() revokes the session, clears storage and starts afresh', async () => {
    const { page, problems } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'my secret order');
    const before = await settled(page);
    expect(before.session).not.toBeNull();

    await page.evaluate(() =>
      (window as unknown as { Parley: { reset(): Promise<void> } }).Parley.reset(),
    );
    const after = await settled(page, before.conversation?.id);
    expect(after.session?.user.id).not.toBe(before.session?.user.id);
    expect(after.conversation?.id).not.toBe(before.conversation?.id);
    expect((await refreshWith(before.session?.refresh_token ?? '')).ok).toBe(false);
    expect(await renderedMessages(page)).toEqual([]);
    await openWidget(page);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });

  it('reset() before the chat was ever opened clears what a past visit left', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'left behind');
    const before = await settled(page);
    await page.reload();
    await widget(page).launcher.waitFor();
    await page.evaluate(() =>
      (window as unknown as { Parley: { reset(): Promise<void> } }).Parley.reset(),
    );
    const after = await stored(page);
    expect(after.conversation).toBeNull();
    expect(after.session?.user.id ?? null).not.toBe(before.session?.user.id);
    await openWidget(page);
    expect(await renderedMessages(page)).toEqual([]);
  });

  it('identify() with another identifier starts a new conversation for the new person', async () => {
    const { page } = await ui.openShop(tenant);
    const identify = (identifier: string) =>
      page.evaluate(
        (identity) =>
          (
            window as unknown as {
              Parley: { identify(i: { identifier: string; identityHash: string }): Promise<void> };
            }
          ).Parley.identify(identity),
        {
          identifier,
          identityHash: createHmac('sha256', tenant.identitySecret)
            .update(identifier)
            .digest('hex'),
        },
      );
    await page.waitForFunction(() => 'Parley' in window);
    await identify('customer-a');
    await openWidget(page);
    await sendMessage(page, 'from customer a');
    const first = await settled(page);
    expect(first.conversation?.identifier).toBe('customer-a');

    await identify('customer-b');
    const second = await settled(page, first.conversation?.id);
    expect(second.conversation?.identifier).toBe('customer-b');
    expect(second.session?.user.id).not.toBe(first.session?.user.id);
    await expect.poll(async () => (await renderedMessages(page)).length).toBe(0);
  });
});
