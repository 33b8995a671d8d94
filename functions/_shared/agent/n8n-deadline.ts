import { z } from 'zod';
import type { Job } from '../jobs/types.ts';
import { loadReplyContext } from './context.ts';
import { auditRelay, n8nFallback } from './n8n.ts';
import { storeReply } from './reply.ts';
import type { ReplyDeps } from './reply-types.ts';

// A workflow that answered 202 promised a callback. If none has come by the tenant's deadline
// (tenants.n8n_callback_timeout_seconds), the visitor is answered from retrieval with the offer of
// a person instead of waiting on a workflow that may never call, and the tenant's staff see the
// missed deadline next to the relay in tool_executions.

const payloadSchema = z.object({
  message_id: z.string().uuid(),
  conversation_id: z.string().uuid(),
  timeout_seconds: z.number().int().positive(),
});

export function createN8nDeadlineHandler(deps: ReplyDeps) {
  return async (job: Job) => {
    const payload = payloadSchema.parse(job.payload);
    const context = await deps.db.asService((sql) => loadReplyContext(sql, payload.message_id));
    if (!context) return { skipped: 'message_gone' };
    if (context.existingReplyId) return { skipped: 'answered', reply_id: context.existingReplyId };
    if (context.conversation.status !== 'bot') {
      return { skipped: `conversation_${context.conversation.status}` };
    }
    // The callback answers the conversation's latest message: one that came after this message
    // and was answered leaves nothing waiting here.
    const [answeredSince] = await deps.db.asService((sql) =>
      sql.query(
        `select 1 from public.messages
          where conversation_id = $1 and role in ('assistant', 'agent') and created_at > $2
          limit 1`,
        [context.conversation.id, context.message.created_at],
      ),
    );
    if (answeredSince) return { skipped: 'answered_since' };

    await auditRelay(deps.db, context, {
      success: false,
      response: null,
      error: `no callback within ${payload.timeout_seconds} s of the workflow's 202`,
      status: null,
      attempts: 0,
      durationMs: payload.timeout_seconds * 1000,
      deliveryId: null,
    });
    const draft = await n8nFallback(deps, context, 'n8n_callback_timeout');
    const replyId = await storeReply(deps, context, draft, payload.timeout_seconds * 1000);
    return { reply_id: replyId, fallback: 'n8n_callback_timeout' };
  };
}
