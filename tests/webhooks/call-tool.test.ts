import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CallToolOptions, callToolWebhook } from '../../functions/_shared/tools/call-tool.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';

// callToolWebhook against a real HTTP receiver that verifies Standard Webhooks signatures like an
// n8n workflow.

const SECRET = `whsec_${Buffer.from('tool-secret-for-tests').toString('base64')}`;
let receiver: ToolReceiver;
let sleeps: number[];

beforeAll(async () => {
  receiver = await startToolReceiver({ secret: SECRET });
});
afterAll(async () => {
  await receiver?.close();
});
beforeEach(() => {
  sleeps = [];
});

const body = {
  tool: 'order_status',
  arguments: { order_number: 'TH-10421' },
  call_id: 'call_abc123',
  conversation: {
    id: '11111111-1111-4111-8111-111111111111',
    tenant_id: '22222222-2222-4222-8222-222222222222',
    contact: { name: 'Jordan', email: 'jordan@example.com' },
  },
};

function call(path: string, overrides: Partial<CallToolOptions> = {}) {
  return callToolWebhook({
    url: receiver.url(path),
    secret: SECRET,
    timeoutMs: 2_000,
    body,
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
}

describe('callToolWebhook', () => {
  it('delivers the signed tool call and returns the JSON answer', async () => {
    receiver.on('/ok', { status: 200, body: { found: true, status: 'shipped' } });
    const result = await call('/ok');
    expect(result).toMatchObject({
      ok: true,
      status: 200,
      response: { found: true, status: 'shipped' },
      attempts: 1,
    });
    expect(result.error).toBeUndefined();
    expect(result.deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    const deliveries = receiver.deliveries('/ok');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ verified: true, body, deliveryId: result.deliveryId });
    expect(deliveries[0]?.headers['content-type']).toBe('application/json');
  });

  it('500 twice then 200: three attempts under one webhook-id, each signed afresh', async () => {
    receiver.on('/order', [500, 500, { status: 200, body: { found: true } }]);
    // Each reading moves the clock on a few seconds, so every attempt gets its own timestamp.
    let clock = Date.now();
    const result = await call('/order', { now: () => (clock += 3_000) });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 3, response: { found: true } });
    expect(result.durationMs).toBeGreaterThan(0);

    const deliveries = receiver.deliveries('/order');
    expect(deliveries.map((d) => d.status)).toEqual([500, 500, 200]);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    expect(new Set(deliveries.map((d) => d.deliveryId))).toEqual(new Set([result.deliveryId]));
    expect(deliveries.map((d) => d.repeated)).toEqual([false, true, true]);
    const timestamps = deliveries.map((d) => d.headers['webhook-timestamp']);
    expect(new Set(timestamps).size).toBe(3);
    expect(sleeps).toEqual([250, 500]);
  });

  it('a tool that hangs past the timeout is retried', async () => {
    receiver.on('/slow', ['timeout', { status: 200, body: { booked: true } }]);
    const result = await call('/slow', { timeoutMs: 300 });
    expect(result).toMatchObject({
      ok: true,
      status: 200,
      attempts: 2,
      response: { booked: true },
    });
    const deliveries = receiver.deliveries('/slow');
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1]?.deliveryId).toBe(deliveries[0]?.deliveryId);
  });

  it('a tool that always hangs ends in a timeout error, not an exception', async () => {
    receiver.on('/hang', 'timeout');
    const started = Date.now();
    const result = await call('/hang', { timeoutMs: 200, maxAttempts: 2 });
    expect(result).toMatchObject({
      ok: false,
      attempts: 2,
      response: null,
      error: 'timed out after 200 ms',
    });
    expect(result.status).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a tool that always fails: ok false after maxAttempts', async () => {
    receiver.on('/broken', 'fail');
    const result = await call('/broken', { maxAttempts: 4 });
    expect(result).toMatchObject({
      ok: false,
      status: 500,
      attempts: 4,
      error: 'HTTP 500',
      response: { error: 'scripted failure' },
    });
    expect(receiver.deliveries('/broken')).toHaveLength(4);
    expect(sleeps).toEqual([250, 500, 1000]);
  });

  it('a 400 is the call being wrong: not retried, and its answer is kept', async () => {
    receiver.on('/picky', { status: 400, body: { error: 'date is in the past' } });
    const result = await call('/picky');
    expect(result).toMatchObject({
      ok: false,
      status: 400,
      attempts: 1,
      error: 'HTTP 400',
      response: { error: 'date is in the past' },
    });
    expect(receiver.deliveries('/picky')).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('429 is retried, waiting as long as Retry-After asks within a short cap', async () => {
    receiver.on('/busy', [
      { status: 429, headers: { 'Retry-After': '1' }, body: { error: 'slow down' } },
      { status: 429, headers: { 'Retry-After': '120' }, body: { error: 'slow down' } },
      200,
    ]);
    const result = await call('/busy');
    expect(result).toMatchObject({ ok: true, attempts: 3 });
    expect(sleeps).toEqual([1_000, 2_000]);
  });

  it('a wrong secret is refused by the receiver with 401 and not retried', async () => {
    const result = await call('/ok', {
      secret: `whsec_${Buffer.from('not-the-tools-secret').toString('base64')}`,
    });
    expect(result).toMatchObject({
      ok: false,
      status: 401,
      attempts: 1,
      response: { error: 'bad_signature' },
    });
    expect(receiver.deliveries('/ok').at(-1)?.verified).toBe(false);
  });

  it('a 2xx without a JSON answer is a failed call, retried under the same id', async () => {
    receiver.on('/empty', { status: 200 });
    const empty = await call('/empty');
    expect(empty).toMatchObject({ ok: false, status: 200, attempts: 3 });
    expect(empty.error).toMatch(/empty body/);
    const ids = new Set(receiver.deliveries('/empty').map((d) => d.deliveryId));
    expect(ids).toEqual(new Set([empty.deliveryId]));

    receiver.on('/text', { status: 200, body: 'Order TH-10421 has shipped.' });
    expect(await call('/text', { maxAttempts: 1 })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not JSON/),
      response: { text: 'Order TH-10421 has shipped.' },
    });
  });

  it('an oversized answer is cut and refused, so a tool cannot flood the model', async () => {
    receiver.on('/huge', { status: 200, body: { rows: 'x'.repeat(200_000) } });
    const result = await call('/huge', { maxResponseBytes: 1_000, maxAttempts: 1 });
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(/larger/) });
    const response = result.response as { text: string; truncated: boolean };
    expect(response.truncated).toBe(true);
    expect(new TextEncoder().encode(response.text).length).toBeLessThanOrEqual(1_000);
    const defaulted = await call('/huge', { maxAttempts: 1 });
    expect((defaulted.response as { text: string }).text.length).toBe(64 * 1024);
  });

  it("a caller can accept other 2xx answers, such as the relay's 202", async () => {
    receiver.on('/accepted', { status: 202 });
    const result = await call('/accepted', {
      validate: (answer) => (answer.status === 202 ? null : 'expected 202'),
    });
    expect(result).toMatchObject({ ok: true, status: 202, attempts: 1 });
  });

  it('network failures are retried, then reported', async () => {
    const gone = await startToolReceiver({ secret: SECRET });
    const url = gone.url('/nowhere');
    await gone.close();
    const result = await call('/unused', { url });
    expect(result).toMatchObject({ ok: false, attempts: 3, response: null });
    expect(result.error).toMatch(/^network error: /);
  });

  it('a throwing fetch and a bad URL become results too', async () => {
    const throwing = await call('/x', {
      fetch: () => {
        throw new TypeError('boom');
      },
      maxAttempts: 2,
    });
    expect(throwing).toMatchObject({ ok: false, attempts: 2, error: 'network error: boom' });
    expect(await call('/x', { url: 'not a url' })).toMatchObject({
      ok: false,
      attempts: 0,
      error: 'invalid webhook url',
    });
  });

  it('a secret that is not whsec_<base64> is never used to sign', async () => {
    const before = receiver.deliveries().length;
    expect(await call('/ok', { secret: 'tool-secret-for-tests' })).toMatchObject({
      ok: false,
      attempts: 0,
      error: expect.stringMatching(/whsec_/),
    });
    expect(receiver.deliveries()).toHaveLength(before);
  });

  it('sends only the Standard Webhooks headers', async () => {
    receiver.on('/headers', 200);
    await call('/headers', { deliveryId: 'msg_headers_1' });
    const [delivery] = receiver.deliveries('/headers');
    expect(delivery?.headers['webhook-id']).toBe('msg_headers_1');
    expect(delivery?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Object.keys(delivery?.headers ?? {}).filter((h) => h.startsWith('x-parley'))).toEqual(
      [],
    );
  });

  it('reuses a webhook-id handed in, for a call retried by a later job run', async () => {
    const deliveryId = crypto.randomUUID();
    receiver.on('/again', 200);
    const result = await call('/again', { deliveryId });
    expect(result.deliveryId).toBe(deliveryId);
    expect(receiver.deliveries('/again')[0]?.deliveryId).toBe(deliveryId);
  });
});
