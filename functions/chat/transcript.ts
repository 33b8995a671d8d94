import type { Hono } from 'hono';
import { z } from 'zod';
import type { Db, JwtClaims } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';
import { jsonBody } from '../_shared/http/validation.ts';
import { enforceRateLimits } from './limits.ts';
import type { requireVisitor, VisitorEnv } from './visitor.ts';

// A copy of the conversation by email, when the visitor asks for one (docs/api.md,
// "POST /chat/transcript"). Read as the visitor, so RLS keeps it to the visitor's own
// conversation, and the query itself leaves out staff-only notes. Sending goes through a mail
// port; without a mail service configured the message is logged, which is what the local
// stack does.

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export type Mailer = (mail: Mail) => Promise<void>;

/** The mailer used when no mail service is configured: the email goes to the function's log. */
export const logMailer =
  (log: (message: string) => void): Mailer =>
  async (mail) => {
    log(`email to ${mail.to}: ${mail.subject}\n${mail.text}`);
  };

const SPEAKERS: Record<string, string> = { user: 'You', assistant: 'Assistant', agent: 'Agent' };

export function transcriptText(
  tenantName: string,
  messages: {
    role: string;
    content: string;
    created_at: string | Date;
    attachments?: { name: string }[];
  }[],
): string {
  const lines = messages
    .filter((m) => m.role !== 'system')
    .map((m) => {
      const at = new Date(m.created_at).toISOString().slice(0, 16).replace('T', ' ');
      const files = (m.attachments ?? []).map((a) => `\n  [file] ${a.name}`).join('');
      return `[${at} UTC] ${SPEAKERS[m.role] ?? m.role}: ${m.content}${files}`;
    });
  return `Your conversation with ${tenantName}\n\n${lines.join('\n\n')}\n`;
}

interface TranscriptDeps {
  db: Db;
  mail: Mailer;
  perMinute: number;
  conversationOf(visitor: JwtClaims, id: string): Promise<{ id: string; tenant_id: string }>;
}

export function registerTranscriptRoutes(
  app: Hono<VisitorEnv>,
  deps: TranscriptDeps,
  visitorOnly: ReturnType<typeof requireVisitor>,
) {
  app.post('/chat/transcript', visitorOnly, async (c) => {
    const body = await jsonBody(
      c,
      z.object({
        conversation_id: z.string().uuid(),
        email: z.string().trim().toLowerCase().email().max(320),
      }),
    );
    const visitor = c.get('visitor');
    const conversation = await deps.conversationOf(visitor, body.conversation_id);
    // Each request counts, so the endpoint cannot be used to flood an inbox.
    await enforceRateLimits(deps.db, [
      [`transcript:visitor:${visitor.sub}`, deps.perMinute],
      [`transcript:conversation:${conversation.id}`, deps.perMinute],
    ]);
    // The tenant's name is not the visitor's to read under RLS; the conversation was checked above.
    const [tenant] = await deps.db.asService((sql) =>
      sql.query<{ name: string }>('select name from public.tenants where id = $1', [
        conversation.tenant_id,
      ]),
    );
    const name = tenant?.name ?? '';
    const { messages } = await deps.db.asUser(visitor, async (sql) => ({
      messages: await sql.query<{
        role: string;
        content: string;
        created_at: string;
        attachments: { name: string }[];
      }>(
        `select role, content, created_at, attachments from public.messages
          where conversation_id = $1 and not is_private
          order by created_at, id limit 1000`,
        [conversation.id],
      ),
    }));
    if (!messages.length)
      throw new HttpError(409, 'transcript_empty', 'Nothing has been said yet.');
    await deps.mail({
      to: body.email,
      subject: `Your conversation with ${name || 'us'}`,
      text: transcriptText(name, messages),
    });
    return c.json({ sent: true, to: body.email }, 202);
  });
}
