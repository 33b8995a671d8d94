import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, overflowing, type Staff, signInAt } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';

// The Playground in Chromium against the local stack: an owner chats with the bot as a visitor
// (a real anonymous session, a real conversation, the chat API), the model is a fake at the HTTP
// boundary, a tool answers from the signature-checking receiver, and the debug panel shows what
// reply_groundings, message_usage and tool_executions hold for each reply.

const ui = useBrowserHarness();
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;

const orderSchema = {
  type: 'object',
  properties: { order_number: { type: 'string' } },
  required: ['order_number'],
  additionalProperties: false,
};

beforeAll(async () => {
  tenant = await createTenant(ui.h, {
    llm: 'openai',
    tools: [{ name: 'order_status', path: '/pg-order', parameters: orderSchema }],
    documents: [
      {
        title: 'Shipping',
        content:
          '# Shipping\n\n## Delivery times\n\nStandard shipping takes 3 to 5 business days. Express shipping takes 1 to 2 business days.',
      },
      {
        title: 'Returns',
        content: '# Returns\n\nUnused gear can be returned within 60 days for a full refund.',
      },
    ],
  });
  await runWorker(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 30_000, ...options });

const part = (page: Page, name: string) => page.locator(`[data-admin="${name}"]`);

async function ask(page: Page, question: string) {
  await poll(() => part(page, 'playground-input').isEnabled()).toBe(true);
  await part(page, 'playground-input').fill(question);
  await part(page, 'playground-input').press('Enter');
}

describe('the Playground', () => {
  it('answers as the bot would, with a debug panel of the real grounding', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, owner, `#/${tenant.id}/playground`);
    const log = part(page, 'playground-log');
    await poll(() => log.getAttribute('data-conversation')).toMatch(/^[0-9a-f-]{36}$/);
    const conversationId = (await log.getAttribute('data-conversation')) as string;

    ui.h.receiver.on('/pg-order', {
      status: 200,
      body: { status: 'shipped', eta: 'Friday' },
      delayMs: 150,
    });
    ui.h.llm.script(
      {
        toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-10421' } }],
        usage: { inputTokens: 120, outputTokens: 12 },
      },
      {
        text: 'Your order TH-10421 has shipped and arrives Friday. Standard shipping takes 3 to 5 business days.\n<quick_replies>["How long does express shipping take?"]</quick_replies>',
        usage: { inputTokens: 300, outputTokens: 25 },
      },
    );
    await ask(page, 'Where is my order TH-10421, and how long does shipping take?');
    const reply = page.locator('[data-admin="playground-message"][data-role="assistant"]');
    await poll(() => reply.filter({ hasText: 'arrives Friday' }).count(), { timeout: 60_000 }).toBe(
      1,
    );

    // The debug panel against what the database holds for that reply.
    const [grounding] = await ui.h.db.asService((sql) =>
      sql.query<{
        message_id: string;
        chunks: { title: string }[];
        engine: string;
        model: string;
        tokens_in: number;
        tokens_out: number;
        cost_usd: string;
        duration_ms: number;
        playground_by: string;
      }>(
        `select g.message_id, g.chunks, g.engine, g.model, m.tokens_in, m.tokens_out, m.cost_usd,
                e.duration_ms, c.playground_by
           from public.reply_groundings g
           join public.messages m on m.id = g.message_id
           join public.conversations c on c.id = g.conversation_id
           left join public.tool_executions e on e.message_id = g.message_id
          where g.conversation_id = $1`,
        [conversationId],
      ),
    );
    expect(grounding?.playground_by).toBe(owner.id);
    const debug = page.locator(`[data-admin="debug"][data-message="${grounding?.message_id}"]`);
    await debug.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await part(page, 'debug-engine').textContent()).toBe(grounding?.engine);
    expect(await part(page, 'debug-model').textContent()).toContain(grounding?.model ?? '?');
    expect(await part(page, 'debug-fallback').textContent()).toBe('none');
    expect(await part(page, 'debug-tokens').textContent()).toBe(
      `${grounding?.tokens_in} in · ${grounding?.tokens_out} out`,
    );
    expect(grounding?.tokens_in).toBe(420);
    expect(await part(page, 'debug-cost').textContent()).toBe(
      `$${Number(grounding?.cost_usd).toFixed(6)}`,
    );
    const passages = part(page, 'debug-passage');
    expect(grounding?.chunks.length).toBeGreaterThan(0);
    expect(await passages.count()).toBe(grounding?.chunks.length);
    expect(await passages.first().textContent()).toContain(grounding?.chunks[0]?.title ?? '?');
    const tool = part(page, 'debug-tool');
    expect(await tool.count()).toBe(1);
    expect(await tool.getAttribute('data-success')).toBe('true');
    expect(grounding?.duration_ms).toBeGreaterThanOrEqual(150);
    expect(await part(page, 'debug-tool-duration').textContent()).toBe(
      `${grounding?.duration_ms} ms`,
    );
    expect(ui.h.receiver.deliveries('/pg-order').at(-1)?.verified).toBe(true);

    // A model failure: the reply comes from retrieval alone, and the panel says why.
    // The reply's quick reply asks the next question, as the widget's chip would.
    ui.h.llm.script({ status: 400, error: 'model refused the request' });
    await part(page, 'playground-quick-replies')
      .getByRole('button', { name: 'How long does express shipping take?' })
      .click();
    await poll(() => reply.count(), { timeout: 60_000 }).toBe(2);
    const [fallback] = await ui.h.db.asService((sql) =>
      sql.query<{ message_id: string; fallback_reason: string | null }>(
        `select message_id, fallback_reason from public.reply_groundings
          where conversation_id = $1 order by created_at desc limit 1`,
        [conversationId],
      ),
    );
    expect(fallback?.fallback_reason).toBeTruthy();
    await page
      .locator(`[data-admin="debug"][data-message="${fallback?.message_id}"]`)
      .waitFor({ state: 'visible', timeout: 20_000 });
    expect(await part(page, 'debug-fallback').textContent()).toBe(fallback?.fallback_reason);

    // The first reply's panel comes back from its button.
    await reply.first().getByRole('button').click();
    await debug.waitFor({ state: 'visible', timeout: 20_000 });

    expect(await axeViolations(page, { mustCheck: ['button-name', 'label'] })).toEqual([]);
    expect(ui.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  }, 180_000);

  it('in Hebrew, dark mode and on a phone the page stays accessible and fits', async () => {
    const { page } = await ui.newPage({
      colorScheme: 'dark',
      viewport: { width: 390, height: 844 },
    });
    await signInAt(page, ui.h, owner, `#/${tenant.id}/playground`);
    await poll(() => part(page, 'playground-input').isEnabled()).toBe(true);
    await admin(page).locale.selectOption('he');
    await admin(page).theme.selectOption('dark');
    await poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    expect(await axeViolations(page, { mustCheck: ['button-name', 'color-contrast'] })).toEqual([]);
    expect(await overflowing(page, '.playground')).toEqual([]);
  }, 120_000);

  it('an agent has no Playground, and the function refuses it a session', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, agent, `#/${tenant.id}/inbox`);
    await admin(page).list.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await page.locator(`a[href="#/${tenant.id}/playground"]`).count()).toBe(0);
    const refused = await page.evaluate(
      async ({ url, key, tenantId }) => {
        const token = JSON.parse(localStorage.getItem('parley-admin-auth') ?? '{}')
          .access_token as string;
        const anonymous = await fetch(`${url}/auth/v1/signup`, {
          method: 'POST',
          headers: { apikey: key, 'Content-Type': 'application/json' },
          body: '{}',
        }).then((r) => r.json());
        const response = await fetch(`${url}/functions/v1/playground/sessions`, {
          method: 'POST',
          headers: {
            apikey: key,
            Authorization: `Bearer ${token}`,
            'Content-Type': 'application/json',
          },
          body: JSON.stringify({ tenant_id: tenantId, visitor_token: anonymous.access_token }),
        });
        return [response.status, (await response.json()).error?.code];
      },
      { url: ui.h.stack.url, key: ui.h.stack.keys.anonKey, tenantId: tenant.id },
    );
    expect(refused).toEqual([403, 'forbidden']);
  }, 120_000);
});
