import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../functions/_shared/llm/http.ts';
import { backoffMs, retryPolicy, withRetries } from '../../functions/_shared/llm/retry.ts';
import { LlmError } from '../../functions/_shared/llm/types.ts';

describe('parseRetryAfter', () => {
  const now = () => Date.parse('2026-01-01T00:00:00Z');

  it('reads seconds, milliseconds and HTTP dates', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '3' }), now)).toBe(3000);
    expect(parseRetryAfter(new Headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(
      parseRetryAfter(new Headers({ 'retry-after': '3', 'retry-after-ms': '1250' }), now),
    ).toBe(1250);
    expect(
      parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), now),
    ).toBe(7000);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(new Headers(), now)).toBeUndefined();
    expect(parseRetryAfter(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
  });
});

describe('backoffMs', () => {
  const policy = retryPolicy({ baseDelayMs: 500, maxDelayMs: 4_000, random: () => 1 });

  it('doubles up to the cap', () => {
    expect([0, 1, 2, 3, 4].map((retry) => backoffMs(policy, retry))).toEqual([
      500, 1000, 2000, 4000, 4000,
    ]);
  });

  it('jitters between half and the whole step', () => {
    expect(backoffMs({ ...policy, random: () => 0 }, 1)).toBe(500);
  });

  it('honours retry-after, but never beyond the cap', () => {
    expect(backoffMs(policy, 0, 1_500)).toBe(1_500);
    expect(backoffMs(policy, 0, 60_000)).toBe(4_000);
  });
});

describe('withRetries', () => {
  it('stops waiting when the caller aborts during a backoff', async () => {
    const controller = new AbortController();
    const policy = retryPolicy({
      maxRetries: 5,
      // A sleep that never ends: only the abort can get us out.
      sleep: () => {
        controller.abort();
        return new Promise(() => {});
      },
    });
    let attempts = 0;

    const error = await withRetries(policy, controller.signal, async () => {
      attempts++;
      throw new LlmError('server', 'down');
    }).catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'aborted' });
    expect(attempts).toBe(1);
  });

  it('gives each attempt its own timeout signal', async () => {
    const signals: AbortSignal[] = [];
    const policy = retryPolicy({ maxRetries: 1, sleep: async () => {} });

    await withRetries(policy, undefined, async (signal) => {
      signals.push(signal);
      if (signals.length === 1) throw new LlmError('network', 'reset');
    });

    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
  });
});
