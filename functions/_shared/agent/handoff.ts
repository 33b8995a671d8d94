import { z } from 'zod';
import type { Sql } from '../db/port.ts';
import { normalizeForEmbedding } from '../embeddings/hashing.ts';
import { phrasesFor } from './phrases.ts';

// Handing a conversation to a person: the tenant's triggers that fire before the bot answers
// (keywords per language, the same question asked twice, low retrieval confidence), the handoff
// itself with its reason, and, outside business hours, the notice that says when people are back
// and asks for an email (docs/admin.md, "Handoff triggers", "Business hours").

export type HandoffReason =
  | 'visitor'
  | 'bot'
  | 'keyword'
  | 'low_confidence'
  | 'repeated_question'
  | 'flow'
  | 'people_only';

export interface HandoffTrigger {
  reason: HandoffReason;
  /** What set it off, for staff: the keyword, the confidence, the question. */
  detail: string;
}

const rulesSchema = z
  .object({
    keywords: z.union([z.array(z.string()), z.record(z.string(), z.array(z.string()))]).nullish(),
    low_confidence: z.number().min(0).max(1).nullish(),
    repeated_question: z.boolean().nullish(),
  })
  .catch({});

export type HandoffRules = z.infer<typeof rulesSchema>;

/** The tenant's rules; anything malformed counts as no rule rather than breaking replies. */
export function handoffRules(value: unknown): HandoffRules {
  return rulesSchema.parse(value ?? {});
}

const fold = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLocaleLowerCase();

/** The first of the tenant's keywords for this language (or for every language) in the message. */
export function keywordIn(rules: HandoffRules, content: string, locale: string | null) {
  const keywords = rules.keywords;
  if (!keywords) return null;
  const language = (locale ?? '').slice(0, 2).toLowerCase();
  const list = Array.isArray(keywords)
    ? keywords
    : Object.entries(keywords)
        .filter(([lang]) => lang.slice(0, 2).toLowerCase() === language)
        .flatMap(([, words]) => words);
  const text = ` ${fold(content).replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
  for (const keyword of list) {
    const wanted = fold(keyword)
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim();
    // Whole words only: "refund" is not found in "refundable".
    if (wanted && text.includes(` ${wanted} `)) return keyword;
  }
  return null;
}

/** Whether the visitor asks again what one of their last three messages asked. */
export function repeatsQuestion(content: string, history: { role: string; content: string }[]) {
  const words = new Set(normalizeForEmbedding(content));
  // "ok" twice is no question asked twice.
  if (words.size < 2) return false;
  const earlier = history.filter((m) => m.role === 'user').slice(-3);
  return earlier.some((m) => {
    const other = new Set(normalizeForEmbedding(m.content));
    let shared = 0;
    for (const w of words) if (other.has(w)) shared++;
    return shared / (words.size + other.size - shared) >= 0.8;
  });
}

/** The triggers that need no retrieval: a keyword, or the same question again. */
export function triggerBeforeAnswer(
  rules: HandoffRules,
  message: string,
  locale: string | null,
  history: { role: string; content: string }[],
): HandoffTrigger | null {
  const keyword = keywordIn(rules, message, locale);
  if (keyword) return { reason: 'keyword', detail: keyword };
  if (rules.repeated_question && repeatsQuestion(message, history)) {
    return { reason: 'repeated_question', detail: message.slice(0, 500) };
  }
  return null;
}

/** The low-confidence trigger: retrieval found too little to answer from. */
export function lowConfidence(rules: HandoffRules, confidence: number): HandoffTrigger | null {
  const floor = rules.low_confidence;
  if (floor === null || floor === undefined || confidence >= floor) return null;
  return { reason: 'low_confidence', detail: `confidence ${confidence.toFixed(2)} < ${floor}` };
}

/** "Monday 09:00 CET" in the visitor's language and the tenant's zone. */
export function formatBack(at: Date, locale: string | null, timeZone: string): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'long',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  };
  try {
    return new Intl.DateTimeFormat(locale ?? 'en', options).format(at);
  } catch {
    return new Intl.DateTimeFormat('en', { ...options, timeZone: 'UTC' }).format(at);
  }
}

/**
 * What the visitor is told when the handoff happens outside business hours, or null when people
 * are there now. Read in the caller's transaction.
 */
export async function awayNotice(
  sql: Sql,
  tenantId: string,
  locale: string | null,
): Promise<string | null> {
  const [row] = await sql.query<{ open_now: boolean; back: Date | null; time_zone: string }>(
    `select private.next_open_at(t.id) is not distinct from now() as open_now,
            private.next_open_at(t.id) as back, t.time_zone
       from public.tenants t where t.id = $1`,
    [tenantId],
  );
  if (!row || row.open_now) return null;
  const phrases = phrasesFor(locale);
  return row.back
    ? phrases.away.replace('{when}', formatBack(row.back, locale, row.time_zone))
    : phrases.awayUnknown;
}

/**
 * Hands the conversation over with its reason, if the bot still has it; `away` marks that the
 * visitor was told people are away and asked for an email. Returns whether it did.
 */
export async function handOff(
  sql: Sql,
  conversationId: string,
  trigger: HandoffTrigger,
  away: boolean,
): Promise<boolean> {
  const rows = await sql.query(
    `update public.conversations
        set status = 'handoff', handoff_reason = $2, handoff_detail = $3,
            followup_requested_at = case when $4 then now() else followup_requested_at end
      where id = $1 and status = 'bot' returning id`,
    [conversationId, trigger.reason, trigger.detail.slice(0, 500) || null, away],
  );
  return rows.length > 0;
}
