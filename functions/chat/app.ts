import { Hono } from 'hono';
import { z } from 'zod';
import { sendTyping } from '../_shared/agent/broadcast.ts';
import { createClaimsVerifier } from '../_shared/auth/claims.ts';
import type { Db, JwtClaims, Sql } from '../_shared/db/port.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, jsonBody, queryParams } from '../_shared/http/validation.ts';
import { verifyIdentityHash } from '../_shared/identity/verify-identity.ts';
import { createJobHandlers } from '../_shared/job-handlers.ts';
import { createContextRunner } from '../_shared/jobs/context-runner.ts';
import type { JobRunner } from '../_shared/jobs/runner.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';
import { tenantSuspended } from '../_shared/tenants/suspended.ts';
import { attachmentRefs, registerAttachmentRoutes, storedAttachments } from './attachments.ts';
import {
  conversationTranscript,
  listConversations,
  reopenConversation,
  verifiedContact,
} from './history.ts';
import { type ChatLimits, chatLimits, enforceRateLimits, takeRateLimits } from './limits.ts';
import { emailFromMessage, liveLimits, registerLiveRoutes } from './live.ts';
import {
  originAllowed,
  pageOrigin,
  publicConfig,
  recordWidgetLoad,
  tenantByKey,
  widgetLoadThrottle,
} from './tenant.ts';
import { logMailer, type Mailer, registerTranscriptRoutes } from './transcript.ts';
import { requireVisitor, type VisitorEnv } from './visitor.ts';

// The visitor-facing API the widget speaks (DESIGN, "Visitor flow"). Every query that reads or
// writes the visitor's conversation runs as the visitor, so RLS decides; the steps that must see
// beyond it (the widget key, the tenant's identity secret, creating the conversation after the
// checks) run as the service, deliberately.

export interface ChatDeps {
  db: Db;
  verifier: { verify(token: string): Promise<import('../_shared/db/port.ts').JwtClaims | null> };
  runner: JobRunner;
  waitUntil(promise: Promise<unknown>): void;
  limits: ChatLimits;
  /** Read receipts and follow-up emails; the defaults when not given. */
  liveLimits?: ReturnType<typeof liveLimits>;
  log: (message: string, error?: unknown) => void;
  /** Transcripts by email; logged when not given. */
  mail?: Mailer;
}

const uuid = z.string().uuid();
const locale = z
  .string()
  .regex(/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})?$/)
  .max(16);

const sessionSchema = z.object({
  key: z.string().min(3).max(80),
  visitor: z
    .object({
      identifier: z.string().min(1).max(255),
      identityHash: z.string().max(128).optional(),
      name: z.string().max(200).optional(),
      email: z.string().email().max(320).optional(),
      attributes: z
        .record(
          z.string().max(64),
          z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]),
        )
        .optional(),
    })
    .optional(),
  locale: locale.optional(),
  // Shown to staff as a link: a javascript: or data: URL there would run in the admin's session.
  page_url: z
    .string()
    .max(2048)
    .url()
    .refine((url) => /^https?:\/\//i.test(url), 'must be an http(s) URL')
    .optional(),
  new_conversation: z.boolean().optional(),
  /** One of the visitor's earlier conversations (from POST /chat/history) to write in again. */
  conversation_id: uuid.optional(),
  prechat: z
    .object({
      name: z.string().trim().max(200).optional(),
      email: z.string().trim().email().max(320).optional(),
      fields: z
        .record(z.string().min(1).max(64), z.string().max(1000))
        .refine((fields) => Object.keys(fields).length <= 20, 'at most 20 fields')
        .optional(),
    })
    .strict()
    .optional(),
});

type Prechat = NonNullable<z.infer<typeof sessionSchema>['prechat']>;

/**
 * The names of the tenant's required pre-chat fields the visitor left empty. `name` and `email`
 * may come as top-level answers or among `fields`; the form's shape is the tenant's own JSON, so
 * anything malformed in it is ignored rather than locking visitors out.
 */
