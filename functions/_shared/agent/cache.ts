import type { Sql } from '../db/port.ts';

export interface CachedAnswer {
  reply: string;
  sources: unknown[];
  quick_replies: string[];
  grounding: Record<string, unknown>;
}

/** Questions that differ only in case, spacing or punctuation are the same question. */
export async function questionHash(question: string): Promise<string> {
  const normalized = question
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(normalized));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function cachedAnswer(
  sql: Sql,
  tenantId: string,
  hash: string,
): Promise<CachedAnswer | null> {
  const [row] = await sql.query<CachedAnswer>(
    // A function, so the statement's plan is kept for the session (private.cached_answer).
    'select reply, sources, quick_replies, grounding from private.cached_answer($1, $2)',
    [tenantId, hash],
  );
  return row ?? null;
}

/** A question asked again replaces its cached answer and starts its five minutes anew. */
export const ANSWER_CACHE_CONFLICT = `on conflict (tenant_id, question_hash) do update
       set reply = excluded.reply, sources = excluded.sources, quick_replies = excluded.quick_replies,
           grounding = excluded.grounding, created_at = now()`;

export async function storeAnswer(sql: Sql, tenantId: string, hash: string, answer: CachedAnswer) {
  await sql.query(
    `insert into public.answer_cache (tenant_id, question_hash, reply, sources, quick_replies, grounding)
     values ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb)
     ${ANSWER_CACHE_CONFLICT}`,
    [tenantId, hash, answer.reply, answer.sources, answer.quick_replies, answer.grounding],
  );
}
