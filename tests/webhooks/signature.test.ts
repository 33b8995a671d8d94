import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  activeSecrets,
  isWebhookSecret,
  signRequest,
  verifyRequest,
} from '../../functions/_shared/webhooks/signature.ts';
import { canonicalJson, webhookIdFor } from '../../functions/_shared/webhooks/webhook-id.ts';

// Standard Webhooks, as any receiver written from the spec (or with its libraries) checks them.

const KEY = 'current-key-of-32-bytes-for-test';
const SECRET = `whsec_${Buffer.from(KEY).toString('base64')}`;
const OTHER = `whsec_${Buffer.from('another-key-of-32-bytes-for-tes').toString('base64')}`;
const BODY = JSON.stringify({ tool: 'order_status', arguments: { order_number: 'TH-10421' } });
const NOW = 1_790_000_000;
const ID = 'msg_2b9a4c559a1e0d6b';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW * 1000);
});
afterEach(() => {
  vi.useRealTimers();
});

function signed(overrides: { secret?: string | string[]; timestamp?: number; id?: string } = {}) {
  return signRequest({
    secret: overrides.secret ?? SECRET,
    body: BODY,
    id: overrides.id ?? ID,
    timestamp: overrides.timestamp ?? NOW,
  });
}

const verify = (headers: Record<string, string>, secrets = [SECRET], body = BODY) =>
  verifyRequest({ secrets, headers, body });

describe('signRequest', () => {
  it('signs "<id>.<timestamp>.<body>" with HMAC-SHA256 as base64, v1-prefixed', () => {
    const expected = createHmac('sha256', KEY).update(`${ID}.${NOW}.${BODY}`).digest('base64');
    expect(signed()).toEqual({
      'webhook-id': ID,
      'webhook-timestamp': String(NOW),
      'webhook-signature': `v1,${expected}`,
    });
  });

  it('verifies with the reference library, as a receiver would', () => {
    expect(() => new Webhook(SECRET).verify(BODY, signed())).not.toThrow();
  });

  it('signs with every secret of a rotation, space-separated', () => {
    const signature = signed({ secret: [SECRET, OTHER] })['webhook-signature'];
    const values = signature.split(' ');
    expect(values).toHaveLength(2);
    expect(values.every((v) => v.startsWith('v1,'))).toBe(true);
    expect(() =>
      new Webhook(OTHER).verify(BODY, signed({ secret: [SECRET, OTHER] })),
    ).not.toThrow();
  });

  it('refuses secrets that are not whsec_<base64>, and ids with spaces', () => {
    expect(() => signed({ secret: 'plain-text-secret' })).toThrow(/whsec_/);
    expect(() => signed({ secret: '' })).toThrow(/whsec_/);
    expect(() => signed({ secret: [] })).toThrow();
    expect(() => signed({ id: 'two words' })).toThrow(/webhook id/);
    expect(isWebhookSecret(SECRET)).toBe(true);
    expect(isWebhookSecret('whsec_')).toBe(false);
  });
});