function missingPrechat(config: Record<string, unknown>, prechat: Prechat | undefined): string[] {
  const form = config.prechat_form as { enabled?: unknown; fields?: unknown } | null | undefined;
  if (form?.enabled !== true || !Array.isArray(form.fields)) return [];
  const answer = (name: string) => {
    const value =
      prechat?.fields?.[name] ??
      (name === 'name' || name === 'email' ? prechat?.[name] : undefined);
    return typeof value === 'string' ? value.trim() : '';
  };
  return form.fields
    .filter(
      (field): field is { name: string } =>
        !!field &&
        typeof field === 'object' &&
        field.required === true &&
        typeof field.name === 'string',
    )
    .map((field) => field.name)
    .filter((name) => answer(name) === '');
}

const feedbackSchema = z.union([
  z.object({ message_id: uuid, rating: z.enum(['up', 'down']).nullable() }),
  z.object({
    conversation_id: uuid,
    csat: z.number().int().min(1).max(5),
    comment: z.string().max(2000).optional(),
  }),
]);

type Conversation = {
  id: string;
  tenant_id: string;
  status: string;
  identity_verified: boolean;
  created_at: Date;
  locale: string | null;
  staff_read_at: Date | null;
};

async function visitorConversation(sql: Sql, id: string): Promise<Conversation> {
  // Functions, so the statements' plans are kept for the session (private.visitor_conversation,
  // private.visitor_message_by_client_id, private.visitor_post_message); the caller's rights.
  const [conversation] = await sql.query<Conversation>(
    'select * from private.visitor_conversation($1)',
    [id],
  );
  // Someone else's conversation and no conversation look the same from outside.
  if (!conversation) throw new HttpError(404, 'conversation_not_found', 'No such conversation.');
  return conversation;
}

const MESSAGE_COLUMNS = `id, conversation_id, role, content, attachments, quick_replies, sources, rich, status, client_msg_id, feedback, created_at, updated_at,
  (select jsonb_build_object('name', tm.display_name, 'avatar_url', tm.avatar_url) from public.tenant_members tm
    where tm.tenant_id = messages.tenant_id and tm.user_id = messages.author_id) as author`;

