import { toSql } from 'pgvector';
import type { Db, JwtClaims, Sql } from '../../functions/_shared/db/port.ts';
import { hashingEmbedding } from '../../functions/_shared/embeddings/hashing.ts';

// Two tenants, their staff, two visitors of tenant A and a platform operator, with a row of every
// kind for each tenant: the cast of the security tests.

export const ACTORS = [
  'anon',
  'visitorA',
  'visitorB',
  'agentA',
  'adminA',
  'ownerA',
  'ownerB',
  'platformAdmin',
] as const;
export type Actor = (typeof ACTORS)[number];

export interface TenantRows {
  tenantId: string;
  conversationId: string;
  messageId: string;
  /** The bot's reply in that conversation (role assistant, with token counts). */
  assistantMessageId: string;
  privateNoteId: string;
  contactId: string;
  documentId: string;
  chunkId: string;
  /** A finished crawl of the tenant's site, with one page. */
  crawlId: string;
  tenantToolId: string;
  toolExecutionId: string;
  webhookEndpointId: string;
  subscriptionId: string;
  noticeId: string;
}

export interface World {
  users: Record<Exclude<Actor, 'anon'>, string>;
  claims: Record<Actor, JwtClaims>;
  a: TenantRows;
  b: TenantRows;
  /** visitorB's own conversation in tenant A. */
  conversationOfVisitorB: string;
  toolId: string;
  jobId: number;
  stripeEventId: string;
}

export function userClaims(id: string, anonymous = false): JwtClaims {
  return {
    sub: id,
    role: 'authenticated',
    aud: 'authenticated',
    is_anonymous: anonymous,
    email: anonymous ? '' : `${id.slice(0, 8)}@example.test`,
    session_id: crypto.randomUUID(),
  };
}

async function one<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T> {
  const rows = await sql.query<T>(text, params);
  if (!rows[0]) throw new Error(`no row from: ${text}`);
  return rows[0];
}

export async function createUser(sql: Sql, options: { anonymous?: boolean; email?: string } = {}) {
  // auth.users belongs to Auth (GoTrue), not to the API roles: service_role has no grant on it.
  // The test session's login role stands in for Auth's own role for this one statement; the role
  // the transaction was opened with is put back afterwards.
  const [{ role } = { role: 'service_role' }] = await sql.query<{ role: string }>(
    `select current_user as role, set_config('role', 'none', true)`,
  );
  const row = await one<{ id: string }>(
    sql,
    `insert into auth.users (email, is_anonymous, raw_app_meta_data)
     values ($1, $2, $3::jsonb) returning id`,
    [
      options.anonymous ? null : (options.email ?? `${crypto.randomUUID()}@example.test`),
      options.anonymous ?? false,
      { provider: options.anonymous ? 'anonymous' : 'email' },
    ],
  );
  await sql.query(`select set_config('role', $1, true)`, [role]);
  return row.id;
}

