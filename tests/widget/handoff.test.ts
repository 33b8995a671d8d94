import { beforeAll, describe, expect, it } from 'vitest';
import {
  openWidget,
  sendMessage,
  waitForMessage,
  waitForReply,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';
import { createUser } from '../support/world.ts';

// Asking for a person from the widget: the bot's "Talk to a human" chip hands the conversation
// over instead of sending the words to the bot, the request is still shown after a reload without
// the bot's suggestions, and once a person answers the header names them.

const ui = useBrowserHarness();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
}, 120_000);

const conversation = () =>
  ui.h.db.asService(async (sql) => {
    const [c] = await sql.query<{ id: string; status: string }>(
      'select id, status from public.conversations where tenant_id = $1 limit 1',
      [tenant.id],
    );
    return c;
  });

describe('handoff in the widget', () => {
  it('the chip hands over, the request survives a reload, and the agent is named', async () => {
    const { page, problems } = await ui.openShop(tenant);
    // The agent's picture is served here, so a failed load cannot pass for a shown one.
    await page.route('https://example.test/**', (route) =>
      route.fulfill({
        contentType: 'image/svg+xml',
        body: '<svg xmlns="http://www.w3.org/2000/svg"/>',
      }),
    );
    const w = widget(page);
    await openWidget(page);
    await sendMessage(page, 'What is the warranty on the blue kettle?');
    await waitForReply(page, '');
    const chip = w.quickReplies.filter({ hasText: 'Talk to a human' });
    await chip.click();
    await expect.poll(async () => (await conversation())?.status).toBe('handoff');
    const notice = page.locator('[data-parley="notice"]');
    await expect.poll(() => notice.textContent()).toBe('A person will join shortly.');
    // The words went to nobody: only the visitor's question is theirs.
    expect(await w.byRole('user').count()).toBe(1);
    expect(await w.quickReplies.count()).toBe(0);
    expect(await w.human.count()).toBe(0);

    await page.reload();
    await openWidget(page);
    await waitForMessage(page, 'user', 'What is the warranty on the blue kettle?');
    await expect.poll(() => notice.textContent()).toBe('A person will join shortly.');
    expect(await w.quickReplies.count()).toBe(0);
    expect(await w.human.count()).toBe(0);
    await expect.poll(() => w.status.getAttribute('data-state')).toBe('online');

    const conversationId = (await conversation())?.id as string;
    await ui.h.db.asService(async (sql) => {
      const agentId = await createUser(sql);
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role, display_name, avatar_url)
         values ($1, $2, 'agent', 'Dana Levi', 'https://example.test/dana.png')`,
        [tenant.id, agentId],
      );
      await sql.query(
        `update public.conversations set status = 'open', assignee_id = $2 where id = $1`,
        [conversationId, agentId],
      );
      await sql.query(
        `insert into public.messages (conversation_id, role, content, author_id)
         values ($1, 'agent', 'Hi, Dana here. Let me check.', $2)`,
        [conversationId, agentId],
      );
    });
    await waitForMessage(page, 'agent', 'Dana here');
    const title = page.locator('[data-parley="title"]');
    await expect.poll(() => title.textContent()).toBe('Dana Levi');
    await expect
      .poll(() => page.locator('.head > img').getAttribute('src'))
      .toBe('https://example.test/dana.png');
    expect(await notice.count()).toBe(0);
    expect(problems).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  }, 120_000);

  it('the button hands over without a message to the bot', async () => {
    await ui.h.db.asService((sql) =>
      sql.query('delete from public.conversations where tenant_id = $1', [tenant.id]),
    );
    const { page, problems } = await ui.openShop(tenant);
    const w = widget(page);
    await openWidget(page);
    await expect.poll(async () => (await conversation())?.id).toBeTruthy();
    await w.human.click();
    await expect.poll(async () => (await conversation())?.status).toBe('handoff');
    await expect
      .poll(() => page.locator('[data-parley="notice"]').textContent())
      .toBe('A person will join shortly.');
    expect(await w.byRole('user').count()).toBe(0);
    expect(problems).toEqual([]);
  }, 90_000);

  it('a handoff answered after the visitor started anew leaves the new conversation with the bot', async () => {
    const other = await createTenant(ui.h, { llm: null });
    const statuses = () =>
      ui.h.db.asService((sql) =>
        sql.query<{ status: string }>(
          'select status from public.conversations where tenant_id = $1 order by created_at',
          [other.id],
        ),
      );
    const { page, problems } = await ui.openShop(other);
    const w = widget(page);
    await openWidget(page);
    await sendMessage(page, 'Is the blue kettle in stock?');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let asked = false;
    await page.route(/\/functions\/v1\/chat\/handoff$/, async (route) => {
      asked = true;
      await held;
      await route.continue();
    });
    await w.human.click();
    await expect.poll(() => asked).toBe(true);
    await w.newConversation.click();
    await page.locator('[data-parley="confirm-new-yes"]').click();
    await expect.poll(async () => (await statuses()).length).toBe(2);
    await expect.poll(() => w.byRole('user').count()).toBe(0);
    const answered = page.waitForResponse((r) => r.url().endsWith('/chat/handoff'));
    release();
    expect((await answered).status()).toBe(200);
    await expect
      .poll(async () => (await statuses()).map((c) => c.status))
      .toEqual(['handoff', 'bot']);
    // The new conversation still offers a person and tells of no request.
    await page.waitForLoadState('networkidle');
    expect(await w.human.count()).toBe(1);
    expect(await page.locator('[data-parley="notice"]').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  }, 90_000);
});
