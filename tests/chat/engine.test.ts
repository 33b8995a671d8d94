import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatHarness,
  createTenant,
  isReply,
  runWorker,
  startChatHarness,
  type TestTenant,
  TOOL_SECRET,
  Visitor,
} from '../support/chat.ts';

// The conversation engine end to end: the widget's calls through the functions router, the
// reply job, retrieval, the (fake) LLM with tool calls to a signature-checking receiver, and the
// reply arriving over Realtime.

let h: ChatHarness;
let shop: TestTenant;
const orderSchema = {
  type: 'object',
  properties: { order_number: { type: 'string', pattern: '^TH-[0-9]{4,8}$' } },
  required: ['order_number'],
  additionalProperties: false,
};

beforeAll(async () => {
  h = await startChatHarness();
  shop = await createTenant(h, {
    llm: 'openai',
    tools: [
      { name: 'order_status', path: '/order', parameters: orderSchema },
      { name: 'slow_status', path: '/slow', parameters: orderSchema, timeoutMs: 400 },
      { name: 'broken_status', path: '/broken', parameters: orderSchema, timeoutMs: 400 },
    ],
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
  await runWorker(h);
}, 120_000);
afterAll(() => h?.close());

async function conversationWith(tenant: TestTenant) {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
  expect(session.status).toBe(201);
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  return { visitor, conversationId };
}

function send(
  visitor: Visitor,
  conversationId: string,
  content: string,
  clientMsgId: string = crypto.randomUUID(),
) {
  return visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: clientMsgId,
    content,
  });
}

async function count(sql: string, params: unknown[]) {
  const [row] = await h.db.asService((q) => q.query<{ n: number }>(sql, params));
  return row?.n ?? -1;
}