export function createChatApp(deps: ChatDeps) {
  const { db, limits } = deps;
  const app = new Hono<VisitorEnv>();
  app.use('*', publicCors());
  app.use('*', guardInput(limits.maxBodyBytes));

  const recordLoad = widgetLoadThrottle();
  app.get('/chat/config', async (c) => {
    const { key, locale: requested } = queryParams(
      c,
      z.object({ key: z.string().min(3).max(80), locale: locale.optional() }),
    );
    const tenant = await db.asService((sql) => tenantByKey(sql, key));
    // Every page load asks for the config: where it came from is what onboarding's live check
    // watches. Recorded after the answer, so a slow write never delays the widget.
    const origin = pageOrigin(c.req.header('origin'), c.req.header('referer'));
    if (origin && recordLoad(tenant.id, origin)) {
      deps.waitUntil(
        db
          .asService((sql) => recordWidgetLoad(sql, tenant, origin))
          .catch((error) => deps.log('recording a widget load failed', error)),
      );
    }
    c.header('cache-control', 'public, max-age=60, stale-while-revalidate=600');
    return c.json(publicConfig(tenant, requested));
  });

  const visitorOnly = requireVisitor(deps.verifier);
  const live = { db, limits: deps.liveLimits ?? liveLimits({}) };

  /** The visitor's conversation, as long as it still takes part in a chat. */
  async function openConversation(visitor: JwtClaims, id: string) {
    const conversation = await db.asUser(visitor, (sql) => visitorConversation(sql, id));
    if (conversation.status === 'resolved') {
      throw new HttpError(
        409,
        'conversation_resolved',
        'This conversation is closed: start a new one.',
      );
    }
    return conversation;
  }

  app.post('/chat/sessions', visitorOnly, async (c) => {
    const body = await jsonBody(c, sessionSchema);
    const visitor = c.get('visitor');
    // Limits are counted in this transaction, so a request refused further down is not counted.
    const result = await db.asService(async (sql) => {
      const tenant = await tenantByKey(sql, body.key);
      if (!originAllowed(tenant.allowed_origins, c.req.header('origin') ?? null)) {
        throw new HttpError(403, 'origin_not_allowed', 'This site may not use this chat widget.');
      }
      await takeRateLimits(sql, [
        [`sessions:visitor:${visitor.sub}`, limits.visitorSessionsPerMinute],
      ]);
      let contactId: string | null = null;
      if (body.visitor) {
        const [secret] = await sql.query<{ identity_secret: string }>(
          'select identity_secret from public.tenant_secrets where tenant_id = $1',
          [tenant.id],
        );
        const verified =
          !!secret &&
          !!body.visitor.identityHash &&
          (await verifyIdentityHash(
            secret.identity_secret,
            body.visitor.identifier,
            body.visitor.identityHash,
          ));
        if (!verified)
          throw new HttpError(403, 'identity_invalid', 'The identity could not be verified.');
        const [contact] = await sql.query<{ id: string }>(
          `insert into public.contacts (tenant_id, identifier, name, email, attributes, last_seen_at)
           values ($1, $2, $3, $4, coalesce($5::jsonb, '{}'::jsonb), now())
           on conflict (tenant_id, identifier) do update
             set name = coalesce(excluded.name, contacts.name), email = coalesce(excluded.email, contacts.email),
                 attributes = contacts.attributes || excluded.attributes, last_seen_at = now()
           returning id`,
          [
            tenant.id,
            body.visitor.identifier,
            body.visitor.name ?? null,
            body.visitor.email ?? null,
            body.visitor.attributes ?? null,
          ],
        );
        contactId = contact?.id ?? null;
      } else if (tenant.enforce_identity) {
        // Others only guard the identify call; an unverified visitor here cannot chat at all.
        throw new HttpError(
          403,
          'identity_required',
          'This chat is only available to signed-in customers.',
        );
      }

      if (body.conversation_id) {
        const conversation = await reopenConversation(
          sql,
          { tenantId: tenant.id, visitorId: visitor.sub, contactId },
          body.conversation_id,
        );
        return { tenant, conversation, created: false };
      }
      if (!body.new_conversation) {
        const [open] = await sql.query<Conversation>(
          `select id, tenant_id, status, identity_verified, created_at from public.conversations
            where tenant_id = $1 and visitor_id = $2 and status <> 'resolved'
              and ($3::uuid is null or contact_id = $3::uuid) and ($3::uuid is not null or not identity_verified)
            order by created_at desc limit 1`,
          [tenant.id, visitor.sub, contactId],
        );
        if (open) return { tenant, conversation: open, created: false };
      }
      // A verified identity already tells the tenant who this is; the form is for strangers.
      if (contactId === null) {
        const missing = missingPrechat(tenant.bot_config, body.prechat);
        if (missing.length > 0) {
          throw new HttpError(400, 'prechat_required', `Please fill in: ${missing.join(', ')}.`);
        }
      }
      // Every fresh anonymous user has a per-visitor allowance of its own: only this bounds a
      // flood of them.
      await takeRateLimits(sql, [
        [`sessions:tenant:${tenant.id}`, limits.tenantConversationsPerMinute],
      ]);
      const [conversation] = await sql.query<Conversation>(
        `insert into public.conversations (tenant_id, visitor_id, contact_id, locale, page_url, identity_verified, prechat)
         values ($1, $2, $3, $4, $5, $6, $7::jsonb)
         returning id, tenant_id, status, identity_verified, created_at`,
        [
          tenant.id,
          visitor.sub,
          contactId,
          body.locale ?? null,
          body.page_url ?? null,
          contactId !== null,
          body.prechat ?? {},
        ],
      );
      return { tenant, conversation: conversation as Conversation, created: true };
    });
    return c.json(
      { conversation: result.conversation, config: publicConfig(result.tenant, body.locale) },
      result.created ? 201 : 200,
    );
  });

  app.post('/chat/messages', visitorOnly, async (c) => {
    const body = await jsonBody(
      c,
      z.object({
        conversation_id: uuid,
        client_msg_id: z.string().min(1).max(100),
        // Empty only when files carry the message.
        content: z.string().trim().max(limits.maxMessageLength),
        attachments: attachmentRefs.optional(),
        // The widget's language now (Parley.setLocale may change it mid-conversation).
        locale: locale.optional(),
      }),
    );
    if (!body.content && !body.attachments?.length)
      throw new HttpError(400, 'invalid_request', 'content: must not be empty');
    const visitor = c.get('visitor');
    const orderingKey = `conversation:${body.conversation_id}`;
    // A re-send of a message already stored (the widget retrying after a lost answer) gets that
    // message back before any limit is looked at: it costs nothing and must never read as a 429.
    const { conversation, stored } = await db.asUser(visitor, async (sql) => ({
      conversation: await visitorConversation(sql, body.conversation_id),
      stored: (
        await sql.query('select * from private.visitor_message_by_client_id($1, $2)', [
          body.conversation_id,
          body.client_msg_id,
        ])
      )[0],
    }));
    if (stored) {
      deps.waitUntil(deps.runner.drain({ orderingKey, maxMs: 120_000 }));
      return c.json({ message: stored, duplicate: true }, 202);
    }
    // A resolved conversation takes its visitor's message: the database reopens it for a person
    // (private.reopen_on_visitor_message), so a visitor who comes back after the CSAT question is
    // heard by the staff who closed it instead of being sent to a fresh conversation.
    // The service's checks share one transaction: a refusal rolls back whatever came before it.
    await db.asService(async (sql) => {
      // A playground conversation is the tenant's own staff trying the bot: no identity to verify.
      const [quota] = await sql.query<{ reason: string | null; enforce: boolean }>(
        'select reason, enforce from private.visitor_post_check($1)',
        [conversation.id],
      );
      if (quota?.reason === 'tenant_suspended') throw tenantSuspended();
      if (quota?.reason)
        throw new HttpError(
          403,
          'quota_exceeded',
          'This chat cannot take more messages right now.',
        );
      if (quota?.enforce && !conversation.identity_verified) {
        throw new HttpError(
          403,
          'identity_required',
          'This chat is only available to signed-in customers.',
        );
      }
      await takeRateLimits(sql, [
        [`messages:visitor:${visitor.sub}`, limits.visitorMessagesPerMinute],
        [`messages:tenant:${conversation.tenant_id}`, limits.tenantMessagesPerMinute],
      ]);
      // Replies follow the visitor's language: stored before the message, so its reply reads it.
      if (body.locale && body.locale !== conversation.locale) {
        await sql.query('update public.conversations set locale = $2 where id = $1', [
          conversation.id,
          body.locale,
        ]);
      }
    });
    // As the visitor: RLS decides, and the insert trigger enqueues the reply in the same transaction.
    const { message, duplicate } = await db.asUser(visitor, async (sql) => {
      const files = await storedAttachments(sql, conversation, body.attachments ?? []);
      const [inserted] = await sql.query(
        'select * from private.visitor_post_message($1, $2, $3, $4::jsonb)',
        [body.conversation_id, body.content, body.client_msg_id, files],
      );
      if (inserted) return { message: inserted, duplicate: false };
      const [existing] = await sql.query(
        'select * from private.visitor_message_by_client_id($1, $2)',
        [body.conversation_id, body.client_msg_id],
      );
      return { message: existing, duplicate: true };
    });
    // Asked for an email while people are away, the visitor may simply type it.
    if (!duplicate) await emailFromMessage(live, visitor, conversation, body.content);
    // Work the reply now; the worker picks it up if this instance dies first.
    deps.waitUntil(deps.runner.drain({ orderingKey, maxMs: 120_000 }));
    return c.json({ message, duplicate }, 202);
  });

  app.get('/chat/messages', visitorOnly, async (c) => {
    const query = queryParams(
      c,
      z.object({
        conversation_id: uuid,
        after: z.string().datetime({ offset: true }).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(100),
      }),
    );
    const visitor = c.get('visitor');
    const result = await db.asUser(visitor, async (sql) => {
      const conversation = await visitorConversation(sql, query.conversation_id);
      const messages = await sql.query(
        `select ${MESSAGE_COLUMNS} from public.messages
          where conversation_id = $1 and ($2::timestamptz is null or created_at > $2::timestamptz)
          order by created_at, id limit $3`,
        [query.conversation_id, query.after ?? null, query.limit],
      );
      return {
        conversation: {
          id: conversation.id,
          status: conversation.status,
          staff_read_at: conversation.staff_read_at,
        },
        messages,
      };
    });
    return c.json(result);
  });

  app.post('/chat/feedback', visitorOnly, async (c) => {
    const body = await jsonBody(c, feedbackSchema);
    const visitor = c.get('visitor');
    const ok = await db.asUser(visitor, async (sql) => {
      if ('message_id' in body) {
        const rating = body.rating === null ? null : body.rating === 'up' ? 1 : -1;
        const [row] = await sql.query<{ ok: boolean }>(
          'select public.rate_message($1, $2::smallint) as ok',
          [body.message_id, rating],
        );
        return row?.ok ?? false;
      }
      const [row] = await sql.query<{ ok: boolean }>(
        'select public.rate_conversation($1, $2::smallint, $3) as ok',
        [body.conversation_id, body.csat, body.comment ?? null],
      );
      return row?.ok ?? false;
    });
    if (!ok) throw new HttpError(404, 'not_found', 'Nothing to rate there.');
    return c.json({ ok: true });
  });

  // The visitor's earlier conversations (no conversation_id) or one of their transcripts.
  app.post('/chat/history', visitorOnly, async (c) => {
    const body = await jsonBody(
      c,
      z.object({
        key: z.string().min(3).max(80),
        visitor: z
          .object({
            identifier: z.string().min(1).max(255),
            identityHash: z.string().max(128).optional(),
          })
          .optional(),
        conversation_id: uuid.optional(),
      }),
    );
    const visitor = c.get('visitor');
    const result = await db.asService(async (sql) => {
      const tenant = await tenantByKey(sql, body.key);
      if (!originAllowed(tenant.allowed_origins, c.req.header('origin') ?? null)) {
        throw new HttpError(403, 'origin_not_allowed', 'This site may not use this chat widget.');
      }
      await takeRateLimits(sql, [
        [`history:visitor:${visitor.sub}`, limits.visitorHistoryPerMinute],
      ]);
      const owner = {
        tenantId: tenant.id,
        visitorId: visitor.sub,
        contactId: await verifiedContact(sql, tenant.id, body.visitor),
      };
      return body.conversation_id
        ? conversationTranscript(sql, owner, body.conversation_id, MESSAGE_COLUMNS)
        : { conversations: await listConversations(sql, owner) };
    });
    return c.json(result);
  });

  // The visitor's typing reaches staff only through here: the conversation's topic is
  // receive-only for clients, so the event carries the role this request proved, not one claimed.
  app.post('/chat/typing', visitorOnly, async (c) => {
    const body = await jsonBody(c, z.object({ conversation_id: uuid, typing: z.boolean() }));
    const visitor = c.get('visitor');
    // Resolved ones too: the visitor may be typing the message that reopens it.
    const conversation = await db.asUser(visitor, (sql) =>
      visitorConversation(sql, body.conversation_id),
    );
    await enforceRateLimits(db, [[`typing:visitor:${visitor.sub}`, limits.visitorTypingPerMinute]]);
    await sendTyping(db, conversation.id, body.typing, { by: 'visitor' });
    return c.json({ ok: true }, 202);
  });

  registerAttachmentRoutes(
    app,
    { db, uploadsPerMinute: limits.visitorMessagesPerMinute, conversationOf: openConversation },
    visitorOnly,
  );
  registerTranscriptRoutes(
    app,
    {
      db,
      mail: deps.mail ?? logMailer(deps.log),
      perMinute: limits.visitorTranscriptsPerMinute ?? 2,
      conversationOf: openConversation,
    },
    visitorOnly,
  );
  registerLiveRoutes(
    app,
    {
      ...live,
      conversationOf: openConversation,
    },
    visitorOnly,
  );

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createChatApp({
    db: context.db,
    verifier: createClaimsVerifier(context.env),
    runner: createContextRunner(context, 'chat', createJobHandlers(context)),
    waitUntil: context.waitUntil,
    limits: chatLimits(context.env),
    liveLimits: liveLimits(context.env),
    log: context.log,
  });
}
