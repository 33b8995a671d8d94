import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { z } from 'zod';
import { AuthError } from './errors.ts';

// GoTrue's per-IP limits from supabase/config.toml [auth.rate_limit], enforced as GoTrue does: a
// token bucket per client address and kind of request, refilled at the configured number per
// window. Anonymous sign-ins get a bucket holding the whole hour's allowance; the others hold 30,
// GoTrue's burst. GoTrue's own variables override the file, as the Supabase CLI sets them:
//
//   GOTRUE_RATE_LIMIT_ANONYMOUS_USERS   anonymous sign-ins per hour (anonymous_users)
//   GOTRUE_RATE_LIMIT_OTP               sign-ups and sign-ins per 5 minutes (sign_in_sign_ups)
//   GOTRUE_RATE_LIMIT_TOKEN_REFRESH     token refreshes per 5 minutes (token_refresh)
//   GOTRUE_RATE_LIMIT_HEADER            a header naming the client, e.g. X-Forwarded-For
//
// The client is the connection's peer address. A header such as X-Forwarded-For is anyone's to
// write, so it is believed only when GOTRUE_RATE_LIMIT_HEADER says a proxy in front sets it; the
// stack listens on 127.0.0.1 with no proxy, so by default it is ignored.

export type AuthBucket = 'anonymous_users' | 'sign_in_sign_ups' | 'token_refresh';

export interface AuthRateLimits {
  /** Requests of each kind per window, per client. */
  perWindow: Record<AuthBucket, number>;
  /** The header that names the client, when a trusted proxy sets it. */
  header: string | null;
}

const WINDOW_SECONDS: Record<AuthBucket, number> = {
  anonymous_users: 60 * 60,
  sign_in_sign_ups: 5 * 60,
  token_refresh: 5 * 60,
};

const GOTRUE_BURST = 30;

const ENV_NAMES: Record<AuthBucket, string> = {
  anonymous_users: 'GOTRUE_RATE_LIMIT_ANONYMOUS_USERS',
  sign_in_sign_ups: 'GOTRUE_RATE_LIMIT_OTP',
  token_refresh: 'GOTRUE_RATE_LIMIT_TOKEN_REFRESH',
};

// The Supabase CLI's defaults for the keys config.toml leaves out.
const fileSchema = z.object({
  auth: z
    .object({
      rate_limit: z
        .object({
          anonymous_users: z.number().nonnegative().default(30),
          sign_in_sign_ups: z.number().nonnegative().default(30),
          token_refresh: z.number().nonnegative().default(150),
        })
        .prefault({}),
    })
    .prefault({}),
});

type Env = Record<string, string | undefined>;

export function readAuthRateLimits(projectDir: string, env: Env): AuthRateLimits {
  const file = parse(readFileSync(join(projectDir, 'supabase', 'config.toml'), 'utf8'));
  const configured = fileSchema.parse(file).auth.rate_limit;
  const fromEnv = (bucket: AuthBucket, fallback: number) => {
    const value = env[ENV_NAMES[bucket]];
    if (value === undefined || value === '') return fallback;
    const number = Number(value);
    if (!Number.isFinite(number) || number < 0) {
      throw new Error(`${ENV_NAMES[bucket]} must be a number ≥ 0, got ${JSON.stringify(value)}`);
    }
    return number;
  };
  return {
    perWindow: {
      anonymous_users: fromEnv('anonymous_users', configured.anonymous_users),
      sign_in_sign_ups: fromEnv('sign_in_sign_ups', configured.sign_in_sign_ups),
      token_refresh: fromEnv('token_refresh', configured.token_refresh),
    },
    header: env.GOTRUE_RATE_LIMIT_HEADER || null,
  };
}

/** Who the limits count for: the trusted header's client (its first hop), else the peer. */
export function clientKey(request: Request, peer: string | undefined, header: string | null) {
  const named = header ? request.headers.get(header)?.split(',')[0]?.trim() : undefined;
  return named || peer || 'unknown';
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets are forgotten once full again, so the map holds only clients seen recently. */
const SWEEP_AT = 10_000;

export function createAuthRateLimiter(limits: AuthRateLimits, now: () => number = Date.now) {
  const buckets = new Map<string, Bucket>();
  const rule = (kind: AuthBucket) => {
    const perWindow = limits.perWindow[kind];
    return {
      capacity: kind === 'anonymous_users' ? perWindow : Math.min(GOTRUE_BURST, perWindow),
      perMs: perWindow / (WINDOW_SECONDS[kind] * 1000),
    };
  };
  const level = (bucket: Bucket, kind: AuthBucket, at: number) => {
    const { capacity, perMs } = rule(kind);
    return Math.min(capacity, bucket.tokens + (at - bucket.at) * perMs);
  };

  function sweep(at: number) {
    for (const [key, bucket] of buckets) {
      const kind = key.slice(0, key.indexOf(' ')) as AuthBucket;
      if (level(bucket, kind, at) >= rule(kind).capacity) buckets.delete(key);
    }
  }

  return {
    /** Takes one request from the client's bucket of this kind; 429 over_request_rate_limit when empty. */
    take(kind: AuthBucket, client: string): void {
      const at = now();
      if (buckets.size >= SWEEP_AT) sweep(at);
      const key = `${kind} ${client}`;
      const bucket = buckets.get(key) ?? { tokens: rule(kind).capacity, at };
      const tokens = level(bucket, kind, at);
      if (tokens < 1) {
        buckets.set(key, { tokens, at });
        throw new AuthError(429, 'over_request_rate_limit', 'Request rate limit reached');
      }
      buckets.set(key, { tokens: tokens - 1, at });
    },
  };
}

export type AuthRateLimiter = ReturnType<typeof createAuthRateLimiter>;
