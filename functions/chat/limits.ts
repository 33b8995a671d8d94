import type { Db, Sql } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';

export interface ChatLimits {
  maxMessageLength: number;
  maxBodyBytes: number;
  visitorMessagesPerMinute: number;
  tenantMessagesPerMinute: number;
  visitorSessionsPerMinute: number;
  /** Conversations a tenant's visitors may start per minute: fresh anonymous users each get a
   * per-visitor allowance, so only a per-tenant one bounds a flood of them. */
  tenantConversationsPerMinute: number;
  visitorTypingPerMinute: number;
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
    tenantConversationsPerMinute: number('CHAT_TENANT_CONVERSATIONS_PER_MINUTE', 120),
    visitorTypingPerMinute: number('CHAT_VISITOR_TYPING_PER_MINUTE', 30),
  };
}

export type RateLimits = [key: string, perMinute: number][];

const rateLimited = () =>
  new HttpError(429, 'rate_limited', 'Too many requests: please wait a moment and try again.');

/**
 * Counts the request against every key's limit over the last minute (a sliding window), inside
 * the caller's transaction, or answers 429 and counts nothing when any key is at its limit. A
 * rolled-back transaction takes its count with it, so a request refused later is not counted.
 */
export async function takeRateLimits(sql: Sql, limits: RateLimits): Promise<void> {
  if (limits.length === 0) return;
  const [row] = await sql.query<{ refused: string | null }>(
    'select private.rate_limit_take($1::text[], $2::int[], 60) as refused',
    [limits.map(([key]) => key), limits.map(([, perMinute]) => Math.floor(perMinute))],
  );
  if (!row || row.refused !== null) throw rateLimited();
}

/** takeRateLimits in a transaction of its own. */
export async function enforceRateLimits(db: Db, limits: RateLimits): Promise<void> {
  await db.asService((sql) => takeRateLimits(sql, limits));
}
