import { LlmError } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 2;

export interface RetryPolicy {
  /** Per attempt, covering the response headers and the whole body (a stream included). */
  timeoutMs: number;
  maxRetries: number;
  sleep: (ms: number) => Promise<void>;
  /** First backoff step; each retry doubles it. */
  baseDelayMs: number;
  /** No wait exceeds this, a provider's retry-after included: a visitor is waiting for the reply. */
  maxDelayMs: number;
  random: () => number;
}

export interface RetryOptions {
  timeoutMs?: number;
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: Math.max(0, options.maxRetries ?? DEFAULT_MAX_RETRIES),
    sleep: options.sleep ?? realSleep,
    baseDelayMs: options.baseDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 10_000,
    random: options.random ?? Math.random,
  };
}

/**
 * Runs `attempt` with a fresh timeout each time, retrying the LlmErrors marked retryable. Anything
 * else an attempt throws (a bug, or the caller's onDelta failing) propagates untouched.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  callerSignal: AbortSignal | undefined,
  attempt: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    if (callerSignal?.aborted) throw abortedBy(callerSignal);
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      return await attempt(signal);
    } catch (error) {
      // Once the caller has given up, whatever broke on the way is beside the point.
      if (callerSignal?.aborted) throw abortedBy(callerSignal);
      if (!(error instanceof LlmError) || !error.retryable || retry >= policy.maxRetries) {
        throw error;
      }
      await pause(policy.sleep, backoffMs(policy, retry, error.retryAfterMs), callerSignal);
    }
  }
}

export function backoffMs(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), policy.maxDelayMs);
  const step = Math.min(policy.baseDelayMs * 2 ** retry, policy.maxDelayMs);
  // Half fixed, half random: clients that failed together do not all come back together.
  return Math.round(step / 2 + (policy.random() * step) / 2);
}

/**
 * Text already handed to onDelta cannot be taken back, so a stream that fails after it must not be
 * retried: the caller would see the start of the reply twice.
 */
export function notRetryable(error: unknown): unknown {
  if (!(error instanceof LlmError) || !error.retryable) return error;
  return new LlmError(error.kind, error.message, {
    ...(error.status === undefined ? {} : { status: error.status }),
    retryable: false,
    cause: error,
  });
}

function abortedBy(signal: AbortSignal): LlmError {
  return new LlmError('aborted', 'The LLM call was aborted', { cause: signal.reason });
}

async function pause(
  sleep: (ms: number) => Promise<void>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (!signal) return sleep(ms);
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedBy(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([sleep(ms), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
