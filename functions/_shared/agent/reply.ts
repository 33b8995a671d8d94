import { z } from 'zod';
import { outOfQuotaDraft } from '../billing/quota.ts';
import type { Sql } from '../db/port.ts';
import { runFlow } from '../flows/run.ts';
import { withFlowTools } from '../flows/tool-step.ts';
import type { Job, JobHandler, JobRun } from '../jobs/types.ts';
import { estimateCostUsd, priceOverridesFromEnv } from '../llm/cost.ts';
import { createLlmProvider, resolveLlmConfig } from '../llm/factory.ts';
import type { ChatMessage, LlmProvider } from '../llm/types.ts';
import type { Rich } from '../messages/rich.ts';
import { createDeltaBroadcaster } from './broadcast.ts';
import { questionHash } from './cache.ts';
import { loadReplyContext, type ReplyContext } from './context.ts';
import { answerConfidence, retrievalDraft } from './fallback.ts';
import {
  awayNotice,
  type HandoffTrigger,
  handOff,
  handoffRules,
  lowConfidence,
  triggerBeforeAnswer,
} from './handoff.ts';
import { relayToN8n } from './n8n.ts';
import { phrasesFor } from './phrases.ts';
import { type PreparedReply, prepareReply } from './prepare.ts';
import { conversationMessages } from './prompt.ts';
import { splitQuickReplies, visiblePrefix } from './quick-replies.ts';
import type { Draft, ReplyDeps } from './reply-types.ts';
import { type Passage, sourcesOf } from './retrieval.ts';
import { RICH_TOOL } from './rich-tool.ts';
import { loadTenantTools, runToolCalls, type ToolOutcome, toolSpecs } from './tools.ts';

// One reply to one visitor message: the heart of the bot. Reads the conversation, answers from
// the cache, the LLM (grounded in retrieved passages, with the tenant's tools) or retrieval alone,
// and stores the reply with what grounded it in one transaction. Safe to run again after a crash:
// a message already answered is left alone, and the unique in_reply_to keeps it to one reply.

export const MAX_TOOL_ROUNDS = 3;

const payloadSchema = z.object({
  message_id: z.string().uuid(),
  conversation_id: z.string().uuid(),
});

function defaultLlm(deps: ReplyDeps) {
  return (context: ReplyContext): LlmProvider | null => {
    const config = resolveLlmConfig(
      context.tenant.llm_config,
      context.secrets.llm_api_key,
      deps.env,
    );
    return config
      ? createLlmProvider(config, {
          fetch: deps.fetch,
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
        })
      : null;
  };
}

