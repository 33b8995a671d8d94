import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { flowSchema } from '../../functions/_shared/flows/schema.ts';
import { createStaff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';
import {
  deliver,
  delivery,
  type FakeGraph,
  inbound,
  type MetaNumber,
  startFakeGraph,
} from './fake-meta.ts';

// Keyword flows on the local stack: saved (and refused) through the flows function, then walked
// before the AI in the web widget and on WhatsApp alike: buttons, a branch, an answer kept on the
// contact, a handoff, a question asked again, a timeout, and tenants kept apart; and steps that
// call the tenant's tools through the signed path the bot uses, checked by a receiver that verifies
// every signature.

const ACCESS_TOKEN = 'EAAG-flows-token';
const APP_SECRET = 'flows-app-secret-0123';
const number: MetaNumber = {
  phoneNumberId: '106540352249999',
  displayPhoneNumber: '15550789999',
  wabaId: '102290129349999',
};

const FINNEGANS = {
  name: 'Finnegans',
  triggers: ['Finnegans', 'MENU!'],
  timeout_minutes: 30,
  steps: [
    {
      id: 'start',
      type: 'ask',
      text: { en: 'Welcome to Finnegans! What can I do for you?', es: '¡Bienvenido a Finnegans!' },
      buttons: ['Book a table', 'Opening hours', 'Talk to staff'],
      branches: [
        { when: ['Book a table', 'book'], next: 'party' },
        { when: ['Opening hours'], next: 'hours' },
        { when: ['Talk to staff'], next: 'human' },
      ],
    },
    {
      id: 'party',
      type: 'ask',
      text: 'For how many people?',
      buttons: ['2', '4', '6+'],
      save_as: 'attributes.party_size',
      next: 'name',
    },
    { id: 'name', type: 'ask', text: 'And your name?', save_as: 'name', next: 'tag' },
    { id: 'tag', type: 'set', field: 'attributes.source', value: 'finnegans-flow', next: 'human' },
    { id: 'hours', type: 'message', text: 'We are open 12:00-23:00 every day.', next: 'done' },
    { id: 'done', type: 'end', text: 'Anything else, just ask!' },
    { id: 'human', type: 'handoff', text: 'A host will confirm your table.' },
  ],
};

let h: ChatHarness;
let graph: FakeGraph;
let a: TestTenant;
let b: TestTenant;
let tokens: { ownerA: string; agentA: string; ownerB: string };
let webhookUrl: string;

async function tokenOf(staff: { email: string; password: string }) {
  const client = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { data, error } = await client.auth.signInWithPassword(staff);
  if (error || !data.session) throw error ?? new Error('no session');
  return data.session.access_token;
}

function flowsCall(token: string | null, method: string, path: string, body: unknown) {
  return fetch(`${h.stack.url}/functions/v1/flows${path}`, {
    method,
    headers: {
      apikey: h.stack.keys.anonKey,
      authorization: `Bearer ${token ?? h.stack.keys.anonKey}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
}

function query<T>(text: string, params: unknown[] = []) {
  return h.db.asService((sql) => sql.query<T>(text, params));
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A web visitor's conversation with the tenant: each message said waits for its reply. */
async function chat(tenant: TestTenant) {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  let seen = 0;
  const say = async (content: string) => {
    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content,
    });
    expect(sent.status).toBe(202);
    const reply = await visitor.waitFor(
      (e) =>
        e.event === 'message_created' &&
        e.payload.role === 'assistant' &&
        visitor.replies().indexOf(e) >= seen,
      60_000,
    );
    seen = visitor.replies().length;
    return reply.payload as { content: string; quick_replies: string[] };
  };
  return { visitor, conversationId, say };
}

/** A WhatsApp customer: each message delivered waits for the next send to them. */
function customer(from: string) {
  const sendsTo = () => graph.sent.filter((m) => m.body.to === from && m.wamid);
  return async (type: string, content: Record<string, unknown>) => {
    const before = sendsTo().length;
    const res = await deliver(
      webhookUrl,
      APP_SECRET,
      delivery(number, inbound(from, type, content)),
    );
    expect(res.status).toBe(200);
    return until('a send to the customer', async () => sendsTo()[before]?.body);
  };
}

beforeAll(async () => {
  graph = await startFakeGraph(ACCESS_TOKEN);
  h = await startChatHarness({ WHATSAPP_GRAPH_URL: graph.url });
  [a, b] = await Promise.all([
    createTenant(h, {
      llm: 'openai',
      tools: [
        {
          name: 'order_status',
          path: '/order',
          parameters: {
            type: 'object',
            properties: { order_id: { type: 'string', pattern: '^[A-Z]-[0-9]+$' } },
            required: ['order_id'],
          },
          timeoutMs: 1000,
        },
      ],
    }),
    createTenant(h, { llm: 'openai' }),
  ]);
  const [ownerA, agentA, ownerB] = await Promise.all([
    createStaff(h, a, 'owner', 'Owner A'),
    createStaff(h, a, 'agent', 'Agent A'),
    createStaff(h, b, 'owner', 'Owner B'),
  ]);
  tokens = {
    ownerA: await tokenOf(ownerA),
    agentA: await tokenOf(agentA),
    ownerB: await tokenOf(ownerB),
  };
  const [row] = await query<{ id: string }>(
    `insert into public.whatsapp_connections
       (tenant_id, phone_number_id, business_account_id, access_token, app_secret, verify_token)
     values ($1, $2, $3, $4, $5, 'flows-verify-token') returning id`,
    [a.id, number.phoneNumberId, number.wabaId, ACCESS_TOKEN, APP_SECRET],
  );
  webhookUrl = `${h.stack.url}/functions/v1/whatsapp/${row?.id}`;
}, 240_000);
afterAll(async () => {
  await h?.close();
  await graph?.close();
});
beforeEach(() => {
  h.llm.reset();
});

describe('saving a flow', () => {
  it('validates the whole flow and names what is wrong', () => {
    const dangling = flowSchema.safeParse({
      ...FINNEGANS,
      steps: [{ id: 'a', type: 'message', text: 'Hi', next: 'nowhere' }],
    });
    expect(dangling.success).toBe(false);
    expect(JSON.stringify(dangling.error?.issues)).toContain('no step with id nowhere');
    const twice = flowSchema.safeParse({
      ...FINNEGANS,
      steps: [
        { id: 'a', type: 'end' },
        { id: 'a', type: 'end' },
      ],
    });
    expect(JSON.stringify(twice.error?.issues)).toContain('duplicate step id a');
    const ok = flowSchema.parse(FINNEGANS);
    expect(ok.triggers).toEqual(['finnegans', 'menu']);
  });

  it("accepts the demo tenant's seeded flow", () => {
    const seed = readFileSync(join(import.meta.dirname, '../../supabase/seed.sql'), 'utf8');
    const definition = /\$json\$([\s\S]*?)\$json\$/.exec(seed)?.[1] ?? '';
    const parsed = flowSchema.safeParse({
      name: 'Store finder',
      triggers: ['store finder'],
      ...JSON.parse(definition),
    });
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('refuses malformed flows with 400 and callers who may not edit', async () => {
    const bad = await flowsCall(tokens.ownerA, 'POST', '', {
      tenant_id: a.id,
      flow: {
        ...FINNEGANS,
        steps: [{ id: 'x', type: 'ask', text: 'Q', buttons: ['a'.repeat(30)] }],
      },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_request');
    const garbage = await flowsCall(tokens.ownerA, 'POST', '', { tenant_id: a.id, flow: 'x' });
    expect(garbage.status).toBe(400);

    const asAgent = await flowsCall(tokens.agentA, 'POST', '', {
      tenant_id: a.id,
      flow: FINNEGANS,
    });
    expect(asAgent.status).toBe(403);
    const otherTenant = await flowsCall(tokens.ownerB, 'POST', '', {
      tenant_id: a.id,
      flow: FINNEGANS,
    });
    expect(otherTenant.status).toBe(403);
    const anonymous = await flowsCall(null, 'POST', '', { tenant_id: a.id, flow: FINNEGANS });
    expect(anonymous.status).toBe(401);
    const visitor = await Visitor.signIn(h);
    const asVisitor = await flowsCall(visitor.token, 'POST', '', {
      tenant_id: a.id,
      flow: FINNEGANS,
    });
    expect(asVisitor.status).toBe(403);
    expect(await query('select 1 from public.bot_flows where tenant_id = $1', [a.id])).toHaveLength(
      0,
    );
  });

  it('answers bad requests with a 4xx in the error shape, never a 500', async () => {
    const raw = (method: string, path: string, body: string) =>
      fetch(`${h.stack.url}/functions/v1/flows${path}`, {
        method,
        headers: {
          apikey: h.stack.keys.anonKey,
          authorization: `Bearer ${tokens.ownerA}`,
          'content-type': 'application/json',
        },
        ...(method === 'GET' ? {} : { body }),
      });
    const cases: [Response, number, string][] = [
      [await raw('POST', '', '{not json'), 400, 'invalid_json'],
      [await raw('POST', '', '[]'), 400, 'invalid_request'],
      [
        await raw('POST', '', JSON.stringify({ tenant_id: 'x', flow: FINNEGANS })),
        400,
        'invalid_request',
      ],
      [
        await raw(
          'POST',
          '',
          JSON.stringify({ tenant_id: a.id, flow: { ...FINNEGANS, name: 'a\u0000b' } }),
        ),
        400,
        'invalid_request',
      ],
      [await raw('PUT', '/not-a-uuid', JSON.stringify({ flow: FINNEGANS })), 404, 'not_found'],
      [await raw('GET', '', ''), 404, 'not_found'],
      [await raw('POST', '', 'x'.repeat(300 * 1024)), 413, 'payload_too_large'],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect((await res.json()).error.code).toBe(code);
    }
  });

  it('stores a valid flow for owners, and only they update it', async () => {
    const created = await flowsCall(tokens.ownerA, 'POST', '', {
      tenant_id: a.id,
      flow: FINNEGANS,
    });
    expect(created.status).toBe(201);
    const { id } = await created.json();
    const [row] = await query<{ triggers: string[]; definition: { steps: unknown[] } }>(
      'select triggers, definition from public.bot_flows where id = $1',
      [id],
    );
    expect(row?.triggers).toEqual(['finnegans', 'menu']);
    expect(row?.definition.steps).toHaveLength(FINNEGANS.steps.length);
    const byOther = await flowsCall(tokens.ownerB, 'PUT', `/${id}`, { flow: FINNEGANS });
    expect(byOther.status).toBe(404);
    const byAgent = await flowsCall(tokens.agentA, 'PUT', `/${id}`, { flow: FINNEGANS });
    expect(byAgent.status).toBe(403);
    const again = await flowsCall(tokens.ownerA, 'PUT', `/${id}`, { flow: FINNEGANS });
    expect(again.status).toBe(200);
    // Tenant B has a flow of its own, with a keyword A's customers must not reach.
    const other = await flowsCall(tokens.ownerB, 'POST', '', {
      tenant_id: b.id,
      flow: {
        name: 'B only',
        triggers: ['secret-b'],
        steps: [{ id: 'x', type: 'end', text: 'B flow' }],
      },
    });
    expect(other.status).toBe(201);
  });
});

describe('in the web widget', () => {
  it('walks a branch, keeps the answers on the contact and hands off, without the AI', async () => {
    const { conversationId, say } = await chat(a);
    const first = await say('menu');
    expect(first.content).toBe('Welcome to Finnegans! What can I do for you?');
    expect(first.quick_replies).toEqual(['Book a table', 'Opening hours', 'Talk to staff']);
    // Outside the buttons, with nowhere else to go: asked again.
    const again = await say('pizza?');
    expect(again.content).toBe(
      'Sorry, I did not get that.\n\nWelcome to Finnegans! What can I do for you?',
    );
    expect(again.quick_replies).toEqual(['Book a table', 'Opening hours', 'Talk to staff']);
    const party = await say('book');
    expect(party.content).toBe('For how many people?');
    expect(party.quick_replies).toEqual(['2', '4', '6+']);
    expect((await say('4')).content).toBe('And your name?');
    const last = await say('Ana Costa');
    expect(last.content).toContain('A host will confirm your table.');
    expect(last.quick_replies).toEqual([]);

    const [conversation] = await query<{
      status: string;
      name: string;
      attributes: Record<string, string>;
    }>(
      `select c.status, k.name, k.attributes from public.conversations c
         join public.contacts k on k.id = c.contact_id where c.id = $1`,
      [conversationId],
    );
    expect(conversation).toEqual({
      status: 'handoff',
      name: 'Ana Costa',
      attributes: { party_size: '4', source: 'finnegans-flow' },
    });
    expect(h.llm.requests).toHaveLength(0);
    const engines = await query<{ engine: string }>(
      'select engine from public.reply_groundings where conversation_id = $1',
      [conversationId],
    );
    expect(new Set(engines.map((e) => e.engine))).toEqual(new Set(['flow']));
    expect(
      await query('select 1 from private.flow_sessions where conversation_id = $1', [
        conversationId,
      ]),
    ).toHaveLength(0);
  }, 180_000);

  it('ends a flow with a message, and after it the AI answers again', async () => {
    const { say } = await chat(a);
    await say('Finnegans');
    const hours = await say('opening hours');
    expect(hours.content).toBe('We are open 12:00-23:00 every day.\n\nAnything else, just ask!');
    const ai = await say('Do you have vegan dishes?');
    expect(ai.content).toBe('Hello from the fake LLM.');
  }, 120_000);

  it('lets a question time out: the late answer goes to the AI', async () => {
    const { conversationId, say } = await chat(a);
    await say('menu');
    await query(
      `update private.flow_sessions set expires_at = now() - interval '1 minute' where conversation_id = $1`,
      [conversationId],
    );
    const late = await say('Book a table');
    expect(late.content).toBe('Hello from the fake LLM.');
    expect(
      await query('select 1 from private.flow_sessions where conversation_id = $1', [
        conversationId,
      ]),
    ).toHaveLength(0);
  }, 120_000);

  it("never starts another tenant's flow", async () => {
    const { say } = await chat(a);
    const reply = await say('secret-b');
    expect(reply.content).toBe('Hello from the fake LLM.');
    const inB = await chat(b);
    expect((await inB.say('secret-b')).content).toBe('B flow');
    expect((await inB.say('menu')).content).toBe('Hello from the fake LLM.');
  }, 120_000);
});

describe('on WhatsApp', () => {
  it('sends the questions as reply buttons and follows the button the customer taps', async () => {
    const from = '34611222333';
    const say = customer(from);
    const first = await say('text', { text: { body: 'Finnegans' } });
    expect(first.type).toBe('interactive');
    expect(first.interactive).toMatchObject({
      type: 'button',
      body: { text: 'Welcome to Finnegans! What can I do for you?' },
      action: {
        buttons: [
          { type: 'reply', reply: { id: 'Book a table', title: 'Book a table' } },
          { type: 'reply', reply: { id: 'Opening hours', title: 'Opening hours' } },
          { type: 'reply', reply: { id: 'Talk to staff', title: 'Talk to staff' } },
        ],
      },
    });
    const staff = await say('interactive', {
      interactive: {
        type: 'button_reply',
        button_reply: { id: 'Talk to staff', title: 'Talk to staff' },
      },
    });
    expect(staff.type).toBe('text');
    expect((staff.text as { body: string }).body).toContain('A host will confirm your table.');
    const [conversation] = await query<{ status: string }>(
      `select c.status from public.conversations c join public.contacts k on k.id = c.contact_id
        where k.tenant_id = $1 and k.wa_id = $2`,
      [a.id, from],
    );
    expect(conversation?.status).toBe('handoff');
    expect(h.llm.requests).toHaveLength(0);
  }, 120_000);
});

const ORDERS = {
  name: 'Orders',
  triggers: ['where is my order'],
  steps: [
    {
      id: 'number',
      type: 'ask',
      text: 'Your order number?',
      save_as: 'attributes.last_order',
      next: 'lookup',
    },
    {
      id: 'lookup',
      type: 'call_tool',
      tool: 'order_status',
      arguments: {
        order_id: { from: 'reply' },
        channel: 'flow',
        list: { from: 'attributes.list' },
        shape: { value: { detail: 'full' } },
      },
      save: [
        { from: 'order.status', to: 'attributes.order_status' },
        { from: 'order.eta', to: 'vars.eta' },
        { to: 'vars.answer' },
      ],
      timeout_ms: 800,
      next: 'found',
      on_failure: 'sorry',
    },
    { id: 'found', type: 'message', text: 'On its way, arriving {{vars.eta}}.', next: 'more' },
    { id: 'more', type: 'ask', text: 'Anything else?', buttons: ['No'], next: 'bye' },
    { id: 'bye', type: 'end', text: 'See you {{vars.eta}}!' },
    { id: 'sorry', type: 'handoff', text: 'I could not check that right now.' },
  ],
};

describe('steps that call a tool', () => {
  const orders = (path: string) => h.receiver.deliveries(path).filter((d) => d.method === 'POST');
  let flowId = '';

  it('refuses a flow naming a tool the workspace does not have, or a malformed call', async () => {
    const unknown = await flowsCall(tokens.ownerA, 'POST', '', {
      tenant_id: a.id,
      flow: {
        ...ORDERS,
        steps: ORDERS.steps.map((s) => (s.id === 'lookup' ? { ...s, tool: 'order_sttaus' } : s)),
      },
    });
    expect(unknown.status).toBe(422);
    const problem = await unknown.json();
    expect(problem.error.code).toBe('unknown_tool');
    expect(problem.error.message).toContain('order_sttaus');
    // Tenant B has no such tool: A's tool names mean nothing there.
    const inB = await flowsCall(tokens.ownerB, 'POST', '', { tenant_id: b.id, flow: ORDERS });
    expect(inB.status).toBe(422);
    const issues = (steps: unknown[]) =>
      JSON.stringify(flowSchema.safeParse({ ...ORDERS, steps }).error?.issues ?? []);
    expect(
      issues([{ id: 'x', type: 'call_tool', tool: 'order_status', save: [{ to: 'secret' }] }]),
    ).toContain('"path":["steps",0,"save",0,"to"]');
    expect(
      issues([{ id: 'x', type: 'call_tool', tool: 'order_status', on_failure: 'y' }]),
    ).toContain('no step with id y');
    expect(
      issues([
        { id: 'x', type: 'call_tool', tool: 'order_status', arguments: { a: { from: 'x' } } },
      ]),
    ).toContain('"path":["steps",0,"arguments","a"]');
    expect(
      issues([{ id: 'x', type: 'call_tool', tool: 'order_status', timeout_ms: 60_000 }]),
    ).toContain('timeout_ms');
    const created = await flowsCall(tokens.ownerA, 'POST', '', { tenant_id: a.id, flow: ORDERS });
    expect(created.status).toBe(201);
    flowId = (await created.json()).id;
    expect(
      (
        await flowsCall(tokens.ownerA, 'PUT', `/${flowId}`, {
          flow: { ...ORDERS, steps: [{ id: 'z', type: 'call_tool', tool: 'nope' }] },
        })
      ).status,
    ).toBe(422);
  });

  it('in the widget: calls the tool signed, keeps its answer, and branches on success', async () => {
    h.receiver.on('/order', {
      status: 200,
      body: { order: { status: 'shipped', eta: 'Friday' }, carrier: 'DHL' },
    });
    const before = orders('/order').length;
    const { conversationId, say } = await chat(a);
    expect((await say('Where is my order?')).content).toBe('Your order number?');
    const found = await say('A-1001');
    expect(found.content).toBe('On its way, arriving Friday.\n\nAnything else?');
    expect(found.quick_replies).toEqual(['No']);

    const calls = orders('/order').slice(before);
    expect(calls).toHaveLength(1);
    const call = calls[0];
    expect(call?.verified).toBe(true);
    expect(call?.body).toMatchObject({
      tool: 'order_status',
      arguments: { order_id: 'A-1001', channel: 'flow', list: null, shape: { detail: 'full' } },
      call_id: 'flow:lookup',
      conversation: { id: conversationId, tenant_id: a.id },
    });
    const [contact] = await query<{ attributes: Record<string, unknown> }>(
      `select k.attributes from public.contacts k join public.conversations c on c.contact_id = k.id
        where c.id = $1`,
      [conversationId],
    );
    expect(contact?.attributes).toEqual({ last_order: 'A-1001', order_status: 'shipped' });
    // The variables wait with the conversation at the next question.
    const [session] = await query<{ vars: Record<string, unknown> }>(
      'select vars from private.flow_sessions where conversation_id = $1',
      [conversationId],
    );
    expect(session?.vars).toEqual({
      eta: 'Friday',
      answer: { order: { status: 'shipped', eta: 'Friday' }, carrier: 'DHL' },
    });
    expect((await say('No')).content).toBe('See you Friday!');
    const [audit] = await query<{ success: boolean; call_id: string; delivery_id: string }>(
      `select success, call_id, delivery_id::text from public.tool_executions
        where conversation_id = $1`,
      [conversationId],
    );
    expect(audit).toEqual({ success: true, call_id: 'flow:lookup', delivery_id: call?.deliveryId });
    expect(h.llm.requests).toHaveLength(0);
  }, 120_000);

  it('takes the failure branch on an error answer, a timeout, or arguments the schema refuses', async () => {
    // Two 500s: the call is retried once, then the flow hands off.
    h.receiver.on('/order', 'fail');
    const failing = await chat(a);
    await failing.say('where is my order');
    const before = orders('/order').length;
    const failed = await failing.say('B-2');
    expect(failed.content).toContain('I could not check that right now.');
    const retried = orders('/order').slice(before);
    expect(retried).toHaveLength(2);
    expect(new Set(retried.map((d) => d.deliveryId)).size).toBe(1);
    const [conversation] = await query<{ status: string }>(
      'select status from public.conversations where id = $1',
      [failing.conversationId],
    );
    expect(conversation?.status).toBe('handoff');

    h.receiver.on('/order', 'timeout');
    const slow = await chat(a);
    await slow.say('where is my order');
    expect((await slow.say('C-3')).content).toContain('I could not check that right now.');
    const [timedOut] = await query<{ success: boolean; error: string }>(
      'select success, error from public.tool_executions where conversation_id = $1',
      [slow.conversationId],
    );
    expect(timedOut).toEqual({ success: false, error: 'timed out after 800 ms' });

    // Not an order number: never sent, and the log says why.
    const sent = orders('/order').length;
    const wrong = await chat(a);
    await wrong.say('where is my order');
    expect((await wrong.say('my red shoes')).content).toContain('I could not check that');
    expect(orders('/order')).toHaveLength(sent);
    const [refused] = await query<{ attempts: number; error: string }>(
      'select attempts, error from public.tool_executions where conversation_id = $1',
      [wrong.conversationId],
    );
    expect(refused?.attempts).toBe(0);
    expect(refused?.error).toContain('invalid arguments');
  }, 120_000);

  it('makes the call outside any transaction: the conversation is free while the tool works', async () => {
    // Slower than the step's 800 ms: both attempts time out, and the flow takes on_failure.
    h.receiver.on('/order', { status: 200, body: { order: { eta: 'never' } }, delayMs: 3000 });
    const waiting = await chat(a);
    await waiting.say('where is my order');
    const before = orders('/order').length;
    const answered = waiting.say('F-6');
    const call = await until('the call to arrive', async () => orders('/order')[before]);
    // While the call is out, the reply's rows are not locked and nothing of the reply is written.
    const rows = await query(
      'select 1 from private.flow_sessions where conversation_id = $1 for update nowait',
      [waiting.conversationId],
    );
    expect(rows).toHaveLength(1);
    const replied = await query(
      `select 1 from public.messages where conversation_id = $1 and role = 'assistant'
          and content like '%could not check%'`,
      [waiting.conversationId],
    );
    expect(replied).toHaveLength(0);
    expect(call.status).toBeUndefined();
    expect((await answered).content).toContain('I could not check that right now.');
  }, 120_000);

  it('never reaches a private address: the outbound guard refuses a redirect there', async () => {
    h.receiver.on('/order', { status: 302, headers: { Location: 'http://10.20.30.40/order' } });
    const inside = await chat(a);
    await inside.say('where is my order');
    expect((await inside.say('D-4')).content).toContain('I could not check that right now.');
    const [refused] = await query<{ success: boolean; attempts: number }>(
      'select success, attempts from public.tool_executions where conversation_id = $1',
      [inside.conversationId],
    );
    expect(refused).toEqual({ success: false, attempts: 1 });
  }, 120_000);

  it('on WhatsApp: the same flow, the same signed call, the answer sent to the customer', async () => {
    h.receiver.on('/order', { status: 200, body: { order: { status: 'packed', eta: 'Monday' } } });
    const before = orders('/order').length;
    const say = customer('34611999000');
    const ask = await say('text', { text: { body: 'where is my order' } });
    expect((ask.text as { body: string }).body).toBe('Your order number?');
    const found = await say('text', { text: { body: 'E-55' } });
    expect(found.type).toBe('interactive');
    expect(found.interactive).toMatchObject({
      body: { text: 'On its way, arriving Monday.\n\nAnything else?' },
    });
    const [call] = orders('/order').slice(before);
    expect(call?.verified).toBe(true);
    expect(call?.body).toMatchObject({ arguments: { order_id: 'E-55' } });
    const [contact] = await query<{ attributes: Record<string, unknown> }>(
      'select attributes from public.contacts where tenant_id = $1 and wa_id = $2',
      [a.id, '34611999000'],
    );
    expect(contact?.attributes).toMatchObject({ order_status: 'packed', last_order: 'E-55' });
  }, 120_000);
});
