import { createClient, FunctionsHttpError, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStaff, type Staff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  runWorker,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';
import type { FakeRequest } from '../support/fake-llm.ts';

// The copilot function: who may ask it (members of the conversation's tenant, nobody else), what
// it asks the tenant's model (the bot's retrieval for a suggestion, the transcript for a summary),
// what it costs (one bot reply of the quota, rate-limited per person) and what it says without a
// model. The model is the fake LLM server; everything else is the local stack.

let h: ChatHarness;
let shop: TestTenant;
let noModel: TestTenant;
let other: TestTenant;
let agent: Staff;
let conversationId: string;
let noModelConversationId: string;

type AnyJson = Record<string, unknown> & { error?: { code: string; message: string } };

async function signedIn(staff: Staff): Promise<SupabaseClient> {
  const client = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { error } = await client.auth.signInWithPassword({
    email: staff.email,
    password: staff.password,
  });
  if (error) throw error;
  return client;
}

async function ask(client: SupabaseClient, path: string, body: Record<string, unknown>) {
  const { data, error, response } = await client.functions.invoke(`copilot/${path}`, { body });
  if (error instanceof FunctionsHttpError) {
    const res = error.context as Response;
    return { status: res.status, body: (await res.json()) as AnyJson };
  }
  if (error) throw error;
  return { status: response?.status ?? 0, body: data as AnyJson };
}

async function conversationWith(tenant: TestTenant, text: string) {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
  const id = session.body.conversation.id as string;
  const sent = await visitor.call('messages', {
    conversation_id: id,
    client_msg_id: crypto.randomUUID(),
    content: text,
  });
  expect(sent.status).toBe(202);
  // The bot's own answer comes first, so the copilot's calls are the only ones scripted below.
  const deadline = Date.now() + 60_000;
  while ((await messageCount(id, 'assistant')) === 0) {
    if (Date.now() > deadline) throw new Error('the bot never answered');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { visitor, id };
}

const messageCount = async (id: string, role?: string) => {
  const [row] = await h.db.asService((sql) =>
    sql.query<{ n: number }>(
      'select count(*)::int as n from public.messages where conversation_id = $1 and ($2::text is null or role = $2)',
      [id, role ?? null],
    ),
  );
  return row?.n ?? 0;
};

const botRepliesUsed = async (tenantId: string) => {
  const [row] = await h.db.asService((sql) =>
    sql.query<{ used: number }>(
      `select coalesce(sum(used), 0)::int as used from public.usage_counters
        where tenant_id = $1 and metric = 'bot_replies_per_month'`,
      [tenantId],
    ),
  );
  return row?.used ?? 0;
};

const systemText = (request: FakeRequest | undefined) => {
  const content = request?.body.messages?.[0]?.content;
  return typeof content === 'string' ? content : JSON.stringify(content ?? '');
};

beforeAll(async () => {
  h = await startChatHarness({ COPILOT_USER_PER_MINUTE: '6' });
  [shop, noModel, other] = await Promise.all([
    createTenant(h, {
      llm: 'openai',
      documents: [
        {
          title: 'Returns policy',
          content:
            '# Returns\n\nUnworn boots can be returned within 60 days for a full refund. Print the prepaid label from your account.',
        },
      ],
    }),
    createTenant(h, { llm: null }),
    createTenant(h, { llm: 'openai' }),
  ]);
  await runWorker(h);
  agent = await createStaff(h, shop, 'agent', 'Avery');
  ({ id: conversationId } = await conversationWith(shop, 'Can I return my boots?'));
  ({ id: noModelConversationId } = await conversationWith(noModel, 'Where is my order?'));
}, 180_000);
afterAll(() => h?.close());

describe('copilot suggestion', () => {
  it('drafts a reply grounded in the knowledge base, spends one bot reply, posts nothing', async () => {
    const client = await signedIn(agent);
    const before = {
      messages: await messageCount(conversationId),
      used: await botRepliesUsed(shop.id),
    };
    h.llm.reset();
    h.llm.script({ text: 'Yes: unworn boots come back within 60 days, with the prepaid label.' });

    const res = await ask(client, 'suggest', { conversation_id: conversationId });
    expect(res.status).toBe(200);
    expect(res.body.suggestion).toMatchObject({
      content: 'Yes: unworn boots come back within 60 days, with the prepaid label.',
      sources: [expect.objectContaining({ title: 'Returns policy' })],
    });
    // The same retrieval as the bot: the passage is in what the model was given.
    const request = h.llm.lastRequest();
    expect(systemText(request)).toContain('within 60 days');
    expect(systemText(request)).toContain('human support agent');
    expect(request?.lastUserText).toBe('Can I return my boots?');
    expect(await messageCount(conversationId)).toBe(before.messages);
    expect(await botRepliesUsed(shop.id)).toBe(before.used + 1);
  }, 60_000);

  it('summarizes the conversation in the staff member’s language', async () => {
    const client = await signedIn(agent);
    h.llm.reset();
    h.llm.script({ text: '- Wants to return boots\n- Bot explained the 60-day policy' });
    const res = await ask(client, 'summary', { conversation_id: conversationId, locale: 'he' });
    expect(res.status).toBe(200);
    expect(res.body.summary).toMatchObject({
      content: '- Wants to return boots\n- Bot explained the 60-day policy',
    });
    const request = h.llm.lastRequest();
    expect(request?.lastUserText).toContain('Customer: Can I return my boots?');
    expect(systemText(request)).toContain('"he"');
  }, 60_000);

  it('says in words that no model is configured, without spending', async () => {
    const member = await createStaff(h, noModel, 'owner', 'Noor');
    const client = await signedIn(member);
    const used = await botRepliesUsed(noModel.id);
    h.llm.reset();
    for (const path of ['suggest', 'summary']) {
      const res = await ask(client, path, { conversation_id: noModelConversationId });
      expect(res.status).toBe(409);
      expect(res.body.error?.code).toBe('llm_not_configured');
      expect(res.body.error?.message).toMatch(/No language model is configured/);
    }
    expect(h.llm.requests).toHaveLength(0);
    expect(await botRepliesUsed(noModel.id)).toBe(used);
  }, 60_000);

  it('refuses at the plan quota, before asking the model', async () => {
    const member = await createStaff(h, other, 'agent', 'Quinn');
    const { id } = await conversationWith(other, 'Hello?');
    await h.db.asService((sql) =>
      sql.query(
        `insert into public.usage_counters (tenant_id, metric, period_start, used)
         values ($1, 'bot_replies_per_month', private.quota_period(),
                 private.plan_limit($1, 'bot_replies_per_month'))
         on conflict (tenant_id, metric, period_start) do update set used = excluded.used`,
        [other.id],
      ),
    );
    h.llm.reset();
    const res = await ask(await signedIn(member), 'suggest', { conversation_id: id });
    expect(res.status).toBe(403);
    expect(res.body.error?.code).toBe('quota_exceeded');
    expect(h.llm.requests).toHaveLength(0);
  }, 90_000);
});

describe('who may ask copilot', () => {
  it('nobody outside the tenant’s team: another tenant’s staff, an operator, a visitor, no one', async () => {
    h.llm.reset();
    const outsider = await signedIn(await createStaff(h, other, 'owner', 'Olive'));
    for (const path of ['suggest', 'summary']) {
      const res = await ask(outsider, path, { conversation_id: conversationId });
      // Someone else's conversation and no conversation look alike.
      expect(res).toMatchObject({
        status: 404,
        body: { error: { code: 'conversation_not_found' } },
      });
    }

    const operatorStaff = await createStaff(h, other, 'agent', 'Ops');
    await h.db.asService((sql) =>
      sql.query('insert into public.platform_admins (user_id) values ($1)', [operatorStaff.id]),
    );
    const operator = await ask(await signedIn(operatorStaff), 'suggest', {
      conversation_id: conversationId,
    });
    expect(operator).toMatchObject({ status: 403, body: { error: { code: 'members_only' } } });

    // The conversation's own visitor holds a valid JWT too.
    const visitor = await Visitor.signIn(h);
    const asVisitor = await fetch(`${h.stack.url}/functions/v1/copilot/suggest`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${visitor.token}`,
        apikey: h.stack.keys.anonKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ conversation_id: conversationId }),
    });
    expect(asVisitor.status).toBe(403);

    const anonymous = await fetch(`${h.stack.url}/functions/v1/copilot/suggest`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${h.stack.keys.anonKey}`,
        apikey: h.stack.keys.anonKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ conversation_id: conversationId }),
    });
    expect(anonymous.status).toBe(401);
    expect(h.llm.requests).toHaveLength(0);
  }, 90_000);

  it('answers bad input with a 400 and too many asks with a 429', async () => {
    const member = await createStaff(h, noModel, 'agent', 'Rae');
    const client = await signedIn(member);
    const bad = await ask(client, 'suggest', { conversation_id: 'not-a-uuid' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBeTypeOf('string');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      statuses.push(
        (await ask(client, 'suggest', { conversation_id: noModelConversationId })).status,
      );
    }
    expect(statuses.slice(0, 6)).toEqual([409, 409, 409, 409, 409, 409]);
    expect(statuses[6]).toBe(429);
  }, 60_000);
});