async function askModel(
  deps: ReplyDeps,
  llm: LlmProvider,
  context: ReplyContext,
  passages: Passage[],
): Promise<Omit<Draft, 'engine' | 'passages' | 'sources' | 'fallbackReason'>> {
  const db = deps.db;
  const tools =
    context.tools ?? (await db.asService((sql) => loadTenantTools(sql, context.tenant.id)));
  const specs = toolSpecs(tools);
  const messages: ChatMessage[] = conversationMessages(context, passages);
  const deltas = createDeltaBroadcaster(
    db,
    context.conversation.id,
    context.message.id,
    visiblePrefix,
    150,
    deps.log,
  );
  const outcomes: ToolOutcome[] = [];
  let tokensIn = 0;
  let tokensOut = 0;
  let handoff: { reason: string } | null = null;
  let rich: Rich | null = null;
  let text = '';
  let rounds = 0;
  try {
    for (;;) {
      rounds++;
      deltas.reset();
      // After the last tool round the model must answer with what it has.
      const mayUseTools = rounds <= MAX_TOOL_ROUNDS && handoff === null;
      const result = await llm.complete({
        messages,
        ...(mayUseTools ? { tools: specs } : {}),
        temperature:
          typeof context.tenant.llm_config.temperature === 'number'
            ? context.tenant.llm_config.temperature
            : 0.3,
        onDelta: (delta) => deltas.push(delta),
      });
      tokensIn += result.usage.inputTokens;
      tokensOut += result.usage.outputTokens;
      text = result.content;
      if (!mayUseTools || result.toolCalls.length === 0) break;
      messages.push({ role: 'assistant', content: result.content, toolCalls: result.toolCalls });
      const round = await runToolCalls(
        {
          db,
          fetch: deps.fetch,
          scope: deps.callScope ?? `message:${context.message.id}`,
          ...(deps.sleep ? { sleep: deps.sleep } : {}),
        },
        context,
        tools,
        result.toolCalls,
      );
      outcomes.push(...round);
      for (const outcome of round) {
        messages.push({
          role: 'tool',
          toolCallId: outcome.call.id,
          name: outcome.call.name,
          content: outcome.content,
        });
        handoff ??= outcome.handoff;
        // A later call of the rich tool replaces an earlier one; one that did not fit changes nothing.
        rich = outcome.rich ?? rich;
      }
      // Text written beside nothing but buttons and cards is the finished reply: asking the model
      // again would only repeat it.
      if (result.content.trim() && round.every((o) => o.call.name === RICH_TOOL)) break;
    }
  } finally {
    await deltas.close();
  }
  const { content, quickReplies } = splitQuickReplies(text);
  return {
    content,
    quickReplies,
    rich,
    provider: llm.provider,
    model: llm.model,
    tokensIn,
    tokensOut,
    costUsd: estimateCostUsd(
      llm.model,
      { inputTokens: tokensIn, outputTokens: tokensOut },
      priceOverridesFromEnv(deps.env),
    ),
    rounds,
    tools: outcomes,
    handoff,
  };
}

async function draftReply(
  deps: ReplyDeps,
  context: ReplyContext,
  { cached, passages }: PreparedReply,
): Promise<Draft> {
  const question = context.message.content;
  const base = {
    provider: null,
    model: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    rounds: 0,
    tools: [],
    handoff: null,
  };
  if (cached) {
    return {
      ...base,
      content: cached.reply,
      quickReplies: cached.quick_replies,
      engine: 'cache',
      fallbackReason: null,
      passages: (cached.grounding.chunks as Passage[] | undefined) ?? [],
      sources: cached.sources,
    };
  }
  const sources = sourcesOf(passages);
  // Too little found to answer from: a person answers instead, when the tenant asks for that.
  const unsure = lowConfidence(
    handoffRules(context.tenant.handoff_rules),
    answerConfidence(passages, question),
  );
  if (unsure) return { ...triggerDraft(unsure), passages };
  const llm = (deps.llmFor ?? defaultLlm(deps))(context);
  if (!llm) {
    return {
      ...base,
      engine: 'retrieval',
      fallbackReason: 'no_llm',
      passages,
      ...retrievalDraft(passages, sources, context, { offerHuman: false }),
    };
  }
  try {
    const answer = await askModel(deps, llm, context, passages);
    if (!answer.content && !answer.handoff) throw new Error('the model returned an empty reply');
    return { ...answer, engine: 'ai', fallbackReason: null, passages, sources };
  } catch (error) {
    deps.log?.('LLM failed, answering from retrieval', error);
    return {
      ...base,
      engine: 'retrieval',
      fallbackReason: 'llm_failed',
      passages,
      ...retrievalDraft(passages, sources, context),
      provider: llm.provider,
      model: llm.model,
    };
  }
}

/** A job the reply's write marks done as well: the reply and the job's completion commit together. */
export interface ReplyCompletion {
  job: Job;
  run: JobRun;
  /** The job's result; the stored reply's id is added as reply_id. */
  result: Record<string, unknown>;
}

