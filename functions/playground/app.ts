import { Hono } from 'hono';
import { z } from 'zod';
import { type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import { isManager, requireStaff, type StaffEnv } from '../_shared/auth/staff.ts';
import type { Db } from '../_shared/db/port.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { envNumber, takeRateLimits } from '../_shared/http/rate-limits.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// The admin's Playground: a tenant's owner or admin chats with the bot as a visitor would, through
// the visitor API itself (/chat/messages), so what they see is what a customer gets. This function
// only opens the conversation, for a visitor session the admin made (an anonymous sign-in of its
// own), skipping what only a stranger on the tenant's site goes through: the origin check, the
// pre-chat form and identity enforcement.
//
// What that could let a member do, and what stops it:
// - attach a conversation to somebody else's visitor identity, so that it shows up in a customer's
//   widget: the visitor is proved by its own token, not named by id;
// - act for a tenant that is not theirs, or as an agent: owners and admins of that tenant only
//   (operators neither, they read and do not act);
// - pass as a verified customer: the conversation has no contact and is not identity-verified;
// - spend without bounds: sessions are rate-limited per member and count against the tenant's
//   conversation limit, and every message spends the tenant's quota like any other;
// - blur the tenant's numbers: the conversation is marked (conversations.playground_by).

export interface PlaygroundDeps {
  db: Db;
  verifier: ClaimsVerifier;
  limits: { sessionsPerMemberPerMinute: number; tenantConversationsPerMinute: number };
  log: (message: string, error?: unknown) => void;
}

const locale = z
  .string()
  .regex(/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})?$/)
  .max(16);

const sessionSchema = z.object({
  tenant_id: z.string().uuid(),
  /** The access token of the anonymous visitor session the admin signed in for the playground. */
  visitor_token: z.string().min(20).max(4096),
  locale: locale.optional(),
});

export function createPlaygroundApp(deps: PlaygroundDeps) {
  const { db } = deps;
  const app = new Hono<StaffEnv>();
  app.use('*', publicCors());
  app.use('*', guardInput(16 * 1024));
  app.use('/playground/*', requireStaff(deps.verifier));

  app.post('/playground/sessions', async (c) => {
    const body = await jsonBody(c, sessionSchema);
    const staff = c.get('staff');
    if (!(await db.asUser(staff, (sql) => isManager(sql, body.tenant_id)))) {
      throw new HttpError(
        403,
        'forbidden',
        "Only the workspace's owners and admins use the playground.",
      );
    }
    const visitor = await deps.verifier.verify(body.visitor_token);
    if (
      visitor?.role !== 'authenticated' ||
      visitor.is_anonymous !== true ||
      typeof visitor.sub !== 'string'
    ) {
      throw new HttpError(
        400,
        'visitor_session_required',
        'visitor_token must be the token of an anonymous visitor session.',
      );
    }
    const conversation = await db.asService(async (sql) => {
      const [tenant] = await sql.query<{ status: string }>(
        'select status from public.tenants where id = $1',
        [body.tenant_id],
      );
      if (tenant?.status !== 'active') {
        throw new HttpError(403, 'tenant_suspended', 'This workspace cannot chat right now.');
      }
      await takeRateLimits(sql, [
        [`playground:member:${staff.sub}`, deps.limits.sessionsPerMemberPerMinute],
        [`sessions:tenant:${body.tenant_id}`, deps.limits.tenantConversationsPerMinute],
      ]);
      const [row] = await sql.query(
        `insert into public.conversations (tenant_id, visitor_id, locale, playground_by)
         values ($1, $2, $3, $4)
         returning id, tenant_id, status, locale, playground_by, created_at`,
        [body.tenant_id, visitor.sub, body.locale ?? null, staff.sub],
      );
      return row;
    });
    return c.json({ conversation }, 201);
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createPlaygroundApp({
    db: context.db,
    verifier: createClaimsVerifier(context.env),
    limits: {
      sessionsPerMemberPerMinute: envNumber(context.env, 'PLAYGROUND_SESSIONS_PER_MINUTE', 10),
      tenantConversationsPerMinute: envNumber(
        context.env,
        'CHAT_TENANT_CONVERSATIONS_PER_MINUTE',
        120,
      ),
    },
    log: context.log,
  });
}
