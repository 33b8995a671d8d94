import { Hono } from 'hono';
import { z } from 'zod';
import {
  type CopilotDeps,
  CopilotProblem,
  suggestReply,
  summarizeConversation,
} from '../_shared/agent/copilot.ts';
import { type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import { requireStaff, type StaffClaims, type StaffEnv } from '../_shared/auth/staff.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { enforceRateLimits, envNumber } from '../_shared/http/rate-limits.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import { featureDeps } from '../_shared/job-handlers.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// Copilot for the admin's conversation view. A function rather than SQL because it needs the
// tenant's model key, which no member may read. Who may ask is decided by the database as the
// caller: the conversation must be visible under RLS and the caller a member of its tenant (a
// platform operator reads every inbox but works none). Each answer spends one bot reply of the
// plan's quota, like a reply the bot writes.

export interface CopilotLimits {
  perUserPerMinute: number;
  perTenantPerMinute: number;
}

export interface CopilotAppDeps extends CopilotDeps {
  verifier: ClaimsVerifier;
  limits: CopilotLimits;
  log: (message: string, error?: unknown) => void;
}

export function copilotLimits(env: Readonly<Record<string, string | undefined>>): CopilotLimits {
  return {
    perUserPerMinute: envNumber(env, 'COPILOT_USER_PER_MINUTE', 12),
    perTenantPerMinute: envNumber(env, 'COPILOT_TENANT_PER_MINUTE', 120),
  };
}

const requestSchema = z.object({
  conversation_id: z.string().uuid(),
  // The language the summary is written in: the staff member's, not the visitor's.
  locale: z
    .string()
    .regex(/^[a-zA-Z]{2,3}([-_][a-zA-Z0-9]{2,8})?$/)
    .optional(),
});

export function createCopilotApp(deps: CopilotAppDeps) {
  const { db } = deps;
  const app = new Hono<StaffEnv>();
  app.use('*', publicCors());
  app.use('*', guardInput(4096));

  app.use('/copilot/*', requireStaff(deps.verifier));

  /** The conversation's tenant, when the caller is one of its members; else a 404 or 403. */
  async function memberConversation(user: StaffClaims, conversationId: string) {
    const [row] = await db.asUser(user, (sql) =>
      sql.query<{ tenant_id: string; member: boolean }>(
        `select c.tenant_id,
                exists (select 1 from public.tenant_members m
                         where m.tenant_id = c.tenant_id and m.user_id = $2) as member
           from public.conversations c where c.id = $1`,
        [conversationId, user.sub],
      ),
    );
    // Another tenant's conversation and no conversation look the same from outside.
    if (!row) throw new HttpError(404, 'conversation_not_found', 'No such conversation.');
    if (!row.member) {
      throw new HttpError(403, 'members_only', "Copilot is for the workspace's own team.");
    }
    return row.tenant_id;
  }

  async function prepare(c: { get(key: 'staff'): StaffClaims }, id: string) {
    const user = c.get('staff');
    const tenantId = await memberConversation(user, id);
    await enforceRateLimits(db, [
      [`copilot:user:${user.sub}`, deps.limits.perUserPerMinute],
      [`copilot:tenant:${tenantId}`, deps.limits.perTenantPerMinute],
    ]);
    // Spent once the model is about to be asked, as the bot's replies are.
    return async () => {
      const [row] = await db.asService((sql) =>
        sql.query<{ refused: string | null; spent: boolean | null }>(
          `select r.refused,
                  case when r.refused is null
                       then private.spend_quota($1, 'bot_replies_per_month', 1, $2) end as spent
             from (select private.quota_exceeded($1) as refused) r`,
          [tenantId, `copilot:${crypto.randomUUID()}`],
        ),
      );
      if (row?.refused || row?.spent !== true) {
        throw new HttpError(
          403,
          'quota_exceeded',
          "This workspace has used its plan's bot replies for the month, and Copilot counts as one.",
        );
      }
    };
  }

  async function answer<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof CopilotProblem) {
        throw new HttpError(
          error.code === 'llm_not_configured' ? 409 : 422,
          error.code,
          error.message,
        );
      }
      if (error instanceof HttpError) throw error;
      deps.log('copilot: the model failed', error);
      throw new HttpError(502, 'llm_failed', 'The language model did not answer; try again.');
    }
  }

  app.post('/copilot/suggest', async (c) => {
    const body = await jsonBody(c, requestSchema);
    const spend = await prepare(c, body.conversation_id);
    const suggestion = await answer(() => suggestReply(deps, body.conversation_id, spend));
    return c.json({ suggestion });
  });

  app.post('/copilot/summary', async (c) => {
    const body = await jsonBody(c, requestSchema);
    const spend = await prepare(c, body.conversation_id);
    const summary = await answer(() =>
      summarizeConversation(deps, body.conversation_id, body.locale ?? 'en', spend),
    );
    return c.json({ summary });
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createCopilotApp({
    ...featureDeps(context),
    verifier: createClaimsVerifier(context.env),
    limits: copilotLimits(context.env),
    log: context.log,
  });
}