describe('replies', () => {
  it('a message yields a grounded reply over Realtime, with sources, quick replies and partial text', async () => {
    h.llm.script({
      text: 'Standard shipping takes 3 to 5 business days. <quick_replies>["Track my order", "Express options"]</quick_replies>',
      chunkDelayMs: 80,
    });
    const { visitor, conversationId } = await conversationWith(shop);
    const sent = await send(visitor, conversationId, 'How long does shipping take?');
    expect(sent.status).toBe(202);
    expect(sent.body.message).toMatchObject({
      role: 'user',
      content: 'How long does shipping take?',
    });

    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Standard shipping takes 3 to 5 business days.');
    expect(reply.payload.quick_replies).toEqual(['Track my order', 'Express options']);
    expect(reply.payload.sources).toEqual(
      expect.arrayContaining([expect.objectContaining({ title: 'Shipping' })]),
    );

    const deltas = visitor.events.filter((e) => e.event === 'reply_delta');
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((d) => !String(d.payload.text).includes('<quick'))).toBe(true);
    expect(visitor.events.some((e) => e.event === 'typing')).toBe(true);

    // Grounded: the model saw the passage, and the audit trail says so.
    const request = h.llm.lastRequest();
    expect(JSON.stringify(request?.body)).toContain('Standard shipping takes 3 to 5 business days');
    const [grounding] = await h.db.asService((sql) =>
      sql.query<{ engine: string; chunks: { title: string }[]; model: string }>(
        'select engine, chunks, model from public.reply_groundings where message_id = $1',
        [reply.payload.id],
      ),
    );
    expect(grounding?.engine).toBe('ai');
    expect(grounding?.chunks.some((c) => c.title === 'Shipping')).toBe(true);
    await visitor.close();
  });

  it('records tokens on the reply and rolls them into usage_daily', async () => {
    h.llm.script({ text: 'Counted.', usage: { inputTokens: 120, outputTokens: 30 } });
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Count my tokens please');
    const reply = await visitor.waitFor(isReply);
    const [row] = await h.db.asService((sql) =>
      sql.query<{ tokens_in: number; tokens_out: number; model: string; usage_in: number }>(
        `select m.tokens_in, m.tokens_out, m.model,
                (select u.tokens_in from public.usage_daily u where u.tenant_id = m.tenant_id and u.day = current_date)::int as usage_in
           from public.messages m where m.id = $1`,
        [reply.payload.id],
      ),
    );
    expect(row).toMatchObject({ tokens_in: 120, tokens_out: 30 });
    expect(row?.usage_in).toBeGreaterThanOrEqual(120);
    await visitor.close();
  });

  it('answers the same question again within five minutes from the cache, without the model', async () => {
    h.llm.script({ text: 'Our Denver store opens at 9 am.' });
    const first = await conversationWith(shop);
    await send(first.visitor, first.conversationId, 'When does the Denver store open?');
    await first.visitor.waitFor(isReply);
    const calls = h.llm.requests.length;
    const second = await conversationWith(shop);
    await send(second.visitor, second.conversationId, 'when does the denver store open');
    const reply = await second.visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Our Denver store opens at 9 am.');
    expect(h.llm.requests.length).toBe(calls);
    const [grounding] = await h.db.asService((sql) =>
      sql.query<{ engine: string }>(
        'select engine from public.reply_groundings where message_id = $1',
        [reply.payload.id],
      ),
    );
    expect(grounding?.engine).toBe('cache');
    await first.visitor.close();
    await second.visitor.close();
  });

  it('answers through the Anthropic wire format too', async () => {
    const claude = await createTenant(h, { llm: 'anthropic' });
    h.llm.script({ text: 'Bonjour from Claude.' });
    const { visitor, conversationId } = await conversationWith(claude);
    await send(visitor, conversationId, 'Hello?');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Bonjour from Claude.');
    expect(h.llm.lastRequest()?.format).toBe('anthropic');
    await visitor.close();
  });

  it('with no LLM configured, answers from retrieval with the source it quotes', async () => {
    const plain = await createTenant(h, {
      documents: [
        {
          title: 'Returns',
          content: '# Returns\n\nUnused gear can be returned within 60 days for a full refund.',
        },
      ],
    });
    await runWorker(h);
    const { visitor, conversationId } = await conversationWith(plain);
    await send(visitor, conversationId, 'Can I return unused gear?');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toContain('60 days');
    expect(reply.payload.content).not.toContain('# Returns');
    // A confident answer stands on its own: a person is offered when confidence is low or the
    // visitor asks for one.
    expect(reply.payload.content).not.toContain('talk to a person');
    expect(reply.payload.quick_replies).toEqual([]);
    expect(reply.payload.sources).toEqual([expect.objectContaining({ title: 'Returns' })]);
    await visitor.close();
  });

  it('follows the widget’s language when setLocale changes it mid-conversation', async () => {
    const plain = await createTenant(h, {
      documents: [
        {
          title: 'Returns',
          content: '# Returns\n\nUnused gear can be returned within 60 days for a full refund.',
        },
      ],
    });
    await runWorker(h);
    const { visitor, conversationId } = await conversationWith(plain);
    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content: 'return unused gear 60 days',
      locale: 'de',
    });
    expect(sent.status).toBe(202);
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toMatch(/^Das habe ich in unseren Hilfeartikeln gefunden/);
    expect(reply.payload.content).toContain('60 days');
    expect(
      await count(
        'select count(*)::int as n from public.conversations where id = $1 and locale = $2',
        [conversationId, 'de'],
      ),
    ).toBe(1);
    await visitor.close();
  });

  it('when the LLM keeps failing, the visitor still gets a retrieval answer, never an error', async () => {
    h.llm.script({ status: 500 }, { status: 500 }, { status: 500 });
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'How long does express shipping take?');
    const reply = await visitor.waitFor(isReply, 30_000);
    expect(reply.payload.content).toContain('1 to 2 business days');
    expect(reply.payload.quick_replies).toEqual(['Talk to a human']);
    h.llm.reset();
    await visitor.close();
  });
});

