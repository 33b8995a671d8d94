import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  activeSecrets,
  signRequest,
  verifyRequest,
} from '../../functions/_shared/webhooks/signature.ts';

const SECRET = 'whsec-current';
const BODY = JSON.stringify({ tool: 'order_status', arguments: { order_number: 'TH-10421' } });
const NOW = 1_790_000_000;
const DELIVERY = '6f1c1d7e-2b9a-4c55-9a1e-0d6b7c3e8f10';

async function signed(overrides: { secret?: string; timestamp?: number; body?: string } = {}) {
  return signRequest({
    secret: overrides.secret ?? SECRET,
    body: overrides.body ?? BODY,
    timestamp: overrides.timestamp ?? NOW,
    deliveryId: DELIVERY,
  });
}

describe('signRequest', () => {
  it('signs "<timestamp>.<raw body>" with HMAC-SHA256, as any receiver can recompute', async () => {
    const headers = await signed();
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(headers).toEqual({
      'X-Parley-Timestamp': String(NOW),
      'X-Parley-Signature': `v1=${expected}`,
      'X-Parley-Delivery': DELIVERY,
    });
  });

  it('makes up a delivery id and the timestamp when not given', async () => {
    const before = Math.floor(Date.now() / 1000);
    const headers = await signRequest({ secret: SECRET, body: BODY });
    expect(headers['X-Parley-Delivery']).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(headers['X-Parley-Timestamp'])).toBeGreaterThanOrEqual(before);
  });
});

