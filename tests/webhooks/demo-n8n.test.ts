import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callToolWebhook } from '../../functions/_shared/tools/call-tool.ts';
import { validateArguments } from '../../functions/_shared/tools/validate-arguments.ts';
import { signRequest } from '../../functions/_shared/webhooks/signature.ts';
import { createDemoN8n, DEMO_TOOL_SECRET } from '../../supabase/local/demo/n8n.ts';
import { type LocalStack, startLocalStack } from '../../supabase/local/stack.ts';
import { freePort } from '../support/stack.ts';

// The demo order/booking service of the local stack, called in-process.

// Wednesday 10 June 2026, 09:00 in Denver (MDT, UTC-6).
const NOW = new Date('2026-06-10T15:00:00Z');
const logged: string[] = [];
const demo = createDemoN8n({ log: (message) => logged.push(message) }, { now: () => NOW });

const BASE = 'http://127.0.0.1:54321/demo/n8n';
const FORGED = `whsec_${Buffer.from('forged-secret-of-a-stranger').toString('base64')}`;

function toolCall(tool: string, args: Record<string, unknown>) {
  return JSON.stringify({
    tool,
    arguments: args,
    call_id: `call_${crypto.randomUUID().slice(0, 8)}`,
    conversation: {
      id: crypto.randomUUID(),
      tenant_id: 'b0000000-0000-4000-8000-000000000001',
      contact: null,
    },
  });
}