/** Stores a drafted reply with its grounding, in one transaction; null when one was already stored. */
export async function storeReply(
  deps: Pick<ReplyDeps, 'db'>,
  context: ReplyContext,
  draft: Draft,
  latencyMs: number,
  inReplyTo: string | null = context.message.id,
  completion: ReplyCompletion | null = null,
) {
  const replyId = await deps.db.asService(async (sql) => {
    const id = await writeReply(sql, context, draft, latencyMs, inReplyTo, completion);
    // The runner's next job is claimed with this job's completion: one transaction fewer.
    if (completion) await completion.run.claimNext?.(sql);
    return id;
  });
  if (completion) completion.run.completed = true;
  return replyId;
}

/** The writes of storeReply, inside the caller's transaction. */
export async function writeReply(
  sql: Sql,
  context: ReplyContext,
  draft: Draft,
  latencyMs: number,
  inReplyTo: string | null,
  completion: ReplyCompletion | null = null,
): Promise<string | null> {
  const phrases = phrasesFor(context.conversation.locale);
  // Outside business hours the visitor is told when people are back, instead of "shortly".
  const away = draft.handoff
    ? await awayNotice(sql, context.tenant.id, context.conversation.locale)
    : null;
  const content = draft.handoff
    ? [draft.content, away ?? phrases.handoff].filter(Boolean).join('\n\n')
    : draft.content;
  // A model's answer made without tools is kept for the same question asked again.
  const cacheHash =
    draft.engine === 'ai' && draft.tools.length === 0
      ? await questionHash(context.message.content)
      : null;
  // One statement, one round trip: the reply, what grounded it, the day's usage, the cached answer
  // and the job's completion, all or nothing. A person may have taken over while this reply was
  // drafted: then nothing is posted. The row lock orders that check with the takeover's update,
  // whichever commits first (one committed meanwhile is seen: FOR UPDATE checks the status again
  // on the row the takeover left). Nothing is inserted when this message already has its reply,
  // so a retried job counts its usage once.
  // A function, so the statement's plan is kept for the session (private.store_reply).
  const [reply] = await sql.query<{ id: string | null }>(
    `select private.store_reply($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12::jsonb,
              $13::jsonb, $14, $15, $16, $17, $18, $19::jsonb, $20::text, $21::jsonb, $22::bigint,
              $23::text, $24::jsonb) as id`,
    [
      context.conversation.id,
      content,
      draft.handoff ? [] : draft.quickReplies,
      draft.sources,
      draft.tokensIn,
      draft.tokensOut,
      draft.costUsd.toFixed(6),
      draft.model,
      inReplyTo,
      context.tenant.id,
      context.message.content,
      draft.passages.map((p) => ({
        chunk_id: p.chunk_id,
        document_id: p.document_id,
        title: p.title,
        heading: p.heading,
        score: p.score,
        full_text_rank: p.full_text_rank,
        semantic_rank: p.semantic_rank,
        similarity: p.similarity,
      })),
      draft.tools.map((t) => ({
        name: t.call.name,
        call_id: t.call.id,
        execution_id: t.executionId,
        success: t.success,
      })),
      draft.engine,
      draft.provider,
      draft.fallbackReason,
      draft.rounds,
      latencyMs,
      draft.handoff ? null : (draft.rich ?? null),
      cacheHash,
      { chunks: draft.passages },
      completion?.job.id ?? null,
      completion?.run.worker ?? null,
      completion?.result ?? null,
    ],
  );
  const replyId = reply?.id ?? null;
  if (!replyId) return null;
  const executionIds = draft.tools
    .map((t) => t.executionId)
    .filter((id): id is string => Boolean(id));
  if (executionIds.length) {
    await sql.query(
      'update public.tool_executions set message_id = $1 where id = any($2::uuid[])',
      [replyId, executionIds],
    );
  }
  if (draft.handoff) {
    const kind = draft.handoff.kind ?? (draft.engine === 'flow' ? 'flow' : 'bot');
    await handOff(
      sql,
      context.conversation.id,
      { reason: kind, detail: draft.handoff.reason },
      away !== null,
    );
  }
  return replyId;
}

