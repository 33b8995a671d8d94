import { envNumber } from '../_shared/http/rate-limits.ts';

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
  visitorHistoryPerMinute: number;
  /** Transcripts emailed per visitor and per conversation each minute. */
  visitorTranscriptsPerMinute?: number;
}

export function chatLimits(env: Readonly<Record<string, string | undefined>>): ChatLimits {
  const number = (name: string, fallback: number) => envNumber(env, name, fallback);
  return {
    maxMessageLength: number('CHAT_MAX_MESSAGE_LENGTH', 4000),
    maxBodyBytes: number('CHAT_MAX_BODY_BYTES', 32 * 1024),
    visitorMessagesPerMinute: number('CHAT_VISITOR_MESSAGES_PER_MINUTE', 20),
    tenantMessagesPerMinute: number('CHAT_TENANT_MESSAGES_PER_MINUTE', 600),
    visitorSessionsPerMinute: number('CHAT_VISITOR_SESSIONS_PER_MINUTE', 10),
    tenantConversationsPerMinute: number('CHAT_TENANT_CONVERSATIONS_PER_MINUTE', 120),
    visitorTypingPerMinute: number('CHAT_VISITOR_TYPING_PER_MINUTE', 30),
    visitorHistoryPerMinute: number('CHAT_VISITOR_HISTORY_PER_MINUTE', 30),
    visitorTranscriptsPerMinute: number('CHAT_VISITOR_TRANSCRIPTS_PER_MINUTE', 2),
  };
}

export { enforceRateLimits, type RateLimits, takeRateLimits } from '../_shared/http/rate-limits.ts';