async function post(
  path: string,
  body: string,
  options: { secret?: string; deliveryId?: string; timestamp?: number; unsigned?: boolean } = {},
) {
  // Signatures are checked against the real clock; NOW is only the demo calendar's.
  const headers = options.unsigned
    ? {}
    : signRequest({
        secret: options.secret ?? DEMO_TOOL_SECRET,
        body,
        id: options.deliveryId ?? crypto.randomUUID(),
        ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
      });
  const response = await demo.fetch(
    new Request(`${BASE}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body,
    }),
  );
  return { status: response.status, headers: response.headers, body: await response.json() };
}

describe('demo n8n: order-status', () => {
  it('answers a properly signed call from its fixture orders', async () => {
    const { status, body } = await post(
      '/order-status',
      toolCall('order_status', { order_number: 'TH-10421' }),
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      found: true,
      demo: true,
      order_number: 'TH-10421',
      status: 'shipped',
      carrier: 'UPS',
      tracking_number: expect.any(String),
      estimated_delivery: '2026-06-12',
    });
  });

  it('an unknown number, or the wrong email for a known one, is simply not found', async () => {
    for (const args of [
      { order_number: 'TH-99999' },
      { order_number: 'TH-10421', email: 'someone.else@example.com' },
    ]) {
      const { status, body } = await post('/order-status', toolCall('order_status', args));
      expect(status).toBe(200);
      expect(body).toMatchObject({ found: false });
      expect(body).not.toHaveProperty('status');
    }
    const matching = await post(
      '/order-status',
      toolCall('order_status', { order_number: 'th-10423', email: 'Alex@Example.com' }),
    );
    expect(matching.body).toMatchObject({ found: true, status: 'delivered' });
  });

  it('refuses forged, unsigned and stale calls', async () => {
    const body = toolCall('order_status', { order_number: 'TH-10421' });
    expect(await post('/order-status', body, { secret: FORGED })).toMatchObject({
      status: 401,
      body: { error: 'bad_signature' },
    });
    expect(await post('/order-status', body, { unsigned: true })).toMatchObject({
      status: 401,
      body: { error: 'missing_signature' },
    });
    const stale = Math.floor(Date.now() / 1000) - 600;
    expect(await post('/order-status', body, { timestamp: stale })).toMatchObject({
      status: 401,
      body: { error: 'stale_timestamp' },
    });
    expect(logged.some((line) => line.includes('bad_signature'))).toBe(true);
  });
});

describe('demo n8n: book-fitting', () => {
  const booking = { store: 'Denver', date: '2026-06-12', time: '10:00', name: 'Jordan Reyes' };

  it('books a future slot in opening hours and confirms it with a reference', async () => {
    const { status, body } = await post('/book-fitting', toolCall('book_fitting', booking));
    expect(status).toBe(200);
    expect(body).toEqual({
      booked: true,
      demo: true,
      reference: expect.stringMatching(/^FIT-[0-9A-F]{6}$/),
      store: 'Denver',
      address: '1450 Larimer Street, Denver',
      date: '2026-06-12',
      time: '10:00',
      duration_minutes: 30,
      name: 'Jordan Reyes',
    });
  });

  it('a repeated delivery gets the first answer instead of a second booking', async () => {
    const deliveryId = crypto.randomUUID();
    const body = toolCall('book_fitting', booking);
    const first = await post('/book-fitting', body, { deliveryId });
    const again = await post('/book-fitting', body, { deliveryId });
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('X-Demo-Replay')).toBe('true');
    const other = await post('/book-fitting', body);
    expect(other.body.reference).not.toBe(first.body.reference);
  });

  it('refuses past dates, bad stores and slots outside opening hours', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...booking, date: '2026-06-09' }, /in the past/],
      // Today, but 08:30 has gone by at 09:00.
      [{ ...booking, date: '2026-06-10', time: '08:30' }, /in the past/],
      [{ ...booking, store: 'Aspen' }, /store must be one of Denver, Boulder/],
      [{ ...booking, date: '2026-02-30' }, /calendar date/],
      [{ ...booking, time: '25:00' }, /HH:MM/],
      [{ ...booking, name: ' ' }, /name is required/],
      // Sunday in Denver: 10:00 to 18:00, so the last fitting starts at 17:30.
      [{ ...booking, date: '2026-06-14', time: '09:30' }, /from 10:00 to 17:30/],
      [{ ...booking, store: 'Boulder', time: '18:45' }, /from 10:00 to 18:30/],
      [{ ...booking, date: '2027-06-12' }, /up to 90 days ahead/],
    ];
    for (const [args, message] of cases) {
      const { status, body } = await post('/book-fitting', toolCall('book_fitting', args));
      expect({ args, status, booked: body.booked }).toEqual({ args, status: 422, booked: false });
      expect(body.error).toMatch(message);
    }
    const later = await post(
      '/book-fitting',
      toolCall('book_fitting', { ...booking, date: '2026-06-10', time: '09:30' }),
    );
    expect(later.body).toMatchObject({ booked: true });
  });

  it('refuses a forged booking', async () => {
    const { status } = await post('/book-fitting', toolCall('book_fitting', booking), {
      secret: FORGED,
    });
    expect(status).toBe(401);
  });
});

describe('demo n8n: HTTP', () => {
  it('only knows its two tools, by POST', async () => {
    expect((await demo.fetch(new Request(`${BASE}/other`, { method: 'POST' }))).status).toBe(404);
    expect((await demo.fetch(new Request(`${BASE}/order-status`))).status).toBe(405);
  });

  it('a signed body that is not a tool call is a 400', async () => {
    const { status } = await post('/order-status', JSON.stringify({ hello: 'world' }));
    expect(status).toBe(400);
  });

  it('speaks the same protocol as callToolWebhook', async () => {
    const result = await callToolWebhook({
      url: `${BASE}/order-status`,
      secret: DEMO_TOOL_SECRET,
      timeoutMs: 2_000,
      body: JSON.parse(toolCall('order_status', { order_number: 'TH-10424' })),
      fetch: (input, init) => demo.fetch(new Request(input, init)),
    });
    expect(result).toMatchObject({
      ok: true,
      attempts: 1,
      response: { status: 'out_for_delivery' },
    });
  });
});

describe('demo n8n in the local stack', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    // A port nobody listens on: the stack's pg_cron worker calls must not reach a running stack.
    stack = await startLocalStack({ port: await freePort(), log: () => {} });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('serves the seeded tools at their webhook URLs, with their secret and schemas', async () => {
    const { rows } = await stack.database.pg.query<{
      name: string;
      webhook_url: string;
      secret: string;
      parameters: Record<string, unknown>;
    }>(
      `select name, webhook_url, secret, parameters from public.tenant_tools
        where tenant_id = 'b0000000-0000-4000-8000-000000000001' order by name`,
    );
    expect(rows.map((r) => r.name)).toEqual(['book_fitting', 'order_status']);
    const inTwoDays = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const args: Record<string, Record<string, unknown>> = {
      order_status: { order_number: 'TH-10422' },
      book_fitting: { store: 'Boulder', date: inTwoDays, time: '11:00', name: 'Maya' },
    };
    for (const tool of rows) {
      const toolArgs = args[tool.name] as Record<string, unknown>;
      expect(validateArguments(tool.parameters, toolArgs)).toEqual({ ok: true });
      const result = await callToolWebhook({
        url: tool.webhook_url,
        secret: tool.secret,
        timeoutMs: 5_000,
        body: JSON.parse(toolCall(tool.name, toolArgs)),
        // The seeded URLs name the default port; the stack's router is called directly.
        fetch: (input, init) => stack.fetch(new Request(input, init)),
      });
      expect({ tool: tool.name, ok: result.ok, status: result.status }).toEqual({
        tool: tool.name,
        ok: true,
        status: 200,
      });
    }
  });
});
