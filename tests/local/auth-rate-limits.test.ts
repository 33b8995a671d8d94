import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  clientKey,
  createAuthRateLimiter,
  readAuthRateLimits,
} from '../../supabase/local/auth/rate-limits.ts';
import { projectDir, type StackProcess, startStack } from '../support/stack.ts';

// Auth's per-IP limits from config.toml [auth.rate_limit], as GoTrue enforces them: a token bucket
// per client address and kind of request, 429 over_request_rate_limit when it is empty. The stack
// here runs config.toml's own values (other tests lift them), and a client cannot escape its
// bucket by claiming another address in X-Forwarded-For.

const API_VERSION = { 'X-Supabase-Api-Version': '2024-01-01' };

describe('the limiter', () => {
  it('reads config.toml, and GoTrue variables override it', () => {
    expect(readAuthRateLimits(projectDir, {})).toEqual({
      perWindow: { anonymous_users: 30, sign_in_sign_ups: 30, token_refresh: 150 },
      header: null,
    });
    expect(
      readAuthRateLimits(projectDir, {
        GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '5',
        GOTRUE_RATE_LIMIT_HEADER: 'X-Forwarded-For',
      }),
    ).toMatchObject({ perWindow: { anonymous_users: 5 }, header: 'X-Forwarded-For' });
    expect(() => readAuthRateLimits(projectDir, { GOTRUE_RATE_LIMIT_OTP: 'many' })).toThrow(
      /GOTRUE_RATE_LIMIT_OTP/,
    );
  });

  it('lets an hour of anonymous sign-ins through at once, then one per 1/limit of an hour', () => {
    let now = 0;
    const limiter = createAuthRateLimiter(
      { perWindow: { anonymous_users: 6, sign_in_sign_ups: 30, token_refresh: 150 }, header: null },
      () => now,
    );
    for (let i = 0; i < 6; i++) limiter.take('anonymous_users', '198.51.100.7');
    expect(() => limiter.take('anonymous_users', '198.51.100.7')).toThrow(
      expect.objectContaining({ status: 429, code: 'over_request_rate_limit' }),
    );
    // Another address, and another kind of request, have buckets of their own.
    limiter.take('anonymous_users', '198.51.100.8');
    limiter.take('sign_in_sign_ups', '198.51.100.7');
    now += 9 * 60 * 1000;
    expect(() => limiter.take('anonymous_users', '198.51.100.7')).toThrow();
    now += 60 * 1000;
    limiter.take('anonymous_users', '198.51.100.7');
    expect(() => limiter.take('anonymous_users', '198.51.100.7')).toThrow();
  });

  it('holds a burst of 30 for the 5-minute limits, refilled at the configured rate', () => {
    let now = 0;
    const limiter = createAuthRateLimiter(
      {
        perWindow: { anonymous_users: 30, sign_in_sign_ups: 30, token_refresh: 150 },
        header: null,
      },
      () => now,
    );
    for (let i = 0; i < 30; i++) limiter.take('token_refresh', 'a');
    expect(() => limiter.take('token_refresh', 'a')).toThrow();
    now += 2_000; // 150 per 5 minutes: one every 2 s
    limiter.take('token_refresh', 'a');
    expect(() => limiter.take('token_refresh', 'a')).toThrow();
    for (let i = 0; i < 30; i++) limiter.take('sign_in_sign_ups', 'a');
    now += 9_000; // 30 per 5 minutes: one every 10 s
    expect(() => limiter.take('sign_in_sign_ups', 'a')).toThrow();
  });

  it('counts by peer address, and believes a client header only when told to', () => {
    const forwarded = new Request('http://localhost/auth/v1/signup', {
      headers: { 'X-Forwarded-For': '203.0.113.9, 10.0.0.1' },
    });
    expect(clientKey(forwarded, '127.0.0.1', null)).toBe('127.0.0.1');
    expect(clientKey(forwarded, '127.0.0.1', 'X-Forwarded-For')).toBe('203.0.113.9');
    const plain = new Request('http://localhost/auth/v1/signup');
    expect(clientKey(plain, '127.0.0.1', 'X-Forwarded-For')).toBe('127.0.0.1');
  });
});

describe('the local stack at config.toml values', () => {
  let stack: StackProcess;
  beforeAll(async () => {
    stack = await startStack({ authRateLimits: 'config' });
  });
  afterAll(() => stack?.stop());

  const client = () =>
    createClient(stack.url, stack.keys.anonKey, {
      auth: { autoRefreshToken: false, persistSession: false },
      realtime: { transport: WebSocket as never },
    });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}/auth/v1/${path}`, {
      method: 'POST',
      headers: { apikey: stack.keys.anonKey, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('allows 30 anonymous sign-ins an hour from one address, then answers 429', async () => {
    for (let i = 0; i < 30; i++) {
      const { error } = await client().auth.signInAnonymously();
      expect(error).toBeNull();
    }
    const { data, error } = await client().auth.signInAnonymously();
    expect(data.session).toBeNull();
    expect(error).toMatchObject({ status: 429, code: 'over_request_rate_limit' });

    // Claiming to be someone else does not open a new bucket.
    const spoofed = await post('signup', {}, { ...API_VERSION, 'X-Forwarded-For': '203.0.113.5' });
    expect(spoofed.status).toBe(429);
    expect(spoofed.headers.get('x-sb-error-code')).toBe('over_request_rate_limit');
    expect(await spoofed.json()).toEqual({
      code: 'over_request_rate_limit',
      message: 'Request rate limit reached',
    });
    // Older clients get GoTrue's legacy shape.
    const legacy = await post('signup', {});
    expect(await legacy.json()).toEqual({
      code: 429,
      error_code: 'over_request_rate_limit',
      msg: 'Request rate limit reached',
    });
  });

  it('allows a burst of 30 sign-ins and sign-ups per address, then answers 429', async () => {
    // Anonymous sign-ins are used up by now: password sign-ins have a bucket of their own.
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      const res = await post(
        'token?grant_type=password',
        { email: `nobody-${i}@example.test`, password: 'wrong-password-1' },
        API_VERSION,
      );
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((status) => status === 400)).toBe(true);
    expect(statuses[30]).toBe(429);
    const signUp = await post('signup', { email: 'new@example.test', password: 'Secret-123' });
    expect(signUp.status).toBe(429);
  });

  it('allows a burst of 30 token refreshes per address, refilled at 150 per 5 minutes', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 36; i++) {
      const res = await post('token?grant_type=refresh_token', { refresh_token: `nope${i}` });
      statuses.push(res.status);
    }
    const refused = statuses.filter((status) => status === 429).length;
    expect(statuses.slice(0, 30)).not.toContain(429);
    // One refill every 2 s: only a very slow run would get more than a couple back.
    expect(refused).toBeGreaterThanOrEqual(3);
  });
});
