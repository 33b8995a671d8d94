import { z } from 'zod';
import { callToolWebhook } from '../tools/call-tool.ts';
import { activeSecrets } from '../webhooks/signature.ts';
import { webhookIdFor } from '../webhooks/webhook-id.ts';
import type { ReplyContext } from './context.ts';
import { retrievalAnswer } from './fallback.ts';
import type { Draft, ReplyDeps } from './reply-types.ts';
import { retrievePassages, sourcesOf } from './retrieval.ts';

// Engine `n8n`: the tenant's own workflow writes the reply. The relay is a signed webhook shaped
// like a tool call (tool "parley.reply"), so one n8n verification node serves tools and relay. The
// workflow answers {reply, quick_replies?, handoff?} at once, or an empty 2xx and later calls
// /n8n-callback with the same fields.

export const n8nReplySchema = z.object({
  reply: z.string().max(20_000).optional(),
  quick_replies: z.array(z.string().min(1).max(80)).max(4).optional(),
  handoff: z.union([z.boolean(), z.object({ reason: z.string().max(500).optional() })]).optional(),
});

export type N8nReply = z.infer<typeof n8nReplySchema>;

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
    content: reply.reply?.trim() ?? '',
    quickReplies: reply.quick_replies ?? [],
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

/** The reply now, or null when the workflow will answer through the callback. */
export async function relayToN8n(deps: ReplyDeps, context: ReplyContext): Promise<Draft | null> {
  const url = context.tenant.n8n_webhook_url;
  const fallback = async (reason: string): Promise<Draft> => {
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
  };
  if (!url) return fallback('n8n_not_configured');
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
      tool: 'parley.reply',
      arguments: {
        message: { id: context.message.id, content: context.message.content },
        history: context.history,
        locale: context.conversation.locale,
      },
      call_id: context.message.id,
      conversation: {
        id: context.conversation.id,
        tenant_id: context.tenant.id,
        contact: context.conversation.contact,
      },
    },
    fetch: deps.fetch,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  if (!result.ok) {
    deps.log?.(`n8n relay failed: ${result.error ?? result.status}`);
    return fallback('n8n_failed');
  }
  const parsed = n8nReplySchema.safeParse(result.response ?? {});
  if (!parsed.success) return fallback('n8n_bad_response');
  if (!parsed.data.reply && !parsed.data.handoff) return null;
  return { ...draftFromN8n(parsed.data), passages: [], sources: [] };
}
