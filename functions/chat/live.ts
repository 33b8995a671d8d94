import type { Hono } from 'hono';
import { z } from 'zod';
import { awayNotice, handOff } from '../_shared/agent/handoff.ts';
import { phrasesFor } from '../_shared/agent/phrases.ts';
import type { Db, JwtClaims } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';
import { envNumber } from '../_shared/http/rate-limits.ts';
import { jsonBody } from '../_shared/http/validation.ts';
import { enforceRateLimits } from './limits.ts';
import type { requireVisitor, VisitorEnv } from './visitor.ts';

// The visitor's side of live chat that only the server may speak for (docs/widget.md, "Live
// chat"): read receipts (the widget reports which message it showed; the server checks it is a
// public message of that visitor's conversation and broadcasts the receipt), the handoff with its
// reason and, outside business hours, the away notice, and the email left for follow-up.

export interface LiveLimits {
  visitorReadsPerMinute: number;
  visitorEmailsPerMinute: number;
}

export function liveLimits(env: Readonly<Record<string, string | undefined>>): LiveLimits {
  return {
    visitorReadsPerMinute: envNumber(env, 'CHAT_VISITOR_READS_PER_MINUTE', 60),
    visitorEmailsPerMinute: envNumber(env, 'CHAT_VISITOR_EMAILS_PER_MINUTE', 3),
  };
}

interface LiveDeps {
  db: Db;
  limits: LiveLimits;
  /** The visitor's conversation under RLS: 404 when it is not theirs, 409 once resolved. */
  conversationOf(
    visitor: JwtClaims,
    id: string,
  ): Promise<{ id: string; tenant_id: string; status: string; locale: string | null }>;
}

const uuid = z.string().uuid();
const email = z.string().trim().toLowerCase().email().max(320);

/** A visitor message that is nothing but an email address: the address, else null. */
export function emailOnly(content: string): string | null {
  const parsed = email.safeParse(content);
  return parsed.success ? parsed.data : null;
}

/**
 * Stores the visitor's follow-up address (rate limited: each try counts) and answers with the
 * thanks the visitor sees. False when the conversation is not this visitor's.
 */
export async function captureEmail(
  deps: Pick<LiveDeps, 'db' | 'limits'>,
  visitor: JwtClaims,
  conversation: { id: string; locale: string | null },
  address: string,
): Promise<boolean> {
  await enforceRateLimits(deps.db, [
    [`email:visitor:${visitor.sub}`, deps.limits.visitorEmailsPerMinute],
    [`email:conversation:${conversation.id}`, deps.limits.visitorEmailsPerMinute],
  ]);
  return deps.db.asService(async (sql) => {
    const [row] = await sql.query<{ ok: boolean }>(
      'select private.capture_followup_email($1, $2, $3) as ok',
      [visitor.sub, conversation.id, address],
    );
    if (!row?.ok) return false;
    await sql.query(
      `insert into public.messages (conversation_id, role, content) values ($1, 'assistant', $2)`,
      [conversation.id, phrasesFor(conversation.locale).emailThanks.replace('{email}', address)],
    );
    return true;
  });
}

/**
 * After a visitor message: a bare email address in a conversation whose visitor was asked for one
 * (an away handoff) is their follow-up address.
 */
export async function emailFromMessage(
  deps: Pick<LiveDeps, 'db' | 'limits'>,
  visitor: JwtClaims,
  conversation: { id: string; locale: string | null },
  content: string,
): Promise<void> {
  const address = emailOnly(content);
  if (!address) return;
  const [asked] = await deps.db.asService((sql) =>
    sql.query<{ asked: boolean }>(
      `select followup_requested_at is not null and status in ('handoff', 'open') as asked
         from public.conversations where id = $1`,
      [conversation.id],
    ),
  );
  if (!asked?.asked) return;
  try {
    await captureEmail(deps, visitor, conversation, address);
  } catch (error) {
    // The message itself is stored: past the limit it stays a message, not a refused request.
    if (!(error instanceof HttpError && error.status === 429)) throw error;
  }
}

export function registerLiveRoutes(
  app: Hono<VisitorEnv>,
  deps: LiveDeps,
  visitorOnly: ReturnType<typeof requireVisitor>,
) {
  const { db, limits } = deps;

  // The widget showed this message to the visitor. Only a public staff, bot or system message of
  // the visitor's own conversation moves the receipt, to that message's own time.
  app.post('/chat/read', visitorOnly, async (c) => {
    const body = await jsonBody(c, z.object({ conversation_id: uuid, message_id: uuid }));
    const visitor = c.get('visitor');
    await enforceRateLimits(db, [[`reads:visitor:${visitor.sub}`, limits.visitorReadsPerMinute]]);
    const [row] = await db.asService((sql) =>
      sql.query<{ read_at: Date | null }>(
        'select private.note_visitor_read($1, $2, $3) as read_at',
        [visitor.sub, body.conversation_id, body.message_id],
      ),
    );
    if (!row?.read_at) throw new HttpError(404, 'message_not_found', 'No such message.');
    return c.json({ read_at: row.read_at });
  });

  app.post('/chat/email', visitorOnly, async (c) => {
    const body = await jsonBody(c, z.object({ conversation_id: uuid, email }));
    const visitor = c.get('visitor');
    const conversation = await deps.conversationOf(visitor, body.conversation_id);
    if (!(await captureEmail(deps, visitor, conversation, body.email))) {
      throw new HttpError(404, 'conversation_not_found', 'No such conversation.');
    }
    return c.json({ ok: true });
  });

  app.post('/chat/handoff', visitorOnly, async (c) => {
    const body = await jsonBody(
      c,
      z.object({ conversation_id: uuid, reason: z.string().max(500).optional() }),
    );
    const visitor = c.get('visitor');
    const conversation = await deps.conversationOf(visitor, body.conversation_id);
    const updated = await db.asService(async (sql) => {
      const away = await awayNotice(sql, conversation.tenant_id, conversation.locale);
      const done = await handOff(
        sql,
        conversation.id,
        { reason: 'visitor', detail: body.reason ?? '' },
        away !== null,
      );
      if (!done) return { id: conversation.id, status: conversation.status };
      await sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'system', $2)`,
        [
          conversation.id,
          body.reason
            ? `Visitor asked for a person: ${body.reason}`
            : 'Visitor asked for a person.',
        ],
      );
      if (away) {
        await sql.query(
          `insert into public.messages (conversation_id, role, content) values ($1, 'assistant', $2)`,
          [conversation.id, away],
        );
      }
      return { id: conversation.id, status: 'handoff' };
    });
    return c.json({ conversation: updated });
  });
}
