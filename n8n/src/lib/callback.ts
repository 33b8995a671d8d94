import { createHash } from 'node:crypto';
import { type SignedHeaders, sign } from './signature.ts';

// The answer a workflow gives Parley, at once in its HTTP response or later through
// POST callback_url: {reply?, quick_replies?, handoff?}, plus conversation_id for the callback.
// Limits are Parley's own, checked here so a workflow learns of a bad answer in its own execution
// log instead of from a 400 it may not look at.

export const MAX_REPLY_CHARS = 20_000;
export const MAX_QUICK_REPLIES = 4;
export const MAX_QUICK_REPLY_CHARS = 80;
export const MAX_HANDOFF_REASON_CHARS = 500;
export const CALLBACK_PATH = '/functions/v1/n8n-callback';

export interface AnswerInput {
  reply?: string;
  quickReplies?: readonly string[] | string;
  handoff?: boolean;
  handoffReason?: string;
}

export interface Answer {
  reply?: string;
  quick_replies?: string[];
  handoff?: true | { reason: string };
}

export function buildAnswer(input: AnswerInput): Answer {
  const answer: Answer = {};
  const reply = input.reply?.trim() ?? '';
  if (reply.length > MAX_REPLY_CHARS) {
    throw new RangeError(`A reply is at most ${MAX_REPLY_CHARS} characters.`);
  }
  if (reply) answer.reply = reply;
  const quick = quickReplyList(input.quickReplies);
  if (quick.length > MAX_QUICK_REPLIES) {
    throw new RangeError(`At most ${MAX_QUICK_REPLIES} quick replies.`);
  }
  const tooLong = quick.find((text) => text.length > MAX_QUICK_REPLY_CHARS);
  if (tooLong) {
    throw new RangeError(`A quick reply is at most ${MAX_QUICK_REPLY_CHARS} characters.`);
  }
  if (quick.length > 0) answer.quick_replies = quick;
  if (input.handoff) {
    const reason = input.handoffReason?.trim() ?? '';
    if (reason.length > MAX_HANDOFF_REASON_CHARS) {
      throw new RangeError(`A handoff reason is at most ${MAX_HANDOFF_REASON_CHARS} characters.`);
    }
    answer.handoff = reason ? { reason } : true;
  }
  if (!answer.reply && !answer.handoff) {
    throw new TypeError('An answer needs a reply, a handoff, or both.');
  }
  return answer;
}

/** Quick replies as a list, or as text with one per line (what a form field holds). */
export function quickReplyList(value: readonly string[] | string | undefined): string[] {
  const list = typeof value === 'string' ? value.split('\n') : (value ?? []);
  return list.map((text) => String(text).trim()).filter((text) => text !== '');
}

/**
 * Where to call back: the URL the relay carried, else the Parley project's own. The relay's
 * URL wins because it is what Parley itself says it listens on (self-hosted projects name a
 * public URL there that differs from the internal one).
 */
export function callbackUrl(relayed: string | null | undefined, parleyUrl: string): string {
  const given = relayed?.trim();
  if (given) return given;
  const base = parleyUrl.trim().replace(/\/+$/, '');
  if (!base)
    throw new TypeError('No callback_url in the relay and no Parley URL in the credential.');
  return base.endsWith('/n8n-callback') ? base : `${base}${CALLBACK_PATH}`;
}

/**
 * A webhook id for one callback, derived from what makes it that callback so that n8n retrying
 * the node ("Retry On Fail") sends the same id and Parley posts the message once.
 */
export function callbackId(...parts: readonly string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('base64url');
  return `msg_${digest.slice(0, 32)}`;
}

export interface CallbackRequest {
  url: string;
  headers: SignedHeaders & { 'content-type': string };
  body: string;
}

export function callbackRequest(options: {
  url: string;
  secrets: readonly string[];
  conversationId: string;
  answer: Answer;
  id: string;
  nowSeconds: number;
}): CallbackRequest {
  if (!options.conversationId) throw new TypeError('A callback needs the conversation id.');
  const body = JSON.stringify({ conversation_id: options.conversationId, ...options.answer });
  return {
    url: options.url,
    body,
    headers: {
      'content-type': 'application/json',
      ...sign({
        secrets: options.secrets,
        id: options.id,
        timestamp: options.nowSeconds,
        body,
      }),
    },
  };
}
