import { createHmac } from 'node:crypto';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  openWidget,
  refuseNextSend,
  renderedMessages,
  sendMessage,
  widget,
  writeMessage,
} from '../support/browser.ts';
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

/** Parley.identify() with a verified identity for `identifier`. */
const identifyAs = (page: Page, identifier: string) =>
  page.evaluate(
    (identity) =>
      (
        window as unknown as {
          Parley: { identify(i: { identifier: string; identityHash: string }): Promise<void> };
        }
      ).Parley.identify(identity),
    {
      identifier,
      identityHash: createHmac('sha256', tenant.identitySecret).update(identifier).digest('hex'),
    },
  );

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
    const identify = (identifier: string) => identifyAs(page, identifier);
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

  it('a message still being retried when reset() logs the visitor out is not sent into the next person’s conversation', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'first words');
    const before = await settled(page);
    // The next message's first attempt meets a passing outage; the widget would try again in 1 s.
    const refused = await refuseNextSend(page);
    await writeMessage(page, 'my card ends in 4242');
    await expect.poll(refused).toBe(true);
    await page.evaluate(() =>
      (window as unknown as { Parley: { reset(): Promise<void> } }).Parley.reset(),
    );
    const after = await settled(page, before.conversation?.id);
    // Past the retry's time.
    await page.waitForTimeout(2_500);
    const rows = await ui.h.db.asService((sql) =>
      sql.query(
        `select conversation_id from public.messages where content = 'my card ends in 4242'`,
      ),
    );
    expect(rows).toEqual([]);
    expect(after.conversation?.id).not.toBe(before.conversation?.id);
    expect(await renderedMessages(page)).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('a session asked for the last person and answered after identify() names another is not attached', async () => {
    const { page, problems } = await ui.openShop(tenant);
    // Customer A's session is started, and its answer held until customer B has been named.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstConversation: string | undefined;
    await page.route(/\/functions\/v1\/chat\/sessions$/, async (route) => {
      if (!route.request().postData()?.includes('customer-a')) return route.continue();
      const response = await route.fetch();
      const json = await response.json();
      firstConversation = json.conversation.id;
      await held;
      await route.fulfill({ response, json });
    });
    await page.waitForFunction(() => 'Parley' in window);
    await identifyAs(page, 'customer-a');
    const w = widget(page);
    await w.launcher.click();
    await expect.poll(() => firstConversation).toBeTruthy();
    const loggedOut = page.waitForRequest(/\/auth\/v1\/logout/);
    const switching = identifyAs(page, 'customer-b');
    await loggedOut;
    release();
    await switching;
    const now = await settled(page, firstConversation);
    expect(now.conversation?.identifier).toBe('customer-b');
    await sendMessage(page, 'from customer b');
    const [row] = await ui.h.db.asService((sql) =>
      sql.query<{ conversation_id: string }>(
        `select conversation_id from public.messages where content = 'from customer b'`,
      ),
    );
    expect(row?.conversation_id).toBe(now.conversation?.id);
    expect(row?.conversation_id).not.toBe(firstConversation);
    expect(await page.locator('[data-parley="notice"]').count()).toBe(0);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });
});