describe('verifyRequest', () => {
  it('accepts its own signature, from Fetch headers or node-style headers', () => {
    expect(
      verifyRequest({ secrets: [SECRET], headers: new Headers(signed()), body: BODY }),
    ).toEqual({ ok: true, id: ID });
    expect(
      verifyRequest({ secrets: [SECRET], headers: signed(), body: new TextEncoder().encode(BODY) }),
    ).toEqual({ ok: true, id: ID });
  });

  it('the id is signed: a captured request replayed under a fresh id is refused', () => {
    const replayed = { ...signed(), 'webhook-id': 'msg_fresh_id_for_the_replay' };
    expect(verify(replayed)).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('refuses a tampered body and a wrong secret', () => {
    expect(verify(signed(), [SECRET], BODY.replace('10421', '10422'))).toEqual({
      ok: false,
      code: 'bad_signature',
    });
    expect(verify(signed(), [OTHER])).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('refuses a timestamp six minutes off in either direction, and accepts five', () => {
    for (const offset of [-360, 360]) {
      expect(verify(signed({ timestamp: NOW + offset }))).toEqual({
        ok: false,
        code: 'stale_timestamp',
      });
    }
    for (const offset of [-300, 300]) {
      expect(verify(signed({ timestamp: NOW + offset }))).toMatchObject({ ok: true });
    }
  });

  it('a timestamp moved into the window does not carry an old signature', () => {
    const moved = { ...signed({ timestamp: NOW - 3600 }), 'webhook-timestamp': String(NOW) };
    expect(verify(moved)).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('names what is missing or malformed', () => {
    const headers = signed();
    const without = (name: string) =>
      Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    expect(verify({})).toEqual({ ok: false, code: 'missing_signature' });
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      expect(verify(without(name))).toEqual({ ok: false, code: 'missing_signature' });
    }
    expect(verify({ ...headers, 'webhook-timestamp': '17900e5' })).toEqual({
      ok: false,
      code: 'bad_timestamp',
    });
    expect(verify({ ...headers, 'webhook-signature': 'v1=hex-from-the-old-scheme' })).toEqual({
      ok: false,
      code: 'bad_signature',
    });
    expect(verify({ ...headers, 'webhook-id': 'x'.repeat(256) })).toEqual({
      ok: false,
      code: 'bad_webhook_id',
    });
  });

  it('the old X-Parley headers are not accepted any more', () => {
    const legacy = createHmac('sha256', KEY).update(`${NOW}.${BODY}`).digest('hex');
    expect(
      verify({
        'X-Parley-Timestamp': String(NOW),
        'X-Parley-Signature': `v1=${legacy}`,
        'X-Parley-Delivery': '6f1c1d7e-2b9a-4c55-9a1e-0d6b7c3e8f10',
      }),
    ).toEqual({ ok: false, code: 'missing_signature' });
  });

  it('accepts any one of several space-separated values, skipping other versions', () => {
    const good = signed()['webhook-signature'];
    const other = signed({ secret: OTHER })['webhook-signature'];
    for (const value of [`${other} ${good}`, `${good} ${other}`, `v2,abc ${good}`]) {
      expect(verify({ ...signed(), 'webhook-signature': value })).toMatchObject({ ok: true });
    }
    expect(verify({ ...signed(), 'webhook-signature': `${other} v2,abc` })).toEqual({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('skips malformed secrets rather than keying an HMAC with them', () => {
    expect(verify(signed(), ['', 'not-a-whsec', SECRET])).toMatchObject({ ok: true });
    expect(verify(signed(), ['', 'not-a-whsec'])).toEqual({ ok: false, code: 'bad_signature' });
  });
});

describe('webhook ids', () => {
  it('are derived, the same for the same call and different for another', async () => {
    const a = await webhookIdFor('tool', 'job:1', 'tool-id', canonicalJson({ a: 1, b: [2, 3] }));
    const again = await webhookIdFor(
      'tool',
      'job:1',
      'tool-id',
      canonicalJson({ b: [2, 3], a: 1 }),
    );
    expect(a).toBe(again);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await webhookIdFor('tool', 'job:2', 'tool-id', canonicalJson({ a: 1 }))).not.toBe(a);
    expect(await webhookIdFor('ab', 'c')).not.toBe(await webhookIdFor('a', 'bc'));
  });
});

describe('secret rotation', () => {
  const rotation = {
    secret: SECRET,
    previousSecret: OTHER,
    previousExpiresAt: new Date((NOW + 3600) * 1000),
  };

  it('accepts the old secret until it expires, then only the new one', () => {
    const before = activeSecrets(rotation, NOW);
    expect(before).toEqual([SECRET, OTHER]);
    expect(verify(signed({ secret: OTHER }), before)).toMatchObject({ ok: true });
    expect(verify(signed({ secret: SECRET }), before)).toMatchObject({ ok: true });
    expect(activeSecrets(rotation, NOW + 3600)).toEqual([SECRET]);
    expect(verify(signed({ secret: OTHER }), activeSecrets(rotation, NOW + 3600))).toEqual({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('reads the expiry as a Date, an ISO string (as from JSON) or unix seconds', () => {
    const iso = new Date((NOW + 60) * 1000).toISOString();
    for (const previousExpiresAt of [new Date((NOW + 60) * 1000), iso, NOW + 60]) {
      expect(activeSecrets({ ...rotation, previousExpiresAt }, NOW)).toHaveLength(2);
      expect(activeSecrets({ ...rotation, previousExpiresAt }, NOW + 61)).toHaveLength(1);
    }
  });

  it('a previous secret without an expiry, or no previous secret, adds nothing', () => {
    expect(
      activeSecrets({ secret: 's', previousSecret: 'p', previousExpiresAt: null }, NOW),
    ).toEqual(['s']);
    expect(activeSecrets({ secret: 's' }, NOW)).toEqual(['s']);
  });
});
