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
    `select jsonb_build_object('id', m.id, 'content', concat_ws(E'\n\n', nullif(m.content, ''), private.attachment_note(m.attachments)), 'created_at', m.created_at) as message,
            jsonb_build_object(
              'id', c.id, 'tenant_id', c.tenant_id, 'status', c.status, 'locale', c.locale,
              'channel', c.channel,
              'contact', case when ct.id is null then null else jsonb_build_object(
                'id', ct.id, 'identifier', ct.identifier, 'name', ct.name, 'email', ct.email) end
            ) as conversation,
            jsonb_build_object(
              'id', t.id, 'name', t.name, 'bot_engine', t.bot_engine, 'bot_config', t.bot_config,
              'llm_config', t.llm_config, 'n8n_webhook_url', t.n8n_webhook_url,
              'handoff_rules', t.handoff_rules
            ) as tenant,
            jsonb_build_object(
              'llm_api_key', s.llm_api_key, 'n8n_secret', s.n8n_secret,
              'n8n_previous_secret', s.n8n_previous_secret,
              'n8n_previous_expires_at', s.n8n_previous_expires_at
            ) as secrets,
            (select r.id from public.messages r where r.in_reply_to = m.id and r.role = 'assistant') as existing_reply_id,
            -- The history in the same statement: one round trip for the whole context.
            (select coalesce(jsonb_agg(jsonb_build_object('role', h.role, 'content',
                                         concat_ws(E'\n\n', nullif(h.content, ''), private.attachment_note(h.attachments)))
                                       order by h.created_at, h.id), '[]'::jsonb)
               from (select role, content, attachments, created_at, id from public.messages
                      where conversation_id = m.conversation_id and not is_private and id <> m.id
                        and created_at <= m.created_at
                      order by created_at desc, id desc limit $2) h) as history,
            (select coalesce(jsonb_agg(to_jsonb(x) order by x.name), '[]'::jsonb)
               from (select id, name, description, parameters, webhook_url, secret, previous_secret,
                            previous_secret_expires_at, timeout_ms
                       from public.tenant_tools where tenant_id = t.id and enabled) x) as tools,
            exists (select 1 from public.bot_flows f where f.tenant_id = t.id and f.enabled)
              or exists (select 1 from private.flow_sessions fs where fs.conversation_id = c.id)
              as may_run_flow
       from public.messages m
       join public.conversations c on c.id = m.conversation_id
       join public.tenants t on t.id = c.tenant_id
       join public.tenant_secrets s on s.tenant_id = t.id
       left join public.contacts ct on ct.id = c.contact_id
      where m.id = $1`,
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
