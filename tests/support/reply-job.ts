import type { Sql } from '../../functions/_shared/db/port.ts';
import type { Job } from '../../functions/_shared/jobs/types.ts';
import { createUser } from './world.ts';

// A visitor's message waiting for its reply, and the reply job as the queue would hand it out:
// for tests that work the reply handler directly, without the functions in between.

export interface PendingReply {
  conversationId: string;
  messageId: string;
}

/** A new anonymous visitor's conversation with the tenant, holding one message. */
export async function visitorMessage(
  sql: Sql,
  tenantId: string,
  content: string,
): Promise<PendingReply> {
  const visitor = await createUser(sql, { anonymous: true });
  const [conversation] = await sql.query<{ id: string }>(
    'insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id',
    [tenantId, visitor],
  );
  const [message] = await sql.query<{ id: string }>(
    `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
     values ($1, $2, 'user', $3, 'm-1') returning id`,
    [conversation?.id, tenantId, content],
  );
  return { conversationId: conversation?.id as string, messageId: message?.id as string };
}

export function replyJob(id: number, pending: PendingReply): Job {
  return {
    id,
    tenant_id: null,
    kind: 'reply',
    payload: { message_id: pending.messageId, conversation_id: pending.conversationId },
    attempts: 1,
    max_attempts: 5,
    ordering_key: pending.conversationId,
  };
}
