import { type CachedAnswer, cachedAnswer, questionHash } from './cache.ts';
import type { ReplyContext } from './context.ts';
import type { ReplyDeps } from './reply-types.ts';
import { type Passage, retrievePassages } from './retrieval.ts';

// What an engine needs before anyone is asked, in one transaction instead of four: the cached
// answer or the retrieved passages, then the plan quota's reservation with the typing indicator.
// The reads come first and the reservation last, so the quota counter's row, which every reply
// of the tenant updates, stays locked only from that statement to the commit right after it.

export interface PreparedReply {
  /** Why the bot may not spend on this message (a quota, a suspended tenant), or null. */
  refusal: string | null;
  /** The same question answered in the last five minutes. */
  cached: CachedAnswer | null;
  /** The tenant's best passages: none when the answer is cached or a workflow answers. */
  passages: Passage[];
}

// One unit of the plan's quota, idempotent per visitor message; `typing` only when the bot is
// going to answer (realtime.send never raises, so a lost indicator never fails the reply).
// A function, so the statement's plan is kept for the session (private.reserve_reply_and_type).
const RESERVE_AND_TYPE = 'select private.reserve_reply_and_type($1, $2, $3, $4::jsonb) as refusal';

/**
 * Reads the cache and retrieves (when `retrieve`: the AI engine), then reserves the reply's quota
 * and shows the bot typing. A refusal still returns what was read; the caller answers without it.
 */
export async function prepareReply(
  deps: Pick<ReplyDeps, 'db' | 'embedder'>,
  context: ReplyContext,
  { retrieve }: { retrieve: boolean },
): Promise<PreparedReply> {
  const tenantId = context.tenant.id;
  const question = context.message.content;
  const hash = retrieve ? await questionHash(question) : null;
  return deps.db.asService(async (sql) => {
    const cached = hash ? await cachedAnswer(sql, tenantId, hash) : null;
    const passages =
      retrieve && !cached ? await retrievePassages(sql, deps.embedder, tenantId, question) : [];
    const [row] = await sql.query<{ refusal: string | null }>(RESERVE_AND_TYPE, [
      tenantId,
      context.conversation.id,
      context.message.id,
      { conversation_id: context.conversation.id, typing: true, by: 'bot' },
    ]);
    return { refusal: row?.refusal ?? null, cached, passages };
  });
}