describe('tools', () => {
  it('a tool call round trip is signed, audited, and its result used', async () => {
    h.receiver.on('/order', {
      status: 200,
      body: { found: true, status: 'shipped', carrier: 'UPS' },
    });
    h.llm.script(
      { toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-10421' } }] },
      (request) => ({
        text: `Your order shipped with ${JSON.parse(request.toolResults[0]?.content ?? '{}').carrier}.`,
      }),
    );
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Where is order TH-10421?');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Your order shipped with UPS.');

    const [delivery] = h.receiver.deliveries('/order').slice(-1);
    expect(delivery?.verified).toBe(true);
    expect(delivery?.body).toMatchObject({
      tool: 'order_status',
      arguments: { order_number: 'TH-10421' },
      conversation: { id: conversationId, tenant_id: shop.id },
    });
    const [execution] = await h.db.asService((sql) =>
      sql.query<{ success: boolean; attempts: number; message_id: string; arguments: unknown }>(
        'select success, attempts, message_id, arguments from public.tool_executions where conversation_id = $1',
        [conversationId],
      ),
    );
    expect(execution).toMatchObject({
      success: true,
      attempts: 1,
      message_id: reply.payload.id,
      arguments: { order_number: 'TH-10421' },
    });
    await visitor.close();
  });

  it('after a tool secret rotation, calls verify with the previous secret until it expires', async () => {
    const rotate = (expires: string) =>
      h.db.asService((sql) =>
        sql.query(
          `update public.tenant_tools set secret = 'whsec_cm90YXRlZC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg==', previous_secret = $2,
                  previous_secret_expires_at = now() + $3::interval
            where tenant_id = $1 and name = 'order_status'`,
          [shop.id, TOOL_SECRET, expires],
        ),
      );
    const ask = async () => {
      h.llm.script(
        { toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-10421' } }] },
        { text: 'Done.' },
      );
      const { visitor, conversationId } = await conversationWith(shop);
      const before = h.receiver.deliveries('/order').length;
      await send(visitor, conversationId, 'Status of TH-10421?');
      await visitor.waitFor(isReply);
      await visitor.close();
      return h.receiver.deliveries('/order').slice(before);
    };
    h.receiver.on('/order', { status: 200, body: { found: true } });
    try {
      await rotate('1 hour');
      // The receiver still knows only the old secret: the previous one's signature carries it.
      const during = await ask();
      expect(during.map((d) => d.verified)).toEqual([true]);
      expect(String(during[0]?.headers['webhook-signature']).split(' ')).toHaveLength(2);
      await rotate('-1 second');
      const after = await ask();
      expect(after.every((d) => !d.verified)).toBe(true);
    } finally {
      await h.db.asService((sql) =>
        sql.query(
          `update public.tenant_tools set secret = $2, previous_secret = null, previous_secret_expires_at = null
            where tenant_id = $1 and name = 'order_status'`,
          [shop.id, TOOL_SECRET],
        ),
      );
    }
  });

  it('runs several tool calls of one turn in parallel', async () => {
    h.receiver.on('/order', { status: 200, body: { found: true }, delayMs: 300 });
    h.llm.script(
      {
        toolCalls: [
          { name: 'order_status', arguments: { order_number: 'TH-10422' } },
          { name: 'order_status', arguments: { order_number: 'TH-10423' } },
        ],
      },
      (request) => ({ text: `Checked ${request.toolResults.length} orders.` }),
    );
    const before = h.receiver.deliveries('/order').length;
    const { visitor, conversationId } = await conversationWith(shop);
    const started = Date.now();
    await send(visitor, conversationId, 'Check my two orders');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Checked 2 orders.');
    const deliveries = h.receiver.deliveries('/order').slice(before);
    expect(deliveries).toHaveLength(2);
    expect(new Set(deliveries.map((d) => d.deliveryId)).size).toBe(2);
    // Both 300 ms calls overlapped: well under the 600 ms they would take in a row (plus overhead).
    expect(Date.now() - started).toBeLessThan(5_000);
    await visitor.close();
  });

  it('stops offering tools after three rounds and makes the model answer', async () => {
    h.receiver.on('/order', { status: 200, body: { found: false } });
    const call = { toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-99999' } }] };
    h.llm.script(call, call, call, { text: 'I could not find that order.' });
    const before = h.llm.requests.length;
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Find order TH-99999');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('I could not find that order.');
    const requests = h.llm.requests.slice(before);
    expect(requests).toHaveLength(4);
    expect(
      requests.slice(0, 3).every((r) => Array.isArray(r.body.tools) && r.body.tools.length > 0),
    ).toBe(true);
    expect(requests[3]?.body.tools).toBeUndefined();
    await visitor.close();
  });

  it('500, 500, then 200: one delivery id, three attempts, success', async () => {
    h.receiver.on('/order', [500, 500, { status: 200, body: { found: true, status: 'packed' } }]);
    h.llm.script(
      { toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-10424' } }] },
      { text: 'It is packed.' },
    );
    const before = h.receiver.deliveries('/order').length;
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Status of TH-10424?');
    await visitor.waitFor(isReply);
    const deliveries = h.receiver.deliveries('/order').slice(before);
    expect(deliveries.map((d) => d.status)).toEqual([500, 500, 200]);
    expect(new Set(deliveries.map((d) => d.deliveryId)).size).toBe(1);
    const [execution] = await h.db.asService((sql) =>
      sql.query<{ success: boolean; attempts: number; delivery_id: string }>(
        'select success, attempts, delivery_id from public.tool_executions where conversation_id = $1',
        [conversationId],
      ),
    );
    expect(execution).toMatchObject({
      success: true,
      attempts: 3,
      delivery_id: deliveries[0]?.deliveryId,
    });
    await visitor.close();
  });

  it('a timeout is retried', async () => {
    h.receiver.on('/slow', ['timeout', { status: 200, body: { found: true } }]);
    h.llm.script(
      { toolCalls: [{ name: 'slow_status', arguments: { order_number: 'TH-10425' } }] },
      { text: 'Found it.' },
    );
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Status of TH-10425?');
    await visitor.waitFor(isReply);
    const [execution] = await h.db.asService((sql) =>
      sql.query<{ success: boolean; attempts: number }>(
        'select success, attempts from public.tool_executions where conversation_id = $1',
        [conversationId],
      ),
    );
    expect(execution).toEqual({ success: true, attempts: 2 });
    await visitor.close();
  });

  it('a tool that always fails: the model is told, and the visitor gets a useful answer', async () => {
    h.receiver.on('/broken', 'fail');
    h.llm.script(
      { toolCalls: [{ name: 'broken_status', arguments: { order_number: 'TH-10421' } }] },
      (request) => ({
        text: request.toolResults[0]?.content.includes('not available')
          ? 'Our order system is down right now; would you like a person to follow up?'
          : 'unexpected',
      }),
    );
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Where is TH-10421?');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toContain('order system is down');
    const [execution] = await h.db.asService((sql) =>
      sql.query<{ success: boolean; attempts: number }>(
        'select success, attempts from public.tool_executions where conversation_id = $1',
        [conversationId],
      ),
    );
    expect(execution).toEqual({ success: false, attempts: 3 });
    await visitor.close();
  });

  it('arguments that break the schema never reach the workflow', async () => {
    h.llm.script(
      { toolCalls: [{ name: 'order_status', arguments: { order_number: 'DROP TABLE' } }] },
      (request) => ({
        text: request.toolResults[0]?.content.includes('Invalid arguments')
          ? 'Please check the order number.'
          : 'unexpected',
      }),
    );
    const before = h.receiver.deliveries('/order').length;
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Where is my order DROP TABLE?');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Please check the order number.');
    expect(h.receiver.deliveries('/order').length).toBe(before);
    await visitor.close();
  });

  it("tenant B's tools never run for tenant A", async () => {
    await createTenant(h, { llm: 'openai', tools: [{ name: 'b_only_tool', path: '/b-only' }] });
    h.llm.script({ toolCalls: [{ name: 'b_only_tool', arguments: {} }] }, (request) => ({
      text: request.toolResults[0]?.content.includes('no tool named')
        ? 'I cannot do that.'
        : 'unexpected',
    }));
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Use the other shop tool');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('I cannot do that.');
    expect(h.receiver.deliveries('/b-only')).toHaveLength(0);
    await visitor.close();
  });

  it('the model can hand the conversation to a human', async () => {
    h.llm.script(
      {
        toolCalls: [
          { name: 'handoff_to_human', arguments: { reason: 'Wants a refund exception' } },
        ],
      },
      { text: 'Of course.' },
    );
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'I want to speak to someone about a refund');
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toContain('connecting you with a person');
    await visitor.waitFor((e) => e.event === 'status_changed' && e.payload.status === 'handoff');
    await visitor.close();
  });
});

describe('delivery guarantees', () => {
  it('resending the same client_msg_id stores one message and one reply', async () => {
    h.llm.script({ text: 'Answer once.' });
    const { visitor, conversationId } = await conversationWith(shop);
    const first = await send(visitor, conversationId, 'Hello there', 'same-id-1');
    const again = await send(visitor, conversationId, 'Hello there', 'same-id-1');
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.duplicate).toBe(true);
    expect(again.body.message.id).toBe(first.body.message.id);
    await visitor.waitFor(isReply);
    await runWorker(h);
    expect(
      await count(
        `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'user'`,
        [conversationId],
      ),
    ).toBe(1);
    expect(
      await count(
        `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'assistant'`,
        [conversationId],
      ),
    ).toBe(1);
    await visitor.close();
  });

  it('two messages sent at once are answered in order', async () => {
    h.llm.script(
      (request) => ({ text: `Re: ${request.lastUserText}`, delayMs: 200 }),
      (request) => ({ text: `Re: ${request.lastUserText}` }),
    );
    const { visitor, conversationId } = await conversationWith(shop);
    await Promise.all([
      send(visitor, conversationId, 'first question'),
      send(visitor, conversationId, 'second question'),
    ]);
    await visitor.waitFor(() => visitor.replies().length === 2);
    const history = await visitor.call(`messages?conversation_id=${conversationId}`);
    const roles = history.body.messages.map(
      (m: { role: string; content: string }) => `${m.role}:${m.content}`,
    );
    const firstUser = roles.findIndex((r: string) => r.startsWith('user:'));
    // Each reply answers its own question, and the first question is answered first.
    const replies = roles.filter((r: string) => r.startsWith('assistant:'));
    expect(replies).toHaveLength(2);
    const userOrder = roles
      .filter((r: string) => r.startsWith('user:'))
      .map((r: string) => r.slice(5));
    expect(replies).toEqual(userOrder.map((q: string) => `assistant:Re: ${q}`));
    expect(firstUser).toBe(0);
    await visitor.close();
  });

  it('a job whose worker died mid-reply is finished by the worker function, exactly once', async () => {
    h.llm.script({ text: 'Finished by the worker.' });
    const { visitor, conversationId } = await conversationWith(shop);
    // A message stored by a request that then died: its reply job is leased to a worker that is gone.
    await h.db.asService(async (sql) => {
      await sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'Is anyone there?')`,
        [conversationId],
      );
      await sql.query(
        `select * from private.claim_jobs('vanished-worker', 1, '1 second'::interval, null, $1)`,
        [`conversation:${conversationId}`],
      );
    });
    await new Promise((r) => setTimeout(r, 1200));
    await h.db.asService((sql) =>
      sql.query(
        `update public.jobs set run_at = now() where ordering_key = $1 and status = 'queued'`,
        [`conversation:${conversationId}`],
      ),
    );
    await runWorker(h);
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Finished by the worker.');
    await runWorker(h);
    expect(
      await count(
        `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'assistant'`,
        [conversationId],
      ),
    ).toBe(1);
    await visitor.close();
  });
});

describe('refusals', () => {
  it('wrong origin, unknown key, forged identity: the right 4xx and nothing stored', async () => {
    const guarded = await createTenant(h, {
      allowedOrigins: ['https://shop.example'],
      enforceIdentity: true,
    });
    const visitor = await Visitor.signIn(h);
    const conversations = () =>
      count('select count(*)::int as n from public.conversations where tenant_id = $1', [
        guarded.id,
      ]);

    expect((await visitor.call('sessions', { key: 'pk_does_not_exist_123' })).body.error.code).toBe(
      'unknown_key',
    );
    const wrongOrigin = await visitor.call(
      'sessions',
      { key: guarded.key },
      { Origin: 'https://evil.example' },
    );
    expect(wrongOrigin.status).toBe(403);
    expect(wrongOrigin.body.error.code).toBe('origin_not_allowed');
    const anonymous = await visitor.call(
      'sessions',
      { key: guarded.key },
      { Origin: 'https://shop.example' },
    );
    expect(anonymous.body.error.code).toBe('identity_required');
    const forged = await visitor.call(
      'sessions',
      { key: guarded.key, visitor: { identifier: 'cust-42', identityHash: 'ab'.repeat(32) } },
      { Origin: 'https://shop.example' },
    );
    expect(forged.status).toBe(403);
    expect(forged.body.error.code).toBe('identity_invalid');
    expect(await conversations()).toBe(0);

    const identityHash = createHmac('sha256', guarded.identitySecret)
      .update('cust-42')
      .digest('hex');
    const verified = await visitor.call(
      'sessions',
      { key: guarded.key, visitor: { identifier: 'cust-42', identityHash, name: 'Ada' } },
      { Origin: 'https://shop.example' },
    );
    expect(verified.status).toBe(201);
    expect(verified.body.conversation.identity_verified).toBe(true);
    expect(await conversations()).toBe(1);
  });

  it('oversized, malformed and invalid bodies: 4xx and nothing stored', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    const stored = () =>
      count('select count(*)::int as n from public.messages where conversation_id = $1', [
        conversationId,
      ]);
    const raw = (body: string) =>
      fetch(`${h.stack.url}/functions/v1/chat/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${visitor.token}`,
          apikey: h.stack.keys.anonKey,
          'content-type': 'application/json',
        },
        body,
      });
    const malformed = await raw('{"conversation_id": ');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('invalid_json');
    const huge = await raw(
      JSON.stringify({
        conversation_id: conversationId,
        client_msg_id: 'x',
        content: 'a'.repeat(100_000),
      }),
    );
    expect(huge.status).toBe(413);
    const tooLong = await send(visitor, conversationId, 'a'.repeat(4001));
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('invalid_request');
    const empty = await send(visitor, conversationId, '   ');
    expect(empty.status).toBe(400);
    const notUuid = await visitor.call('messages', {
      conversation_id: 'nope',
      client_msg_id: 'x',
      content: 'hi',
    });
    expect(notUuid.status).toBe(400);
    expect(await stored()).toBe(0);
    await visitor.close();
  });

  it('beyond the per-visitor rate limit: 429 and nothing stored', async () => {
    const plain = await createTenant(h, {});
    const { visitor, conversationId } = await conversationWith(plain);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await send(visitor, conversationId, `message ${i}`)).status);
    expect(statuses.slice(0, 8).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429]);
    expect(
      await count(
        `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'user'`,
        [conversationId],
      ),
    ).toBe(8);
    await visitor.close();
  });

  it("visitor B can neither read nor post to visitor A's conversation", async () => {
    const { visitor: a, conversationId } = await conversationWith(shop);
    const b = await Visitor.signIn(h);
    const read = await b.call(`messages?conversation_id=${conversationId}`);
    expect(read.status).toBe(404);
    const post = await send(b, conversationId, 'Let me in');
    expect(post.status).toBe(404);
    const handoff = await b.call('handoff', { conversation_id: conversationId });
    expect(handoff.status).toBe(404);
    expect(
      await count('select count(*)::int as n from public.messages where conversation_id = $1', [
        conversationId,
      ]),
    ).toBe(0);
    await a.close();
  });

  it('requires a visitor session: the anon key alone is refused', async () => {
    const res = await fetch(`${h.stack.url}/functions/v1/chat/sessions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${h.stack.keys.anonKey}`,
        apikey: h.stack.keys.anonKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ key: shop.key }),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('visitor_session_required');
  });
});

describe('widget support', () => {
  it('serves the public config, localized and cacheable', async () => {
    const res = await fetch(`${h.stack.url}/functions/v1/chat/config?key=${shop.key}&locale=es`, {
      headers: { authorization: `Bearer ${h.stack.keys.anonKey}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('max-age');
    expect(await res.json()).toMatchObject({ name: 'Test bot', greeting: '¡Hola!', locale: 'es' });
  });

  it('resumes the open conversation, or starts a new one on request', async () => {
    const visitor = await Visitor.signIn(h);
    const first = await visitor.call('sessions', { key: shop.key });
    const again = await visitor.call('sessions', { key: shop.key });
    const fresh = await visitor.call('sessions', { key: shop.key, new_conversation: true });
    expect(again.status).toBe(200);
    expect(again.body.conversation.id).toBe(first.body.conversation.id);
    expect(fresh.status).toBe(201);
    expect(fresh.body.conversation.id).not.toBe(first.body.conversation.id);
  });

  it('thumbs on a reply and CSAT on the conversation', async () => {
    h.llm.script({ text: 'Rated answer.' });
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Rate me');
    const reply = await visitor.waitFor(isReply);
    expect(
      (await visitor.call('feedback', { message_id: reply.payload.id, rating: 'up' })).status,
    ).toBe(200);
    expect(
      (
        await visitor.call('feedback', {
          conversation_id: conversationId,
          csat: 5,
          comment: 'Great',
        })
      ).status,
    ).toBe(200);
    expect(
      (await visitor.call('feedback', { conversation_id: conversationId, csat: 9 })).status,
    ).toBe(400);
    const [row] = await h.db.asService((sql) =>
      sql.query<{ feedback: number; csat: number }>(
        'select m.feedback, c.csat from public.messages m join public.conversations c on c.id = m.conversation_id where m.id = $1',
        [reply.payload.id],
      ),
    );
    expect(row).toEqual({ feedback: 1, csat: 5 });
    await visitor.close();
  });

  it('the visitor can ask for a human', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    const res = await visitor.call('handoff', {
      conversation_id: conversationId,
      reason: 'complex question',
    });
    expect(res.status).toBe(200);
    expect(res.body.conversation.status).toBe('handoff');
    await visitor.waitFor((e) => e.event === 'status_changed' && e.payload.status === 'handoff');
    await visitor.close();
  });
});
