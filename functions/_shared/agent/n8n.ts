import { z } from 'zod';
import type { Db } from '../db/port.ts';
import { richSchema, storedRich } from '../messages/rich.ts';
import { callToolWebhook, jsonAnswerProblem, type ToolAnswer } from '../tools/call-tool.ts';
import { activeSecrets } from '../webhooks/signature.ts';
import { webhookIdFor } from '../webhooks/webhook-id.ts';
import type { ReplyContext } from './context.ts';
import { retrievalAnswer } from './fallback.ts';
import type { Draft, ReplyDeps } from './reply-types.ts';
import { retrievePassages, sourcesOf } from './retrieval.ts';

// Engine `n8n`: the tenant's own workflow writes the reply. The relay is a signed webhook shaped
// like a tool call (tool "parley.reply"), so one n8n verification node serves tools and relay:
// {tool, arguments: {message, history, locale}, conversation, callback_url}. The workflow answers
// {reply | output, quick_replies?, rich?, handoff?} at once (`output` is what n8n's AI Agent node
// produces), or 202 and later POSTs the same fields to callback_url before the tenant's deadline.
// Anything else is a failure: retried, then answered from retrieval with the offer of a person,
// and recorded where the tenant sees it (tool_executions, tool "parley.reply").

export const RELAY_TOOL = 'parley.reply';
export const N8N_DEADLINE_JOB = 'n8n_callback_deadline';

export const n8nReplySchema = z.object({
  reply: z.string().max(20_000).optional(),
  output: z.string().max(20_000).optional(),
  quick_replies: z.array(z.string().min(1).max(80)).max(4).optional(),
  rich: richSchema.optional(),
  handoff: z.union([z.boolean(), z.object({ reason: z.string().max(500).optional() })]).optional(),
});

export type N8nReply = z.infer<typeof n8nReplySchema>;

/** What the visitor reads: `reply`, else the AI Agent's `output`. */
export function replyText(reply: N8nReply): string {
  return (reply.reply ?? reply.output ?? '').trim();
}

/** A reply or a handoff: something the visitor can be told. */
export function isAnswer(reply: N8nReply): boolean {
  return replyText(reply) !== '' || Boolean(reply.handoff);
}

export function draftFromN8n(reply: N8nReply): Omit<Draft, 'passages' | 'sources'> {
  const handoff = reply.handoff
    ? {
        reason:
          typeof reply.handoff === 'object'
            ? (reply.handoff.reason ?? 'The workflow asked for a person.')
            : 'The workflow asked for a person.',
      }
    : null;
  return {
    content: replyText(reply),
    quickReplies: reply.quick_replies ?? [],
    rich: storedRich(reply.rich),
    engine: 'n8n',
    provider: 'n8n',
    model: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    rounds: 0,
    fallbackReason: null,
    tools: [],
    handoff,
  };
}

/** The workflow's immediate answer, or why it is not one. */
export function readN8nAnswer(json: unknown): { reply: N8nReply } | { problem: string } {
  // "Respond to Webhook" with all incoming items sends a one-item array.
  const value = Array.isArray(json) && json.length === 1 ? json[0] : json;
  const parsed = n8nReplySchema.safeParse(value);
  if (!parsed.success) {
    return { problem: 'the answer is not {reply | output, quick_replies?, rich?, handoff?}' };
  }
  if (!isAnswer(parsed.data)) {
    // n8n's default "Workflow was started" lands here: a Webhook node answering immediately.
    return {
      problem:
        'the answer has no reply: answer {reply} or {output} at once, or 202 and call back later',
    };
  }
  return { reply: parsed.data };
}

/** Only 202 means "later"; any other 2xx must carry the answer. */
function relayAnswerProblem(answer: ToolAnswer): string | null {
  if (answer.status === 202) return null;
  const notJson = jsonAnswerProblem(answer);
  if (notJson) return notJson;
  const read = readN8nAnswer(answer.json);
  return 'problem' in read ? read.problem : null;
}

/**
 * Where the workflow answers later; null when the platform's own URL is unknown. Self-hosted
 * projects whose SUPABASE_URL is an internal address (http://kong:8000) name the public one.
 */
export function callbackUrl(env: Readonly<Record<string, string | undefined>>): string | null {
  const explicit = env.PARLEY_N8N_CALLBACK_URL?.trim();
  if (explicit) return explicit;
  const base = env.SUPABASE_URL?.trim().replace(/\/+$/, '');
  return base ? `${base}/functions/v1/n8n-callback` : null;
}

