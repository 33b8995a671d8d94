import type { Sql } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';
import { verifyIdentityHash } from '../_shared/identity/verify-identity.ts';

// The visitor's earlier conversations with a tenant, for the widget: those this browser session
// (the anonymous user) started, and those of the contact whose verified identity the request
// carries again, so a signed-in customer finds them on another device. Read as the service after
// these checks, and never an internal note.

export interface HistoryOwner {
  tenantId: string;
  visitorId: string;
  contactId: string | null;
}

/** The contact proved by `identifier` and its hash; null when none was given, 403 when wrong. */
export async function verifiedContact(
  sql: Sql,
  tenantId: string,
  visitor: { identifier: string; identityHash?: string | undefined } | undefined,
): Promise<string | null> {
  if (!visitor) return null;
  const [row] = await sql.query<{ identity_secret: string; contact_id: string | null }>(
    `select s.identity_secret,
            (select id from public.contacts where tenant_id = s.tenant_id and identifier = $2) as contact_id
       from public.tenant_secrets s where s.tenant_id = $1`,
    [tenantId, visitor.identifier],
  );
  const verified =
    !!row &&
    !!visitor.identityHash &&
    (await verifyIdentityHash(row.identity_secret, visitor.identifier, visitor.identityHash));
  if (!verified)
    throw new HttpError(403, 'identity_invalid', 'The identity could not be verified.');
  return row?.contact_id ?? null;
}

const OWNED = `c.tenant_id = $1 and (c.visitor_id = $2 or ($3::uuid is not null and c.contact_id = $3::uuid))`;

export function listConversations(sql: Sql, owner: HistoryOwner) {
  return sql.query(
    `select c.id, c.status, c.created_at, coalesce(c.last_message_at, c.created_at) as activity_at,
            (select left(m.content, 140) from public.messages m
              where m.conversation_id = c.id and not m.is_private and m.role <> 'system'
              order by m.created_at desc, m.id desc limit 1) as last_message
       from public.conversations c
      where ${OWNED}
      order by coalesce(c.last_message_at, c.created_at) desc, c.id desc
      limit 20`,
    [owner.tenantId, owner.visitorId, owner.contactId],
  );
}

export async function conversationTranscript(
  sql: Sql,
  owner: HistoryOwner,
  conversationId: string,
  columns: string,
) {
  const [conversation] = await sql.query<{ id: string; status: string }>(
    `select c.id, c.status from public.conversations c where c.id = $4 and ${OWNED}`,
    [owner.tenantId, owner.visitorId, owner.contactId, conversationId],
  );
  // Someone else's conversation and no conversation look the same from outside.
  if (!conversation) throw new HttpError(404, 'conversation_not_found', 'No such conversation.');
  const messages = await sql.query(
    `select ${columns} from public.messages
      where conversation_id = $1 and not is_private
      order by created_at, id limit 200`,
    [conversationId],
  );
  return { conversation, messages };
}

/**
 * One of the visitor's earlier conversations, taken up again in this browser session. Owned as
 * for the history, except that a conversation begun under a verified identity needs that identity
 * again. One from the same contact on another device moves to this session: the conversation's
 * visitor is who may read and write it (RLS, Realtime), and only one browser holds it at a time.
 * A WhatsApp conversation stays on WhatsApp: its replies go to the phone, not to a widget.
 */
export async function reopenConversation(sql: Sql, owner: HistoryOwner, conversationId: string) {
  const [conversation] = await sql.query<{
    id: string;
    tenant_id: string;
    status: string;
    identity_verified: boolean;
    created_at: string;
    visitor_id: string;
  }>(
    `select c.id, c.tenant_id, c.status, c.identity_verified, c.created_at, c.visitor_id
       from public.conversations c
      where c.id = $4 and ${OWNED} and ($3::uuid is not null or not c.identity_verified)
        and c.playground_by is null and c.channel = 'web'
      for update`,
    [owner.tenantId, owner.visitorId, owner.contactId, conversationId],
  );
  if (!conversation) throw new HttpError(404, 'conversation_not_found', 'No such conversation.');
  const { visitor_id, ...shown } = conversation;
  if (visitor_id !== owner.visitorId) {
    await sql.query('update public.conversations set visitor_id = $2 where id = $1', [
      conversationId,
      owner.visitorId,
    ]);
  }
  return shown;
}
