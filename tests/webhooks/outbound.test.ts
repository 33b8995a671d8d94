import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addressProblem,
  checkOutboundUrl,
  createOutboundFetch,
  loopbackAllowed,
  OutboundRefusedError,
  type Resolver,
} from '../../functions/_shared/net/outbound.ts';
import { callToolWebhook } from '../../functions/_shared/tools/call-tool.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';

// The outbound guard: what a tenant's URL may reach, whatever way it is written, wherever its
// name resolves and wherever it redirects.

const SECRET = 'whsec_dGVzdC1vdXRib3VuZC1zZWNyZXQtMDEyMzQ1Njc4OQ==';

const dns: Record<string, string[]> = {
  'api.example.com': ['93.184.216.34'],
  'v6.example.com': ['2606:2800:220:1:248:1893:25c8:1946'],
  'metadata.google.internal': ['169.254.169.254'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.7'],
  'sneaky.example.com': ['::ffff:127.0.0.1'],
};
const resolve: Resolver = async (host) => {
  const found = dns[host];
  if (!found) throw new Error(`ENOTFOUND ${host}`);
  return found;
};

const refused = (url: string, allowLoopback = false) =>
  expect(checkOutboundUrl(url, { resolve, allowLoopback })).rejects.toBeInstanceOf(
    OutboundRefusedError,
  );

describe('checkOutboundUrl', () => {
  it.each([
    'http://localhost:5678/webhook',
    'http://LOCALHOST./x',
    'http://app.localhost/x',
    'http://127.0.0.1/',
    'http://127.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://127.000.000.001/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[0:0:0:0:0:ffff:7f00:1]/',
    'http://169.254.169.254/latest/meta-data/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://240.0.0.1/',
    'http://192.0.2.1/',
    'http://[fe80::1]/',
    'http://[fc00::1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[ff02::1]/',
    'http://mixed.example.com/',
    'http://sneaky.example.com/',
    'http://does-not-exist.example.com/',
    'ftp://api.example.com/',
    'file:///etc/passwd',
    'gopher://api.example.com/',
    'http://user:pass@api.example.com/',
    'not a url',
  ])('refuses %s', async (url) => {
    await refused(url);
  });

  it.each([
    'https://api.example.com/v1',
    'http://api.example.com:8080/hook',
    'https://v6.example.com/',
    'https://93.184.216.34/',
    'https://[2606:2800:220:1:248:1893:25c8:1946]/',
  ])('accepts %s', async (url) => {
    await expect(checkOutboundUrl(url, { resolve })).resolves.toBeInstanceOf(URL);
  });

  it('allows loopback only when the platform says so, never other private ranges', async () => {
    for (const url of ['http://127.1/', 'http://[::1]/', 'http://localhost:5678/']) {
      await expect(checkOutboundUrl(url, { resolve, allowLoopback: true })).resolves.toBeTruthy();
    }
    await refused('http://10.0.0.1/', true);
    await refused('http://169.254.169.254/', true);
    await refused('http://[::ffff:127.0.0.1]/', true);
  });

  it('reads the platform setting strictly, off by default', () => {
    expect(loopbackAllowed({})).toBe(false);
    expect(loopbackAllowed({ PARLEY_ALLOW_LOOPBACK_OUTBOUND: 'false' })).toBe(false);
    expect(loopbackAllowed({ PARLEY_ALLOW_LOOPBACK_OUTBOUND: 'yes please' })).toBe(false);
    expect(loopbackAllowed({ PARLEY_ALLOW_LOOPBACK_OUTBOUND: 'true' })).toBe(true);
    expect(loopbackAllowed({ PARLEY_ALLOW_LOOPBACK_OUTBOUND: '1' })).toBe(true);
  });

  it('classifies resolved addresses', () => {
    expect(addressProblem('8.8.8.8')).toBeNull();
    expect(addressProblem('127.0.0.1')).toMatch(/loopback/);
    expect(addressProblem('127.0.0.1', true)).toBeNull();
    expect(addressProblem('::ffff:10.0.0.1')).toMatch(/ipv4Mapped/);
    expect(addressProblem('100.100.100.200')).toMatch(/carrierGradeNat/);
  });
});

/** A scripted fetch: answers by URL, records what it was asked. */
function scripted(routes: Record<string, (init: RequestInit) => Response>) {
  const calls: { url: string; method: string; body: unknown; headers: Headers }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({
      url,
      method: init.method ?? 'GET',
      body: init.body,
      headers: new Headers(init.headers),
    });
    expect(init.redirect).toBe('manual');
    const route = routes[url];
    if (!route) throw new TypeError(`no route for ${url}`);
    return route(init);
  }) as typeof fetch;
  return { fetchFn, calls };
}

const redirect = (status: number, location: string) => () =>
  new Response(null, { status, headers: { location } });

