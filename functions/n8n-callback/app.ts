import { Hono } from 'hono';
import { z } from 'zod';
import { loadReplyContext } from '../_shared/agent/context.ts';
import { draftFromN8n, isAnswer, n8nReplySchema } from '../_shared/agent/n8n.ts';
import { writeReply } from '../_shared/agent/reply.ts';
import type { Db } from '../_shared/db/port.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput } from '../_shared/http/validation.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';
import { tenantSuspended } from '../_shared/tenants/suspended.ts';
import { recordDelivery } from '../_shared/webhooks/dedupe.ts';
import { activeSecrets, verifyRequest } from '../_shared/webhooks/signature.ts';

// A tenant's n8n workflow answering later: POST /n8n-callback {conversation_id, reply,
// quick_replies?, handoff?}, signed with Standard Webhooks and the tenant's n8n secret (the previous
// one too, during its overlap window), each webhook-id applied once.

export interface CallbackDeps {
  db: Db;
  now: () => number;
  log: (message: string, error?: unknown) => void;
}

const bodySchema = n8nReplySchema.extend({ conversation_id: z.string().uuid() });

export function createCallbackApp(deps: CallbackDeps) {
  const app = new Hono();
  app.use('*', guardInput(64 * 1024));
  app.post('/n8n-callback', async (c) => {
    const raw = await c.req.text();
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
    }
    const parsed = bodySchema.safeParse(json);
    if (!parsed.success)
      throw new HttpError(
        400,
        'invalid_request',
        parsed.error.issues[0]?.message ?? 'invalid body',
      );
    const body = parsed.data;

    const [target] = await deps.db.asService((sql) =>
      sql.query<{
        tenant_id: string;
        n8n_secret: string;
        n8n_previous_secret: string | null;
        n8n_previous_expires_at: Date | null;
        last_user_message: string | null;
        tenant_status: string;
      }>(
        `select c.tenant_id, s.n8n_secret, s.n8n_previous_secret, s.n8n_previous_expires_at,
                (select m.id from public.messages m where m.conversation_id = c.id and m.role = 'user'
                  order by m.created_at desc, m.id desc limit 1) as last_user_message,
                (select t.status from public.tenants t where t.id = c.tenant_id) as tenant_status
           from public.conversations c join public.tenant_secrets s on s.tenant_id = c.tenant_id
          where c.id = $1`,
        [body.conversation_id],
      ),
    );
    const nowSeconds = Math.floor(deps.now() / 1000);
    // An unknown conversation and a bad signature look alike to a caller without the secret.
    const verified = target
      ? verifyRequest({
          secrets: activeSecrets(
            {
              secret: target.n8n_secret,
              previousSecret: target.n8n_previous_secret,
              previousExpiresAt: target.n8n_previous_expires_at,
            },
            nowSeconds,
          ),
          headers: c.req.raw.headers,
          body: raw,
        })
      : ({ ok: false, code: 'bad_signature' } as const);
    if (!verified.ok || !target)
      throw new HttpError(
        401,
        verified.ok ? 'bad_signature' : verified.code,
        'The signature does not verify.',
      );
    if (target.tenant_status !== 'active') throw tenantSuspended();

    if (!isAnswer(body))
      throw new HttpError(400, 'invalid_request', 'Send a reply, a handoff, or both.');
    if (!target.last_user_message)
      throw new HttpError(409, 'nothing_to_answer', 'The conversation has no visitor message.');
    const lastUserMessage = target.last_user_message;
    // The receipt and the reply commit together: a failed write leaves the retry welcome.
    const outcome = await deps.db.asService(async (sql) => {
      if (!(await recordDelivery(sql, verified.id, 'n8n-callback', target.tenant_id)))
        return { duplicate: true } as const;
      const context = await loadReplyContext(sql, lastUserMessage);
      if (!context)
        throw new HttpError(409, 'nothing_to_answer', 'The conversation has no visitor message.');
      const draft = { ...draftFromN8n(body), passages: [], sources: [] };
      // A later message of the workflow (the first one already answered) stands on its own.
      const replyId = await writeReply(
        sql,
        context,
        draft,
        0,
        context.existingReplyId ? null : context.message.id,
      );
      return { duplicate: false, replyId } as const;
    });
    if (outcome.duplicate) return c.json({ ok: true, duplicate: true });
    const replyId = outcome.replyId;
    return c.json({ ok: true, message_id: replyId }, 201);
  });
  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createCallbackApp({ db: context.db, now: () => Date.now(), log: context.log });
}
