import type { Sql } from '../db/port.ts';
import type { TenantTool } from './tenant-tool.ts';

export interface ReplyContext {
  message: { id: string; content: string; created_at: Date };
  conversation: {
    id: string;
    tenant_id: string;
    status: string;
    locale: string | null;
    /** web, whatsapp, …: where flows send files, and what they may say. */
    channel?: string;
    contact: { id: string; identifier: string; name: string | null; email: string | null } | null;
  };
  tenant: {
    id: string;
    name: string;
    bot_engine: 'ai' | 'n8n' | 'human';
    bot_config: Record<string, unknown>;
    llm_config: Record<string, unknown>;
    n8n_webhook_url: string | null;
    /** When to hand over before answering (tenants.handoff_rules). */
    handoff_rules?: unknown;
  };
  secrets: {
    llm_api_key: string | null;
    n8n_secret: string;
    n8n_previous_secret: string | null;
    n8n_previous_expires_at: Date | null;
  };
  /** Earlier public messages of the conversation, oldest first, not including `message`. */
  history: { role: 'user' | 'assistant' | 'agent' | 'system'; content: string }[];
  /** The reply already stored for this message, when a retried job finds its work done. */
  existingReplyId: string | null;
  /** The tenant's enabled tools, read with the rest so the model's turn costs no extra query. */
  tools?: TenantTool[];
  /**
   * Whether a keyword flow could answer: the tenant has an enabled flow or the conversation sits
   * in one. False lets the reply skip the flow's transaction, which would find nothing.
   */
  mayRunFlow?: boolean;
}

/**
 * Everything a reply needs, read as the service in one statement (one round trip): the message,
 * its conversation, tenant and secrets, the history, the tenant's tools and whether a flow may
 * answer. Null when the message is gone.
 */
export async function loadReplyContext(
  sql: Sql,
  messageId: string,
  historyLimit = 12,
): Promise<ReplyContext | null> {
  const [row] = await sql.query<{
    message: ReplyContext['message'];
    conversation: ReplyContext['conversation'];
    tenant: ReplyContext['tenant'];
    secrets: ReplyContext['secrets'];
    existing_reply_id: string | null;
    history: ReplyContext['history'];
    tools: (Omit<TenantTool, 'previous_secret_expires_at'> & {
      previous_secret_expires_at: string | null;
    })[];
    may_run_flow: boolean;
  }>(
    // A function, so the statement's plan is kept for the session (private.reply_context).
    'select * from private.reply_context($1, $2)',
    [messageId, historyLimit],
  );
  if (!row) return null;
  const history = row.history;
  const secrets = row.secrets;
  return {
    message: { ...row.message, created_at: new Date(row.message.created_at) },
    conversation: row.conversation,
    tenant: row.tenant,
    secrets: {
      ...secrets,
      n8n_previous_expires_at: secrets.n8n_previous_expires_at
        ? new Date(secrets.n8n_previous_expires_at)
        : null,
    },
    history,
    existingReplyId: row.existing_reply_id,
    tools: row.tools.map((tool) => ({
      ...tool,
      previous_secret_expires_at: tool.previous_secret_expires_at
        ? new Date(tool.previous_secret_expires_at)
        : null,
    })),
    mayRunFlow: row.may_run_flow,
  };
}