/** The reply that hands over on one of the tenant's triggers: only the handoff notice. */
function triggerDraft(trigger: HandoffTrigger): Draft {
  return {
    content: '',
    quickReplies: [],
    engine: 'retrieval',
    provider: null,
    model: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    rounds: 0,
    fallbackReason: `handoff_${trigger.reason}`,
    tools: [],
    handoff: { reason: trigger.detail, kind: trigger.reason },
    passages: [],
    sources: [],
  };
}

class TakenOver extends Error {}

/** A flow's files follow its text as messages of their own, each sent by the WhatsApp send job. */
async function sendFlowMedia(
  sql: Sql,
  context: ReplyContext,
  media: { object: string; caption: string }[],
  log: ReplyDeps['log'],
) {
  for (const item of media) {
    // Checked first: a missing or unsendable file is left out, never the whole turn.
    const [usable] = await sql.query<{ ok: boolean }>(
      `select coalesce(private.whatsapp_media_kind(lower(split_part(o.metadata ->> 'mimetype', ';', 1)))
                         is not null
                 and (o.metadata ->> 'size')::bigint <= private.whatsapp_media_max_bytes(
                       private.whatsapp_media_kind(lower(split_part(o.metadata ->> 'mimetype', ';', 1)))),
                       false) as ok
         from storage.objects o where o.bucket_id = 'knowledge' and o.name = $1`,
      [item.object.slice('knowledge/'.length)],
    );
    if (!usable?.ok) {
      log?.(`flow file not sent: ${item.object}`);
      continue;
    }
    const [message] = await sql.query<{ id: string }>(
      // After the reply written a moment ago in this transaction, not at the same now().
      `insert into public.messages (conversation_id, role, content, created_at)
       values ($1, 'assistant', $2, clock_timestamp()) returning id`,
      [context.conversation.id, item.caption || `[${item.object.replace(/^.*\//, '')}]`],
    );
    await sql.query('select private.attach_whatsapp_media($1, $2, $3)', [
      message?.id,
      context.tenant.id,
      item.object,
    ]);
  }
}

function flowDraft(content: string, quickReplies: string[], handoff: boolean): Draft {
  return {
    content,
    quickReplies,
    engine: 'flow',
    provider: null,
    model: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    rounds: 0,
    fallbackReason: null,
    tools: [],
    handoff: handoff ? { reason: 'flow' } : null,
    passages: [],
    sources: [],
  };
}

/**
 * The tenant's keyword flows answer before any engine, on every channel. The flow's step and its
 * reply commit together, so a retried job finds either both or neither. Null: the engine answers.
 */
async function replyFromFlow(deps: ReplyDeps, context: ReplyContext, started: number) {
  // No flow enabled and none under way: runFlow would find nothing, so its transaction is skipped.
  if (context.mayRunFlow === false) return null;
  // A call_tool step's request is made between two runs of this transaction, never inside it.
  const toolDeps = {
    fetch: deps.fetch,
    scope: deps.callScope ?? `message:${context.message.id}`,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  };
  try {
    return await withFlowTools(deps.db, toolDeps, (tools) =>
      deps.db.asService(async (sql) => {
        const [conversation] = await sql.query<{ channel: string }>(
          'select channel from public.conversations where id = $1',
          [context.conversation.id],
        );
        const turn = await runFlow(
          sql,
          {
            channel: conversation?.channel ?? 'web',
            tenantId: context.tenant.id,
            conversationId: context.conversation.id,
            locale: context.conversation.locale,
            contactId: context.conversation.contact?.id ?? null,
            message: context.message.content,
          },
          tools,
        );
        if (!turn) return null;
        const content = turn.texts.filter(Boolean).join('\n\n');
        const draft = flowDraft(content, turn.quickReplies, turn.handoff);
        if (turn.toEngine) {
          // What the flow said before handing over goes first; the engine's reply answers the message.
          if (content) await writeReply(sql, context, draft, Date.now() - started, null);
          return null;
        }
        if (!content && !turn.handoff && turn.media.length === 0)
          return { flow: turn.flowId, ended: true };
        const replyId = await writeReply(
          sql,
          context,
          draft,
          Date.now() - started,
          context.message.id,
        );
        if (!replyId) throw new TakenOver();
        await sendFlowMedia(sql, context, turn.media, deps.log);
        return { reply_id: replyId, engine: 'flow', flow: turn.flowId, handoff: turn.handoff };
      }),
    );
  } catch (error) {
    if (error instanceof TakenOver) return { skipped: 'conversation_taken_over' };
    throw error;
  }
}