async function createTenantRows(
  sql: Sql,
  slug: string,
  owner: string,
  visitor: string,
  toolId: string,
): Promise<TenantRows> {
  const { id: tenantId } = await one<{ id: string }>(
    sql,
    `insert into public.tenants (name, slug, allowed_origins, plan_id) values ($1, $2, '{https://shop.example}', 'pro')
     returning id`,
    [`Tenant ${slug}`, slug],
  );
  await sql.query(
    `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner')`,
    [tenantId, owner],
  );
  const { id: contactId } = await one<{ id: string }>(
    sql,
    `insert into public.contacts (tenant_id, identifier, name) values ($1, 'cust-1', 'Customer One') returning id`,
    [tenantId],
  );
  const { id: conversationId } = await one<{ id: string }>(
    sql,
    `insert into public.conversations (tenant_id, visitor_id, contact_id) values ($1, $2, $3) returning id`,
    [tenantId, visitor, contactId],
  );
  const { id: messageId } = await one<{ id: string }>(
    sql,
    `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
     values ($1, $2, 'user', 'Where is my order?', 'c-1') returning id`,
    [conversationId, tenantId],
  );
  const { id: assistantMessageId } = await one<{ id: string }>(
    sql,
    `insert into public.messages (conversation_id, tenant_id, role, content, tokens_in, tokens_out)
     values ($1, $2, 'assistant', 'Let me check that for you.', 12, 8) returning id`,
    [conversationId, tenantId],
  );
  await sql.query(
    `insert into public.reply_groundings (message_id, tenant_id, conversation_id, question, engine)
     values ($1, $2, $3, 'Where is my order?', 'ai')`,
    [assistantMessageId, tenantId, conversationId],
  );
  await sql.query(
    `insert into public.answer_cache (tenant_id, question_hash, reply) values ($1, 'hash-1', 'Cached answer')`,
    [tenantId],
  );
  await sql.query(
    `insert into public.webhook_receipts (delivery_id, source, tenant_id) values (gen_random_uuid(), 'n8n-callback', $1)`,
    [tenantId],
  );
  const { id: privateNoteId } = await one<{ id: string }>(
    sql,
    `insert into public.messages (conversation_id, tenant_id, role, content, is_private, author_id)
     values ($1, $2, 'agent', 'VIP customer', true, $3) returning id`,
    [conversationId, tenantId, owner],
  );
  const { id: documentId } = await one<{ id: string }>(
    sql,
    `insert into public.documents (tenant_id, title, content, status) values ($1, 'Returns', 'Returns policy', 'ready')
     returning id`,
    [tenantId],
  );
  const { id: chunkId } = await one<{ id: string }>(
    sql,
    `insert into public.document_chunks (document_id, tenant_id, chunk_index, heading, content, embedding)
     values ($1, $2, 0, 'Returns', 'Return unused gear within 60 days.', $3::extensions.vector) returning id`,
    [documentId, tenantId, toSql(hashingEmbedding('Returns Return unused gear within 60 days.'))],
  );
  const { id: crawlId } = await one<{ id: string }>(
    sql,
    `insert into public.crawls (tenant_id, url, status) values ($1, 'https://shop.example/', 'done')
     returning id`,
    [tenantId],
  );
  await sql.query(
    `insert into public.crawl_pages (crawl_id, tenant_id, url, run, status, document_id)
     values ($1, $2, 'https://shop.example/', 1, 'fetched', $3)`,
    [crawlId, tenantId, documentId],
  );
  const { id: tenantToolId } = await one<{ id: string }>(
    sql,
    `insert into public.tenant_tools (tenant_id, tool_id, name, webhook_url)
     values ($1, $2, 'order_status', 'https://n8n.example/webhook/order') returning id`,
    [tenantId, toolId],
  );
  const { id: toolExecutionId } = await one<{ id: string }>(
    sql,
    `insert into public.tool_executions (tenant_id, tenant_tool_id, conversation_id, tool_name, call_id, success, attempts)
     values ($1, $2, $3, 'order_status', 'call-1', true, 1) returning id`,
    [tenantId, tenantToolId, conversationId],
  );
  const { id: webhookEndpointId } = await one<{ id: string }>(
    sql,
    `insert into public.webhook_endpoints (tenant_id, url) values ($1, 'https://hooks.example/parley') returning id`,
    [tenantId],
  );
  const { id: subscriptionId } = await one<{ id: string }>(
    sql,
    `insert into public.subscriptions (tenant_id, plan_id, status) values ($1, 'pro', 'active') returning id`,
    [tenantId],
  );
  await sql.query(
    `insert into public.usage_daily (tenant_id, day, user_messages) values ($1, current_date, 1)`,
    [tenantId],
  );
  const { id: noticeId } = await one<{ id: string }>(
    sql,
    `insert into public.tenant_notices (tenant_id, kind, dedupe_key, data)
     values ($1, 'quota_warning', 'bot_replies_per_month:world', '{"metric": "bot_replies_per_month"}')
     returning id`,
    [tenantId],
  );
  return {
    tenantId,
    conversationId,
    messageId,
    assistantMessageId,
    privateNoteId,
    contactId,
    documentId,
    chunkId,
    crawlId,
    tenantToolId,
    toolExecutionId,
    webhookEndpointId,
    subscriptionId,
    noticeId,
  };
}

export async function createWorld(db: Db): Promise<World> {
  return db.asService(async (sql) => {
    const users = {
      visitorA: await createUser(sql, { anonymous: true }),
      visitorB: await createUser(sql, { anonymous: true }),
      agentA: await createUser(sql),
      adminA: await createUser(sql),
      ownerA: await createUser(sql),
      ownerB: await createUser(sql),
      platformAdmin: await createUser(sql),
    };
    const { id: toolId } = await one<{ id: string }>(
      sql,
      `insert into public.tools (slug, name) values ($1, 'Order status') returning id`,
      [`order_status_${crypto.randomUUID().slice(0, 8)}`],
    );
    const suffix = crypto.randomUUID().slice(0, 8);
    const a = await createTenantRows(
      sql,
      `tenant-a-${suffix}`,
      users.ownerA,
      users.visitorA,
      toolId,
    );
    // Tenant B's visitor is visitorB too, so "visitor of another tenant" is covered as well.
    const b = await createTenantRows(
      sql,
      `tenant-b-${suffix}`,
      users.ownerB,
      users.visitorB,
      toolId,
    );
    await sql.query(
      `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent'), ($1, $3, 'admin')`,
      [a.tenantId, users.agentA, users.adminA],
    );
    await sql.query('insert into public.platform_admins (user_id) values ($1)', [
      users.platformAdmin,
    ]);
    const { id: conversationOfVisitorB } = await one<{ id: string }>(
      sql,
      `insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id`,
      [a.tenantId, users.visitorB],
    );
    const { id: jobId } = await one<{ id: number }>(
      sql,
      `select private.enqueue_job('reply', '{}'::jsonb, $1) as id`,
      [a.tenantId],
    );
    await sql.query(
      `insert into public.rate_limits (key, window_start, hits) values ('world', now(), 1)`,
    );
    const stripeEventId = `evt_${crypto.randomUUID().replaceAll('-', '')}`;
    await sql.query(
      `insert into public.stripe_events (id, type, created_at, payload) values ($1, 'customer.subscription.updated', now(), '{}')`,
      [stripeEventId],
    );
    const claims: Record<Actor, JwtClaims> = {
      anon: { role: 'anon' },
      visitorA: userClaims(users.visitorA, true),
      visitorB: userClaims(users.visitorB, true),
      agentA: userClaims(users.agentA),
      adminA: userClaims(users.adminA),
      ownerA: userClaims(users.ownerA),
      ownerB: userClaims(users.ownerB),
      platformAdmin: userClaims(users.platformAdmin),
    };
    return { users, claims, a, b, conversationOfVisitorB, toolId, jobId, stripeEventId };
  });
}
