import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../functions/_shared/webhooks/signature.ts';
import { callbackRequest } from '../../n8n/src/lib/callback.ts';
import { receive } from '../../n8n/src/lib/receive.ts';
import { ReplayMemory } from '../../n8n/src/lib/replay.ts';
import { secretKey, sign, verify } from '../../n8n/src/lib/signature.ts';

const SECRET = `whsec_${Buffer.from('parley-n8n-test-secret-0001').toString('base64')}`;
const OLD_SECRET = `whsec_${Buffer.from('parley-n8n-test-secret-old').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('somebody-else-entirely-0001').toString('base64')}`;
const NOW = Date.UTC(2026, 11, 2, 1, 0, 0);

const toolBody = JSON.stringify({
  tool: 'order_status',
  arguments: { order_number: 'A-1001' },
  call_id: 'call_1',
  conversation: { id: 'c0ffee00-0000-4000-8000-000000000001', tenant_id: 't1', contact: null },
});

/** Headers exactly as the standardwebhooks package (Parley's signer) writes them. */
function signed(body: string, options: { id?: string; at?: number; secrets?: string[] } = {}) {
  const id = options.id ?? 'msg_1';
  const at = new Date(options.at ?? NOW);
  const signatures = (options.secrets ?? [SECRET]).map((s) => new Webhook(s).sign(id, at, body));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

function deliver(
  headers: Record<string, string>,
  body: string | Buffer = toolBody,
  extra: Partial<Parameters<typeof receive>[0]> = {},
) {
  return receive({
    secrets: [SECRET],
    headers,
    rawBody: typeof body === 'string' ? Buffer.from(body) : body,
    nowMs: NOW,
    memory: new ReplayMemory(),
    scope: 'wf:node',
    ...extra,
  });
}

describe('Parley Trigger verification', () => {
  it('accepts a genuine delivery signed by the standardwebhooks package', () => {
    const result = deliver(signed(toolBody));
    expect(result).toMatchObject({ ok: true, webhookId: 'msg_1', repeated: false });
    if (!result.ok) return;
    expect(result.delivery).toMatchObject({
      kind: 'tool',
      tool: 'order_status',
      arguments: { order_number: 'A-1001' },
      call_id: 'call_1',
      conversation: { id: 'c0ffee00-0000-4000-8000-000000000001' },
    });
  });

  it('refuses a signature made with another secret', () => {
    expect(deliver(signed(toolBody, { secrets: [OTHER_SECRET] }))).toMatchObject({
      ok: false,
      status: 401,
      error: 'bad_signature',
    });
  });

  it('refuses a body changed after signing, even only in whitespace', () => {
    const headers = signed(toolBody);
    const reformatted = JSON.stringify(JSON.parse(toolBody), null, 2);
    expect(deliver(headers, reformatted)).toMatchObject({ ok: false, error: 'bad_signature' });
  });

  it('refuses timestamps more than five minutes off, either way', () => {
    const stale = deliver(signed(toolBody, { at: NOW - 301_000 }));
    const future = deliver(signed(toolBody, { at: NOW + 301_000 }));
    expect(stale).toMatchObject({ ok: false, status: 401, error: 'stale_timestamp' });
    expect(future).toMatchObject({ ok: false, error: 'stale_timestamp' });
    expect(deliver(signed(toolBody, { at: NOW - 299_000 }))).toMatchObject({ ok: true });
  });

  it('refuses a replayed id, and a replay under a fresh id does not verify', () => {
    const memory = new ReplayMemory();
    const headers = signed(toolBody);
    expect(deliver(headers, toolBody, { memory })).toMatchObject({ ok: true });
    expect(deliver(headers, toolBody, { memory })).toMatchObject({
      ok: false,
      status: 409,
      error: 'duplicate_delivery',
    });
    const renamed = { ...headers, 'webhook-id': 'msg_2' };
    expect(deliver(renamed, toolBody, { memory })).toMatchObject({ error: 'bad_signature' });
  });

  it('lets one of many simultaneous duplicates through', async () => {
    const memory = new ReplayMemory();
    const headers = signed(toolBody, { id: 'msg_burst' });
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => deliver(headers, toolBody, { memory })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it('marks a repeat instead of refusing it when asked to', () => {
    const memory = new ReplayMemory();
    const headers = signed(toolBody);
    deliver(headers, toolBody, { memory });
    expect(deliver(headers, toolBody, { memory, onRepeat: 'mark' })).toMatchObject({
      ok: true,
      repeated: true,
    });
  });

  it('keeps ids apart per trigger and forgets them after the window', () => {
    const memory = new ReplayMemory({ ttlMs: 600_000 });
    expect(memory.claim('a', 'id', NOW)).toBe(true);
    expect(memory.claim('b', 'id', NOW)).toBe(true);
    expect(memory.claim('a', 'id', NOW + 599_000)).toBe(false);
    expect(memory.claim('a', 'id', NOW + 600_001)).toBe(true);
  });

  it('remembers ids restored from static data', () => {
    const before = new ReplayMemory();
    before.claim('wf:node', 'msg_1', NOW);
    const after = new ReplayMemory();
    after.restore('wf:node', before.snapshot('wf:node', NOW), NOW + 1_000);
    expect(deliver(signed(toolBody), toolBody, { memory: after })).toMatchObject({
      error: 'duplicate_delivery',
    });
  });

  it('accepts a rotation: two signatures, the receiver holding either secret', () => {
    const headers = signed(toolBody, { secrets: [SECRET, OLD_SECRET] });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(deliver(headers, toolBody, { secrets: [SECRET] })).toMatchObject({ ok: true });
    expect(deliver(headers, toolBody, { secrets: [OLD_SECRET] })).toMatchObject({ ok: true });
    // And a receiver that already holds both accepts a sender that has not rotated yet.
    const oldOnly = signed(toolBody, { secrets: [OLD_SECRET] });
    expect(deliver(oldOnly, toolBody, { secrets: [SECRET, OLD_SECRET] })).toMatchObject({
      ok: true,
    });
  });

  it('refuses missing headers, a missing raw body and a credential without a secret', () => {
    expect(deliver({})).toMatchObject({ status: 401, error: 'missing_signature' });
    expect(deliver(signed(toolBody), toolBody, { rawBody: undefined })).toMatchObject({
      status: 500,
      error: 'no_raw_body',
    });
    expect(deliver(signed(toolBody), toolBody, { secrets: ['not-a-secret'] })).toMatchObject({
      status: 500,
      error: 'no_secret',
    });
  });

  it('signs byte for byte as the standardwebhooks package does', () => {
    const at = Math.floor(NOW / 1000);
    const ours = sign({ secrets: [SECRET], id: 'msg_x', timestamp: at, body: toolBody });
    const theirs = new Webhook(SECRET).sign('msg_x', new Date(at * 1000), toolBody);
    expect(ours['webhook-signature']).toBe(theirs);
    expect(secretKey('whsec_')).toBeNull();
    expect(verify({ secrets: [SECRET], headers: ours, rawBody: toolBody, now: at })).toMatchObject({
      ok: true,
    });
  });
});

describe('relay deliveries', () => {
  const relayBody = JSON.stringify({
    tool: 'parley.reply',
    arguments: {
      message: { id: 'm1', content: 'Where is my order?' },
      history: [
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'Where is my order?' },
      ],
      locale: 'en',
    },
    conversation: { id: 'c1', tenant_id: 't1', contact: { email: 'a@example.com' } },
    callback_url: 'https://example.supabase.co/functions/v1/n8n-callback',
  });

  it('exposes message, history and the Chat Trigger names', () => {
    const result = deliver(signed(relayBody), relayBody);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.delivery).toMatchObject({
      kind: 'relay',
      tool: 'parley.reply',
      message: 'Where is my order?',
      message_id: 'm1',
      chatInput: 'Where is my order?',
      sessionId: 'c1',
      locale: 'en',
      callback_url: 'https://example.supabase.co/functions/v1/n8n-callback',
    });
    expect(result.delivery.history).toHaveLength(2);
  });

  it('refuses the wrong kind for a trigger set to one', () => {
    expect(deliver(signed(relayBody), relayBody, { accept: 'tools' })).toMatchObject({
      status: 400,
      error: 'unexpected_delivery',
    });
    expect(deliver(signed(toolBody), toolBody, { accept: 'relay' })).toMatchObject({
      status: 400,
    });
  });

  it('does not spend the id on a refused delivery', () => {
    const memory = new ReplayMemory();
    const headers = signed(relayBody);
    deliver(headers, relayBody, { memory, accept: 'tools' });
    expect(deliver(headers, relayBody, { memory })).toMatchObject({ ok: true });
  });

  it("signs callbacks that Parley's /n8n-callback verification accepts", () => {
    const request = callbackRequest({
      url: 'https://example.supabase.co/functions/v1/n8n-callback',
      secrets: [SECRET],
      conversationId: 'c1',
      answer: { reply: 'Shipped yesterday.', quick_replies: ['Track it'] },
      id: 'msg_cb',
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    expect(JSON.parse(request.body)).toEqual({
      conversation_id: 'c1',
      reply: 'Shipped yesterday.',
      quick_replies: ['Track it'],
    });
    expect(
      verifyRequest({ secrets: [SECRET], headers: request.headers, body: request.body }),
    ).toEqual({ ok: true, id: 'msg_cb' });
  });
});