describe('verifyRequest', () => {
  it('accepts its own signature, from Fetch headers or node-style lowercase headers', async () => {
    const headers = await signed();
    expect(
      await verifyRequest({
        secrets: [SECRET],
        headers: new Headers(headers),
        body: BODY,
        now: NOW,
      }),
    ).toEqual({ ok: true, deliveryId: DELIVERY });
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(
      await verifyRequest({
        secrets: [SECRET],
        headers: lower,
        body: new TextEncoder().encode(BODY),
        now: NOW,
      }),
    ).toEqual({ ok: true, deliveryId: DELIVERY });
  });

  it('refuses a tampered body and a wrong secret', async () => {
    const headers = await signed();
    const tampered = BODY.replace('10421', '10422');
    expect(await verifyRequest({ secrets: [SECRET], headers, body: tampered, now: NOW })).toEqual({
      ok: false,
      code: 'bad_signature',
    });
    expect(await verifyRequest({ secrets: ['other'], headers, body: BODY, now: NOW })).toEqual({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('refuses a timestamp six minutes off in either direction, and accepts five', async () => {
    for (const offset of [-360, 360]) {
      const headers = await signed({ timestamp: NOW + offset });
      expect(await verifyRequest({ secrets: [SECRET], headers, body: BODY, now: NOW })).toEqual({
        ok: false,
        code: 'stale_timestamp',
      });
    }
    for (const offset of [-300, 300]) {
      const headers = await signed({ timestamp: NOW + offset });
      expect(
        await verifyRequest({ secrets: [SECRET], headers, body: BODY, now: NOW }),
      ).toMatchObject({ ok: true });
    }
  });

  it('a timestamp moved into the window does not carry an old signature', async () => {
    const headers = await signed({ timestamp: NOW - 3600 });
    const moved = { ...headers, 'X-Parley-Timestamp': String(NOW) };
    expect(
      await verifyRequest({ secrets: [SECRET], headers: moved, body: BODY, now: NOW }),
    ).toEqual({
      ok: false,
      code: 'bad_signature',
    });
  });

  it('names what is missing or malformed', async () => {
    const headers = await signed();
    const without = (name: string) =>
      Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    const verify = (h: Record<string, string>) =>
      verifyRequest({ secrets: [SECRET], headers: h, body: BODY, now: NOW });

    expect(await verify({})).toEqual({ ok: false, code: 'missing_signature' });
    expect(await verify(without('X-Parley-Signature'))).toEqual({
      ok: false,
      code: 'missing_signature',
    });
    expect(await verify(without('X-Parley-Timestamp'))).toEqual({
      ok: false,
      code: 'missing_signature',
    });
    expect(await verify({ ...headers, 'X-Parley-Timestamp': '17900e5' })).toEqual({
      ok: false,
      code: 'bad_timestamp',
    });
    expect(await verify({ ...headers, 'X-Parley-Timestamp': '-1' })).toEqual({
      ok: false,
      code: 'bad_timestamp',
    });
    expect(await verify({ ...headers, 'X-Parley-Signature': 'v1=not-hex' })).toEqual({
      ok: false,
      code: 'bad_signature',
    });
    expect(await verify(without('X-Parley-Delivery'))).toEqual({
      ok: false,
      code: 'missing_delivery',
    });
    expect(await verify({ ...headers, 'X-Parley-Delivery': 'delivery-1' })).toEqual({
      ok: false,
      code: 'missing_delivery',
    });
  });

  it('a forged request without a delivery id is refused for its signature first', async () => {
    const headers = await signed({ secret: 'forger' });
    const { 'X-Parley-Delivery': _, ...rest } = headers;
    expect(await verifyRequest({ secrets: [SECRET], headers: rest, body: BODY, now: NOW })).toEqual(
      {
        ok: false,
        code: 'bad_signature',
      },
    );
  });

  it('accepts any of several v1 values, skipping other schemes', async () => {
    const good = (await signed())['X-Parley-Signature'];
    const other = (await signed({ secret: 'rotated-away' }))['X-Parley-Signature'];
    for (const value of [`${other},${good}`, `${good}, ${other}`, `v0=abc, ${good}`]) {
      const headers = { ...(await signed()), 'X-Parley-Signature': value };
      expect(
        await verifyRequest({ secrets: [SECRET], headers, body: BODY, now: NOW }),
      ).toMatchObject({ ok: true });
    }
    const onlyOthers = {
      ...(await signed()),
      'X-Parley-Signature': `${other}, v2=${'0'.repeat(64)}`,
    };
    expect(
      await verifyRequest({ secrets: [SECRET], headers: onlyOthers, body: BODY, now: NOW }),
    ).toEqual({ ok: false, code: 'bad_signature' });
  });

  it('ignores empty secrets rather than accepting an HMAC keyed with nothing', async () => {
    await expect(signed({ secret: '' })).rejects.toThrow(/must not be empty/);
    const unkeyed = createHmac('sha256', '').update(`${NOW}.${BODY}`).digest('hex');
    const headers = { ...(await signed()), 'X-Parley-Signature': `v1=${unkeyed}` };
    expect(await verifyRequest({ secrets: ['', SECRET], headers, body: BODY, now: NOW })).toEqual({
      ok: false,
      code: 'bad_signature',
    });
  });
});

describe('secret rotation', () => {
  const rotation = {
    secret: 'new-secret',
    previousSecret: 'old-secret',
    previousExpiresAt: new Date((NOW + 3600) * 1000),
  };

  it('accepts the old secret until it expires, then only the new one', async () => {
    const oldSigned = await signed({ secret: 'old-secret' });
    const newSigned = await signed({ secret: 'new-secret' });

    const before = activeSecrets(rotation, NOW);
    expect(before).toEqual(['new-secret', 'old-secret']);
    for (const headers of [oldSigned, newSigned]) {
      expect(await verifyRequest({ secrets: before, headers, body: BODY, now: NOW })).toMatchObject(
        {
          ok: true,
        },
      );
    }

    const laterNow = NOW + 3600;
    const after = activeSecrets(rotation, laterNow);
    expect(after).toEqual(['new-secret']);
    const late = await signed({ secret: 'old-secret', timestamp: laterNow });
    expect(
      await verifyRequest({ secrets: after, headers: late, body: BODY, now: laterNow }),
    ).toEqual({ ok: false, code: 'bad_signature' });
    const current = await signed({ secret: 'new-secret', timestamp: laterNow });
    expect(
      await verifyRequest({ secrets: after, headers: current, body: BODY, now: laterNow }),
    ).toMatchObject({ ok: true });
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
