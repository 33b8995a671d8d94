import { beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  createStaff,
  latestConversation,
  type Staff,
  signInToAdmin,
} from '../support/admin.ts';
import {
  openWidget,
  sendMessage,
  waitForMessage,
  waitForReply,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';
import { FAKE_DEFAULT_REPLY, type FakeRequest, type FakeTurn } from '../support/fake-llm.ts';

// Copilot, alerts and typing in two Chromium contexts: a visitor in the widget on a shop page and
// an agent in the admin SPA. The model is the fake LLM server; it tells the copilot's requests
// apart by their instructions, so the order in which the SPA asks does not matter.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let agent: Staff;

const SUMMARY = 'Customer wants to return worn-once boots; bot quoted the 60-day policy.';
const SUGGESTION =
  'Unworn boots come back within 60 days: print the prepaid label from your account.';

const answer = (request: FakeRequest): FakeTurn => {
  const system = JSON.stringify(request.body.messages?.[0]?.content ?? '');
  if (system.includes('summarize a customer-support conversation')) return { text: SUMMARY };
  if (system.includes('human support agent')) return { text: SUGGESTION };
  return { text: 'Our returns policy allows 60 days.' };
};

beforeAll(async () => {
  tenant = await createTenant(ui.h, {
    llm: 'openai',
    documents: [
      {
        title: 'Returns policy',
        content:
          '# Returns\n\nUnworn boots can be returned within 60 days for a full refund. Print the prepaid label from your account.',
      },
    ],
  });
  await runWorker(ui.h);
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 20_000, ...options });

describe('copilot in the conversation view', () => {
  it('summarizes on handoff; a suggestion goes into the composer and only the agent sends it; the visitor’s typing shows', async () => {
    ui.h.llm.script(answer, answer, answer, answer);
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    const a = admin(staff);

    const { page: shop } = await ui.openShop(tenant);
    await openWidget(shop);
    await sendMessage(shop, 'Can I return my boots?');
    await waitForReply(shop, '60 days', 30_000);
    await widget(shop).human.click();
    const conversation = await latestConversation(ui.h, tenant);
    const row = a.row(conversation.id);
    await poll(() => row.getAttribute('data-status')).toBe('handoff');
    await row.click();

    // Waiting for a person: the summary comes by itself.
    const summary = staff.locator('[data-admin="copilot-summary"]');
    await summary.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await summary.textContent()).toContain(SUMMARY);

    await staff.locator('[data-admin="copilot-suggest"]').click();
    const suggestion = staff.locator('[data-admin="copilot-suggestion"]');
    await suggestion.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await suggestion.textContent()).toContain(SUGGESTION);
    expect(await suggestion.textContent()).toContain('Returns policy');
    // Drafted, not sent: the visitor has no agent message.
    expect(await widget(shop).byRole('agent').count()).toBe(0);

    await staff.locator('[data-admin="copilot-use"]').click();
    await poll(() => a.input.inputValue()).toBe(SUGGESTION);
    expect(await suggestion.count()).toBe(0);
    await a.input.press('End');
    await a.input.pressSequentially(' Anything else?');
    expect(await widget(shop).byRole('agent').count()).toBe(0);
    await a.send.click();
    const sent = await waitForMessage(shop, 'agent', 'Anything else?', 30_000);
    expect(await sent.textContent()).toContain('prepaid label');

    // The visitor writes back: the agent sees them typing before the message arrives.
    await widget(shop).input.pressSequentially('One more');
    await poll(() => staff.locator('[data-admin="typing"]').textContent()).toContain(
      'The visitor is typing',
    );
    await widget(shop).input.press('Enter');
    await poll(() => a.messages.filter({ hasText: 'One more' }).count()).toBe(1);
    await poll(() => staff.locator('[data-admin="typing"]').textContent()).toBe('');
  }, 180_000);

  it('says in words when the workspace has no model', async () => {
    const bare = await createTenant(ui.h, { llm: null });
    const owner = await createStaff(ui.h, bare, 'owner', 'Noor');
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, owner);
    const { page: shop } = await ui.openShop(bare);
    await openWidget(shop);
    await sendMessage(shop, 'Hello there');
    const conversation = await latestConversation(ui.h, bare);
    await admin(staff).row(conversation.id).click();
    await staff.locator('[data-admin="copilot-suggest"]').click();
    await poll(() =>
      staff.locator('[data-admin="copilot"] [role="alert"]').textContent(),
    ).toContain('none is configured');
  }, 120_000);
});

describe('alerts for new visitor messages', () => {
  it('the title counts visitor messages where the agent is not looking; the chime is a per-user setting', async () => {
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    const a = admin(staff);
    const sound = staff.locator('[data-admin="sound"]');
    expect(await sound.getAttribute('aria-pressed')).toBe('false');
    await sound.click();
    await poll(() => sound.getAttribute('aria-pressed')).toBe('true');
    const [stored] = await ui.h.db.asService(async (sql) => {
      // auth.users is Auth's: read as the session's login role, as createStaff writes it.
      await sql.query(`select set_config('role', 'none', true)`);
      return sql.query<{ on: boolean | null }>(
        `select (raw_user_meta_data ->> 'parley_sound_alerts')::boolean as on from auth.users where id = $1`,
        [agent.id],
      );
    });
    expect(stored?.on).toBe(true);
    const baseTitle = await staff.title();
    expect(baseTitle).not.toMatch(/^\(\d+\)/);

    const { page: shop } = await ui.openShop(tenant);
    await openWidget(shop);
    await sendMessage(shop, 'Is anyone there?');
    await waitForReply(shop, FAKE_DEFAULT_REPLY, 30_000);
    await widget(shop).human.click();
    const conversation = await latestConversation(ui.h, tenant);
    const row = a.row(conversation.id);
    await poll(() => row.getAttribute('data-status')).toBe('handoff');

    // Nobody is looking at it: a new visitor message shows in the title and in the row.
    await sendMessage(shop, 'Hello? I need a person');
    await poll(() => staff.title()).toBe(`(1) ${baseTitle}`);
    await poll(() => row.locator('[data-admin="unread"]').count()).toBe(1);

    // The same browser session's earlier conversation, and someone else's that must not show.
    const earlier = await ui.h.db.asService(async (sql) => {
      const [own] = await sql.query<{ id: string }>(
        `insert into public.conversations (tenant_id, visitor_id, status, created_at)
         select tenant_id, visitor_id, 'resolved', now() - interval '2 days'
           from public.conversations where id = $1 returning id`,
        [conversation.id],
      );
      await sql.query(
        `insert into public.conversations (tenant_id, visitor_id, status, created_at)
         select tenant_id, visitor_id, 'resolved', now() - interval '3 days'
           from public.conversations
          where tenant_id = $1 and visitor_id is not null
            and visitor_id <> (select visitor_id from public.conversations where id = $2)
          limit 1`,
        [tenant.id, conversation.id],
      );
      return own?.id ?? '';
    });

    // Opening the conversation reads it.
    await row.click();
    await poll(() => staff.title()).toBe(baseTitle);
    await poll(() => row.locator('[data-admin="unread"]').count()).toBe(0);
    const listed = staff.locator('[data-admin="earlier"] [data-earlier]');
    await poll(() => listed.count()).toBe(1);
    expect(await listed.getAttribute('data-earlier')).toBe(earlier);

    // Reloaded, the setting is still there: it lives with the account.
    await staff.reload();
    await a.list.waitFor({ state: 'visible' });
    await poll(() => staff.locator('[data-admin="sound"]').getAttribute('aria-pressed')).toBe(
      'true',
    );
  }, 180_000);
});
