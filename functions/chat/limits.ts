import type { Db } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';

export interface ChatLimits {
  maxMessageLength: number;
  maxBodyBytes: number;
  visitorMessagesPerMinute: number;
  tenantMessagesPerMinute: number;
  visitorSessionsPerMinute: number;
}

export function chatLimits(env: Readonly<Record<string, string | undefined>>): ChatLimits {
  const number = (name: string, fallback: number) => {
    const value = Number(env[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return {
    maxMessageLength: number('CHAT_MAX_MESSAGE_LENGTH', 4000),
    maxBodyBytes: number('CHAT_MAX_BODY_BYTES', 32 * 1024),
    visitorMessagesPerMinute: number('CHAT_VISITOR_MESSAGES_PER_MINUTE', 20),
    tenantMessagesPerMinute: number('CHAT_TENANT_MESSAGES_PER_MINUTE', 600),
    visitorSessionsPerMinute: number('CHAT_VISITOR_SESSIONS_PER_MINUTE', 10),
  };
}

/** Counts a hit against each key's per-minute limit; the first one exceeded answers 429. */
export async function enforceRateLimits(db: Db, limits: [key: string, perMinute: number][]) {
  const results = await db.asService(async (sql) => {
    const allowed: boolean[] = [];
    for (const [key, perMinute] of limits) {
      const [row] = await sql.query<{ allowed: boolean }>(
        'select private.rate_limit_hit($1, $2, 60) as allowed',
        [key, perMinute],
      );
      allowed.push(row?.allowed ?? false);
    }
    return allowed;
  });
  if (results.some((allowed) => !allowed)) {
    throw new HttpError(
      429,
      'rate_limited',
      'Too many requests: please wait a moment and try again.',
    );
  }
}