describe('createOutboundFetch', () => {
  it('never sends a request to a refused URL', async () => {
    const { fetchFn, calls } = scripted({});
    const guarded = createOutboundFetch({ fetch: fetchFn, resolve });
    await expect(guarded('http://169.254.169.254/latest/meta-data/')).rejects.toBeInstanceOf(
      OutboundRefusedError,
    );
    expect(calls).toHaveLength(0);
  });

  it('re-checks every redirect target, and stops at a private one', async () => {
    const { fetchFn, calls } = scripted({
      'https://api.example.com/hook': redirect(307, 'http://169.254.169.254/latest/meta-data/'),
    });
    const guarded = createOutboundFetch({ fetch: fetchFn, resolve });
    await expect(guarded('https://api.example.com/hook', { method: 'POST' })).rejects.toThrow(
      /link/i,
    );
    expect(calls.map((c) => c.url)).toEqual(['https://api.example.com/hook']);
  });

  it('refuses a redirect that would turn a POST into a GET', async () => {
    for (const status of [301, 302, 303]) {
      const { fetchFn, calls } = scripted({
        'https://api.example.com/a': redirect(status, 'https://api.example.com/b'),
        'https://api.example.com/b': () => Response.json({ ok: true }),
      });
      const guarded = createOutboundFetch({ fetch: fetchFn, resolve });
      await expect(
        guarded('https://api.example.com/a', { method: 'POST', body: '{}' }),
      ).rejects.toThrow(/into GET/);
      expect(calls).toHaveLength(1);
    }
  });

  it('follows 307 and 308 with the same method and body, dropping credentials across origins', async () => {
    const { fetchFn, calls } = scripted({
      'https://api.example.com/a': redirect(308, '/b'),
      'https://api.example.com/b': redirect(307, 'https://v6.example.com/c'),
      'https://v6.example.com/c': () => Response.json({ ok: true }),
    });
    const guarded = createOutboundFetch({ fetch: fetchFn, resolve });
    const response = await guarded('https://api.example.com/a', {
      method: 'POST',
      body: '{"x":1}',
      headers: { authorization: 'Bearer tenant-key', 'webhook-id': 'msg_1' },
    });
    expect(await response.json()).toEqual({ ok: true });
    expect(calls.map((c) => [c.url, c.method, c.body])).toEqual([
      ['https://api.example.com/a', 'POST', '{"x":1}'],
      ['https://api.example.com/b', 'POST', '{"x":1}'],
      ['https://v6.example.com/c', 'POST', '{"x":1}'],
    ]);
    expect(calls[1]?.headers.get('authorization')).toBe('Bearer tenant-key');
    expect(calls[2]?.headers.get('authorization')).toBeNull();
    expect(calls[2]?.headers.get('webhook-id')).toBe('msg_1');
  });

  it('lets GET follow a 302, and gives up after three redirects', async () => {
    const { fetchFn } = scripted({
      'https://api.example.com/0': redirect(302, '/1'),
      'https://api.example.com/1': redirect(302, '/2'),
      'https://api.example.com/2': redirect(302, '/3'),
      'https://api.example.com/3': redirect(302, '/4'),
      'https://api.example.com/4': () => Response.json({ ok: true }),
    });
    const guarded = createOutboundFetch({ fetch: fetchFn, resolve });
    await expect(guarded('https://api.example.com/1')).resolves.toHaveProperty('status', 200);
    await expect(guarded('https://api.example.com/0')).rejects.toThrow(/more than 3 redirects/);
  });

  it('caps the response size, declared or streamed', async () => {
    const big = 'x'.repeat(2048);
    const { fetchFn } = scripted({
      'https://api.example.com/declared': () =>
        new Response(big, { headers: { 'content-length': String(big.length) } }),
      'https://api.example.com/streamed': () =>
        new Response(
          new ReadableStream({
            start(controller) {
              for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big));
              controller.close();
            },
          }),
        ),
    });
    const guarded = createOutboundFetch({ fetch: fetchFn, resolve, maxResponseBytes: 1024 });
    await expect(guarded('https://api.example.com/declared')).rejects.toThrow(/1024/);
    const streamed = await guarded('https://api.example.com/streamed');
    await expect(streamed.text()).rejects.toBeInstanceOf(OutboundRefusedError);
  });

  it('caps the time of the whole exchange', async () => {
    const hanging = (async (_input: RequestInfo | URL, init: RequestInit = {}) =>
      new Promise<Response>((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as typeof fetch;
    const guarded = createOutboundFetch({ fetch: hanging, resolve, timeoutMs: 50 });
    const started = Date.now();
    await expect(guarded('https://api.example.com/slow')).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('tool calls behind the guard', () => {
  let receiver: ToolReceiver;
  beforeAll(async () => {
    receiver = await startToolReceiver({ secret: SECRET });
  });
  afterAll(() => receiver?.close());

  it('a tool URL on loopback is not called unless the platform allows loopback', async () => {
    const call = (allowLoopback: boolean) =>
      callToolWebhook({
        url: receiver.url('/internal'),
        secret: SECRET,
        timeoutMs: 2000,
        body: {
          tool: 'peek',
          arguments: {},
          call_id: 'c1',
          conversation: { id: 'conv', tenant_id: 'tenant', contact: null },
        },
        fetch: createOutboundFetch({ fetch, resolve, allowLoopback }),
        sleep: async () => {},
      });
    const refusedCall = await call(false);
    expect(refusedCall).toMatchObject({ ok: false, attempts: 1, response: null });
    expect(refusedCall.error).toMatch(/refused.*loopback/);
    expect(receiver.deliveries('/internal')).toHaveLength(0);

    const allowed = await call(true);
    expect(allowed.ok).toBe(true);
    expect(receiver.deliveries('/internal')).toHaveLength(1);
  });
});