/** The answer without the workflow: retrieval, and the offer of a person. */
export async function n8nFallback(
  deps: Pick<ReplyDeps, 'db' | 'embedder'>,
  context: ReplyContext,
  reason: string,
): Promise<Draft> {
  const passages = await deps.db.asService((sql) =>
    retrievePassages(sql, deps.embedder, context.tenant.id, context.message.content),
  );
  return {
    ...draftFromN8n({}),
    ...retrievalAnswer(passages, context.conversation.locale),
    engine: 'retrieval',
    fallbackReason: reason,
    passages,
    sources: sourcesOf(passages),
  };
}

export interface RelayOutcome {
  success: boolean;
  response: unknown;
  error: string | null;
  status: number | null;
  attempts: number;
  durationMs: number;
  deliveryId: string | null;
  n8nExecutionId?: string | null;
}

/** Records a relay (or its missed deadline) where the tenant's staff see tool calls. */
export async function auditRelay(db: Db, context: ReplyContext, outcome: RelayOutcome) {
  await db.asService((sql) =>
    sql.query(
      `insert into public.tool_executions
         (tenant_id, conversation_id, tool_name, call_id, delivery_id, arguments, response,
          success, error, http_status, attempts, duration_ms, n8n_execution_id)
       values ($1, $2, $3, $4, coalesce($5::uuid, gen_random_uuid()), $6::jsonb, $7::jsonb, $8, $9,
               $10, $11, $12, $13)`,
      [
        context.tenant.id,
        context.conversation.id,
        RELAY_TOOL,
        context.message.id,
        outcome.deliveryId,
        { message_id: context.message.id },
        outcome.response ?? null,
        outcome.success,
        outcome.error,
        outcome.status,
        outcome.attempts,
        Math.round(outcome.durationMs),
        outcome.n8nExecutionId ?? null,
      ],
    ),
  );
}

/** The reply now, or null when the workflow accepted (202) and will answer through the callback. */
export async function relayToN8n(deps: ReplyDeps, context: ReplyContext): Promise<Draft | null> {
  const url = context.tenant.n8n_webhook_url;
  if (!url) return n8nFallback(deps, context, 'n8n_not_configured');
  const result = await callToolWebhook({
    url,
    // The previous secret signs too until it expires: a workflow not yet switched to the new one
    // keeps verifying the relay, as it keeps verifying tool calls.
    secret: activeSecrets(
      {
        secret: context.secrets.n8n_secret,
        previousSecret: context.secrets.n8n_previous_secret,
        previousExpiresAt: context.secrets.n8n_previous_expires_at,
      },
      Math.floor(Date.now() / 1000),
    ),
    deliveryId: await webhookIdFor(
      'relay',
      deps.callScope ?? `message:${context.message.id}`,
      context.message.id,
    ),
    timeoutMs: 30_000,
    body: {
      tool: RELAY_TOOL,
      arguments: {
        message: { id: context.message.id, content: context.message.content },
        history: context.history,
        locale: context.conversation.locale,
      },
      conversation: {
        id: context.conversation.id,
        tenant_id: context.tenant.id,
        contact: context.conversation.contact,
      },
      callback_url: callbackUrl(deps.env),
    },
    validate: relayAnswerProblem,
    fetch: deps.fetch,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  await auditRelay(deps.db, context, {
    success: result.ok,
    response: result.response,
    error: result.ok ? null : (result.error ?? 'failed'),
    status: result.status ?? null,
    attempts: result.attempts,
    durationMs: result.durationMs,
    deliveryId: result.deliveryId,
    n8nExecutionId: result.n8nExecutionId ?? null,
  });
  if (!result.ok) {
    deps.log?.(`n8n relay failed: ${result.error ?? result.status}`);
    return n8nFallback(deps, context, 'n8n_failed');
  }
  if (result.status === 202) {
    await scheduleDeadline(deps.db, context);
    return null;
  }
  const answer = readN8nAnswer(result.response);
  // relayAnswerProblem accepted it, so it is an answer; the check keeps the types honest.
  if (!('reply' in answer)) return n8nFallback(deps, context, 'n8n_failed');
  return { ...draftFromN8n(answer.reply), passages: [], sources: [] };
}

/**
 * A job that, once the tenant's callback deadline has passed, answers the visitor if the workflow
 * has not. Keyed on the message, so a relay retried after a crash schedules it once.
 */
async function scheduleDeadline(db: Db, context: ReplyContext) {
  await db.asService((sql) =>
    sql.query(
      `select private.enqueue_job(
                $1,
                jsonb_build_object('message_id', $2::uuid, 'conversation_id', $3::uuid,
                                   'timeout_seconds', t.n8n_callback_timeout_seconds),
                t.id,
                now() + make_interval(secs => t.n8n_callback_timeout_seconds),
                null,
                3,
                $1 || ':' || $2)
         from public.tenants t where t.id = $4`,
      [N8N_DEADLINE_JOB, context.message.id, context.conversation.id, context.tenant.id],
    ),
  );
}
