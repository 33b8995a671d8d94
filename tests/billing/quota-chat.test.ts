import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outOfQuotaMessage } from '../../functions/_shared/billing/quota.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';

// Bot-reply quotas where they are spent: in the reply job, before any model is asked. At the limit
// the visitor still gets an answer, in their language, offering email and a person; under 50
// concurrent messages exactly the limit is spent.

let h: ChatHarness;

beforeAll(async () => {
  h = await startChatHarness();
}, 120_000);
afterAll(() => h?.close());

/** A tenant with the fake LLM on a plan of its own, with `used` of `limit` replies already spent. */
async function tenantAt(limit: number, used: number): Promise<TestTenant> {
  const tenant = await createTenant(h, { llm: 'openai' });
  await h.db.asService(async (sql) => {
    const plan = `quota-${tenant.id.slice(0, 8)}`;
    await sql.query('insert into public.plans (id, name, limits) values ($1, $1, $2::jsonb)', [
      plan,
      { bot_replies_per_month: limit, conversations_per_month: 1000 },
    ]);
    await sql.query('update public.tenants set plan_id = $2 where id = $1', [tenant.id, plan]);
    if (used > 0) {
      await sql.query(
        `insert into public.usage_counters (tenant_id, metric, period_start, used)
         values ($1, 'bot_replies_per_month', date_trunc('month', now() at time zone 'utc')::date, $2)`,
        [tenant.id, used],
      );
    }
  });
  return tenant;
}

async function conversation(tenant: TestTenant, locale = 'en') {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale });
  expect(session.status).toBe(201);
  const id = session.body.conversation.id as string;
  await visitor.subscribe(id);
  return { visitor, id };
}

const send = (visitor: Visitor, conversationId: string, content: string) =>
  visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: crypto.randomUUID(),
    content,
  });

async function spent(tenantId: string) {
  const [row] = await h.db.asService((sql) =>
    sql.query<{ used: number }>(
      `select used from public.usage_counters where tenant_id = $1 and metric = 'bot_replies_per_month'`,
      [tenantId],
    ),
  );
  return row?.used ?? 0;
}

const llmCalls = () => h.llm.requests.length;

describe('bot replies at the plan limit', () => {
  it('the last unit buys a model reply; past it the visitor is offered email and a person, without a model', async () => {
    const tenant = await tenantAt(3, 2);
    h.llm.script({ text: 'Standard shipping takes 3 to 5 business days.' });
    const { visitor, id } = await conversation(tenant);
    const before = llmCalls();
    expect((await send(visitor, id, 'How long does shipping take?')).status).toBe(202);
    const first = await visitor.waitFor(isReply);
    expect(first.payload.content).toBe('Standard shipping takes 3 to 5 business days.');
    expect(llmCalls()).toBeGreaterThan(before);
    expect(await spent(tenant.id)).toBe(3);

    expect((await send(visitor, id, 'And to Canada?')).status).toBe(202);
    await visitor.waitFor(() => visitor.replies().length === 2);
    const second = visitor.replies()[1];
    expect(second?.payload.content).toContain(outOfQuotaMessage('en'));
    expect(String(second?.payload.content)).toMatch(/email address/);
    expect(String(second?.payload.content)).toMatch(/person from our team/);
    expect(h.llm.requests.slice(before).map((r) => r.lastUserText)).not.toContain('And to Canada?');
    expect(await spent(tenant.id)).toBe(3);

    const [state] = await h.db.asService((sql) =>
      sql.query<{ status: string; engine: string; reason: string }>(
        `select c.status, g.engine, g.fallback_reason as reason
           from public.conversations c join public.reply_groundings g on g.conversation_id = c.id
          where c.id = $1 order by g.created_at desc limit 1`,
        [id],
      ),
    );
    // The team sees why: the conversation waits for a person and the owners have a notice.
    expect(state).toEqual({ status: 'handoff', engine: 'quota', reason: 'bot_replies_per_month' });
    const notices = await h.db.asService((sql) =>
      sql.query<{ kind: string }>(
        'select kind from public.tenant_notices where tenant_id = $1 order by kind',
        [tenant.id],
      ),
    );
    expect(notices.map((n) => n.kind)).toEqual(['quota_reached', 'quota_warning']);
    await visitor.close();
  });

  it('answers in the visitor’s language', async () => {
    const tenant = await tenantAt(1, 1);
    const { visitor, id } = await conversation(tenant, 'es');
    const before = llmCalls();
    await send(visitor, id, '¿Cuánto tarda el envío?');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toContain(outOfQuotaMessage('es'));
    expect(String(reply.payload.content)).toContain('una persona de nuestro equipo');
    expect(llmCalls()).toBe(before);
    await visitor.close();
  });

  it('50 concurrent messages racing for the last unit: exactly the limit is spent, everyone is answered', async () => {
    const limit = 20;
    const tenant = await tenantAt(limit, limit - 1);
    h.llm.script({ text: 'Here is the answer.' });
    const visitors = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const visitor = await Visitor.signIn(h);
        const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
        return { visitor, id: session.body.conversation.id as string };
      }),
    );
    const before = llmCalls();
    const sent = await Promise.all(
      visitors.map(({ visitor, id }, i) => send(visitor, id, `Where is my order #${i}?`)),
    );
    expect(sent.every((s) => s.status === 202)).toBe(true);
    const ids = visitors.map((v) => v.id);
    const deadline = Date.now() + 60_000;
    let replies: { content: string }[] = [];
    while (Date.now() < deadline) {
      replies = await h.db.asService((sql) =>
        sql.query<{ content: string }>(
          `select content from public.messages where conversation_id = any($1::uuid[]) and role = 'assistant'`,
          [ids],
        ),
      );
      if (replies.length === 50) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(replies).toHaveLength(50);
    expect(await spent(tenant.id)).toBe(limit);
    expect(replies.filter((r) => r.content === 'Here is the answer.')).toHaveLength(1);
    expect(replies.filter((r) => r.content.includes(outOfQuotaMessage('en')))).toHaveLength(49);
    // Only the message that won the unit reached the model (a retried job may ask it again).
    const asked = new Set(h.llm.requests.slice(before).map((r) => r.lastUserText));
    expect(asked.size).toBe(1);
    await Promise.all(visitors.map(({ visitor }) => visitor.close()));
  }, 120_000);
});