/** The job handler for kind 'reply'. */
export function createReplyHandler(baseDeps: ReplyDeps): JobHandler {
  const handler = async (job: Job, run?: JobRun) => {
    const deps: ReplyDeps = { ...baseDeps, callScope: `job:${job.id}` };
    const started = Date.now();
    const payload = payloadSchema.parse(job.payload);
    // Read by the runner with the claim, or here.
    const context =
      run?.loaded !== undefined
        ? (run.loaded as ReplyContext | null)
        : await deps.db.asService((sql) => loadReplyContext(sql, payload.message_id));
    if (!context) return { skipped: 'message_gone' };
    if (context.existingReplyId)
      return { skipped: 'already_answered', reply_id: context.existingReplyId };
    if (context.conversation.status !== 'bot')
      return { skipped: `conversation_${context.conversation.status}` };
    // People only: no bot answers, the conversation waits for a person (the inbox is told by the
    // status change).
    if (context.tenant.bot_engine === 'human') {
      await deps.db.asService(async (sql) => {
        // Outside business hours the visitor still hears when people are back.
        const away = await awayNotice(sql, context.tenant.id, context.conversation.locale);
        const trigger = { reason: 'people_only', detail: '' } as const;
        if ((await handOff(sql, context.conversation.id, trigger, away !== null)) && away) {
          await sql.query(
            `insert into public.messages (conversation_id, role, content) values ($1, 'assistant', $2)`,
            [context.conversation.id, away],
          );
        }
      });
      return { skipped: 'people_only' };
    }

    const byFlow = await replyFromFlow(deps, context, started);
    if (byFlow) return byFlow;

    // The tenant's keywords and the same question asked again hand over before any engine.
    const trigger = triggerBeforeAnswer(
      handoffRules(context.tenant.handoff_rules),
      context.message.content,
      context.conversation.locale,
      context.history,
    );
    // The reply's write completes the job too: one transaction fewer, and no window in which the
    // reply is stored but its job still looks unfinished.
    const store = async (draft: Draft, result: Record<string, unknown>) => {
      const completion = run ? { job, run, result } : null;
      const replyId = await storeReply(
        deps,
        context,
        draft,
        Date.now() - started,
        context.message.id,
        completion,
      );
      return { reply_id: replyId, ...result };
    };
    if (trigger) return store(triggerDraft(trigger), { handoff: trigger.reason });

    // Past the plan's quota no model or workflow is asked, and the visitor still gets an answer.
    const n8n = context.tenant.bot_engine === 'n8n';
    const prepared = await prepareReply(deps, context, { retrieve: !n8n });
    if (prepared.refusal) {
      const draft = outOfQuotaDraft(context, prepared.refusal);
      return store(draft, { engine: draft.engine, rounds: 0, fallback: prepared.refusal });
    }

    const draft = n8n ? await relayToN8n(deps, context) : await draftReply(deps, context, prepared);
    if (draft === null) return { relayed: 'n8n', awaiting_callback: true };
    return store(draft, {
      engine: draft.engine,
      rounds: draft.rounds,
      fallback: draft.fallbackReason,
    });
  };
  // The context is the handler's first read: the runner reads it in the claim's transaction.
  return Object.assign(handler, {
    load: (sql: Sql, job: Job) =>
      loadReplyContext(sql, payloadSchema.parse(job.payload).message_id),
  });
}

export type { Draft };
