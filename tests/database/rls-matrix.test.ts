import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import {
  type CaseName,
  EXPECTATIONS,
  GLOBAL_TABLES,
  OPS,
  type Op,
} from '../support/rls-expectations.ts';
import { ACTORS, type Actor, createUser, createWorld, type World } from '../support/world.ts';

// The row level security matrix: every table in `public`, every actor, every operation, attempted
// the way PostgREST would run it (role anon/authenticated with request.jwt.claims) against tenant
// A's rows, compared with the expectations in tests/support/rls-expectations.ts (shared with the
// same matrix over HTTP). The expectations are written from the policies in supabase/migrations
// and the rules in DESIGN.md ("a visitor reads only its own conversations and their messages; a
// tenant member reads and writes only its tenant's rows, by role; a platform admin reads all; anon
// reads nothing"), not from running the code.
//
// Every attempt runs in its own transaction that is always rolled back, so the world is the same
// for every attempt (checked at the end).

// --- How each case is attempted ----------------------------------------------------------------

interface Ctx {
  w: World;
  /** A signed-up user belonging to no tenant. */
  spareUserId: string;
  /** A visitor message in visitorB's conversation in tenant A. */
  visitorBMessageId: string;
}

interface Target {
  /** Picks the target row(s) of tenant A; $n are bound to params. */
  where: string;
  params: (c: Ctx) => unknown[];
  /** A harmless assignment: it changes nothing but is an UPDATE all the same. */
  set: string;
  /**
   * A row that would be valid for tenant A, so that only RLS (or a privilege) can refuse it. May
   * use auth.uid() for "myself".
   */
  insert: (c: Ctx) => [sql: string, params: unknown[]];
}

const TARGETS: Record<CaseName, Target> = {
  plans: {
    where: `id = 'business'`,
    params: () => [],
    set: 'sort_order = sort_order',
    insert: () => [`insert into public.plans (id, name) values ('rls-test', 'RLS test')`, []],
  },
  tenants: {
    where: 'id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'name = name',
    insert: () => [`insert into public.tenants (name, slug) values ('RLS test', 'rls-test')`, []],
  },
  tenant_secrets: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'llm_api_key = llm_api_key',
    // Tenant A already has its row: RLS is checked before the primary key, so a refusal is 42501
    // and a 23505 means RLS let the row through.
    insert: (c) => [`insert into public.tenant_secrets (tenant_id) values ($1)`, [c.w.a.tenantId]],
  },
  tenant_members: {
    where: 'tenant_id = $1 and user_id = $2',
    params: (c) => [c.w.a.tenantId, c.w.users.agentA],
    set: 'display_name = display_name',
    insert: (c) => [
      `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
      [c.w.a.tenantId, c.spareUserId],
    ],
  },
  platform_admins: {
    where: 'user_id = $1',
    params: (c) => [c.w.users.platformAdmin],
    set: 'created_at = created_at',
    insert: (c) => [`insert into public.platform_admins (user_id) values ($1)`, [c.spareUserId]],
  },
  contacts: {
    where: 'id = $1',
    params: (c) => [c.w.a.contactId],
    set: 'name = name',
    insert: (c) => [
      `insert into public.contacts (tenant_id, identifier) values ($1, 'rls-contact')`,
      [c.w.a.tenantId],
    ],
  },
  conversations: {
    where: 'id = $1',
    params: (c) => [c.w.a.conversationId],
    set: 'page_url = page_url',
    insert: (c) => [`insert into public.conversations (tenant_id) values ($1)`, [c.w.a.tenantId]],
  },
  'conversations (visitorB’s)': {
    where: 'id = $1',
    params: (c) => [c.w.conversationOfVisitorB],
    set: 'page_url = page_url',
    insert: (c) => [
      `insert into public.conversations (tenant_id, visitor_id) values ($1, auth.uid())`,
      [c.w.a.tenantId],
    ],
  },
  messages: {
    where: 'id = $1',
    params: (c) => [c.w.a.messageId],
    set: 'content = content',
    insert: (c) => [
      `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
       values ($1, $2, 'user', 'Any news?', 'rls-visitor-1')`,
      [c.w.a.conversationId, c.w.a.tenantId],
    ],
  },
  'messages (visitorB’s)': {
    where: 'id = $1',
    params: (c) => [c.visitorBMessageId],
    set: 'content = content',
    insert: (c) => [
      `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
       values ($1, $2, 'user', 'Any news?', 'rls-visitor-1')`,
      [c.w.conversationOfVisitorB, c.w.a.tenantId],
    ],
  },
  'messages (staff reply)': {
    where: 'id = $1',
    params: (c) => [c.w.a.assistantMessageId],
    set: 'content = content',
    insert: (c) => [
      `insert into public.messages (conversation_id, tenant_id, role, content, author_id)
       values ($1, $2, 'agent', 'On its way.', auth.uid())`,
      [c.w.a.conversationId, c.w.a.tenantId],
    ],
  },
  'messages (private note)': {
    where: 'id = $1',
    params: (c) => [c.w.a.privateNoteId],
    set: 'content = content',
    insert: (c) => [
      `insert into public.messages (conversation_id, tenant_id, role, content, author_id, is_private)
       values ($1, $2, 'agent', 'Refund approved.', auth.uid(), true)`,
      [c.w.a.conversationId, c.w.a.tenantId],
    ],
  },
  documents: {
    where: 'id = $1',
    params: (c) => [c.w.a.documentId],
    set: 'title = title',
    insert: (c) => [
      `insert into public.documents (tenant_id, title, content) values ($1, 'Shipping', 'We ship.')`,
      [c.w.a.tenantId],
    ],
  },
  document_chunks: {
    where: 'id = $1',
    params: (c) => [c.w.a.chunkId],
    set: 'heading = heading',
    insert: (c) => [
      `insert into public.document_chunks (tenant_id, document_id, chunk_index, content)
       values ($1, $2, 99, 'Extra passage.')`,
      [c.w.a.tenantId, c.w.a.documentId],
    ],
  },
  crawls: {
    where: 'id = $1',
    params: (c) => [c.w.a.crawlId],
    set: 'resync = resync',
    insert: (c) => [
      `insert into public.crawls (tenant_id, url) values ($1, 'https://shop.example/help')`,
      [c.w.a.tenantId],
    ],
  },
  crawl_pages: {
    where: 'crawl_id = $1',
    params: (c) => [c.w.a.crawlId],
    set: 'depth = depth',
    insert: (c) => [
      `insert into public.crawl_pages (crawl_id, tenant_id, url, run)
       values ($1, $2, 'https://shop.example/more', 1)`,
      [c.w.a.crawlId, c.w.a.tenantId],
    ],
  },
  tools: {
    where: 'id = $1',
    params: (c) => [c.w.toolId],
    set: 'description = description',
    insert: () => [
      `insert into public.tools (slug, name) values ('rls_test_tool', 'RLS test')`,
      [],
    ],
  },
  tenant_tools: {
    where: 'id = $1',
    params: (c) => [c.w.a.tenantToolId],
    set: 'description = description',
    insert: (c) => [
      `insert into public.tenant_tools (tenant_id, name, webhook_url)
       values ($1, 'rls_tool', 'https://n8n.example/webhook/rls')`,
      [c.w.a.tenantId],
    ],
  },
  tool_executions: {
    where: 'id = $1',
    params: (c) => [c.w.a.toolExecutionId],
    set: 'error = error',
    insert: (c) => [
      `insert into public.tool_executions (tenant_id, tool_name, call_id) values ($1, 'x', 'rls-call')`,
      [c.w.a.tenantId],
    ],
  },
  webhook_endpoints: {
    where: 'id = $1',
    params: (c) => [c.w.a.webhookEndpointId],
    set: 'description = description',
    insert: (c) => [
      `insert into public.webhook_endpoints (tenant_id, url) values ($1, 'https://hooks.example/rls')`,
      [c.w.a.tenantId],
    ],
  },
  // Tenant A's endpoint has deliveries from the world's own conversations.
  webhook_deliveries: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'status = status',
    insert: (c) => [
      `insert into public.webhook_deliveries (tenant_id, endpoint_id, event, payload)
       values ($1, $2, 'conversation.created', '{}')`,
      [c.w.a.tenantId, c.w.a.webhookEndpointId],
    ],
  },
  tenant_invitations: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'role = role',
    insert: (c) => [
      `insert into public.tenant_invitations (tenant_id, email, role) values ($1, 'rls-new@example.test', 'agent')`,
      [c.w.a.tenantId],
    ],
  },
  // Tenant A's conversations have made its roll-up rows.
  analytics_hourly: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'conversations = conversations',
    insert: (c) => [
      `insert into public.analytics_hourly (tenant_id, hour) values ($1, '2000-01-01T00:00:00Z')`,
      [c.w.a.tenantId],
    ],
  },
  platform_audit_log: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'detail = detail',
    insert: (c) => [
      `insert into public.platform_audit_log (action, tenant_id) values ('view', $1)`,
      [c.w.a.tenantId],
    ],
  },
  canned_responses: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'content = content',
    insert: (c) => [
      `insert into public.canned_responses (tenant_id, shortcut, content) values ($1, 'rls-new', 'x')`,
      [c.w.a.tenantId],
    ],
  },
  widget_loads: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'loads = loads',
    insert: (c) => [
      `insert into public.widget_loads (tenant_id, origin, allowed) values ($1, 'https://rls-new.example', true)`,
      [c.w.a.tenantId],
    ],
  },
  subscriptions: {
    where: 'id = $1',
    params: (c) => [c.w.a.subscriptionId],
    set: 'cancel_at_period_end = cancel_at_period_end',
    // One subscription per tenant: as for tenant_secrets, 23505 would mean RLS let it through.
    insert: (c) => [`insert into public.subscriptions (tenant_id) values ($1)`, [c.w.a.tenantId]],
  },
  stripe_events: {
    where: 'id = $1',
    params: (c) => [c.w.stripeEventId],
    set: 'processed_at = processed_at',
    insert: () => [
      `insert into public.stripe_events (id, type, created_at, payload)
       values ('evt_rls_test', 'invoice.paid', now(), '{}')`,
      [],
    ],
  },
  agent_presence: {
    where: 'tenant_id = $1 and user_id = $2',
    params: (c) => [c.w.a.tenantId, c.w.users.agentA],
    set: 'status = status',
    insert: (c) => [
      `insert into public.agent_presence (tenant_id, user_id, status) values ($1, $2, 'online')`,
      [c.w.a.tenantId, c.w.users.adminA],
    ],
  },
  usage_daily: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'bot_messages = bot_messages',
    insert: (c) => [
      `insert into public.usage_daily (tenant_id, day) values ($1, current_date - 1)`,
      [c.w.a.tenantId],
    ],
  },
  tenant_notices: {
    where: 'id = $1',
    params: (c) => [c.w.a.noticeId],
    set: 'read_at = read_at',
    insert: (c) => [
      `insert into public.tenant_notices (tenant_id, kind) values ($1, 'plan_changed')`,
      [c.w.a.tenantId],
    ],
  },
  usage_counters: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'used = used',
    insert: (c) => [
      `insert into public.usage_counters (tenant_id, metric, period_start) values ($1, 'crawl_pages', '2000-01-01')`,
      [c.w.a.tenantId],
    ],
  },
  quota_spends: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'amount = amount',
    insert: (c) => [
      `insert into public.quota_spends (metric, ref, tenant_id, period_start, amount)
       values ('crawl_pages', 'rls-test', $1, current_date, 1)`,
      [c.w.a.tenantId],
    ],
  },
  jobs: {
    where: 'id = $1',
    params: (c) => [c.w.jobId],
    set: 'priority = priority',
    insert: (c) => [
      `insert into public.jobs (tenant_id, kind) values ($1, 'rls_test')`,
      [c.w.a.tenantId],
    ],
  },
  reply_groundings: {
    where: 'message_id = $1',
    params: (c) => [c.w.a.assistantMessageId],
    set: 'latency_ms = latency_ms',
    insert: (c) => [
      `insert into public.reply_groundings (message_id, tenant_id, conversation_id, question, engine)
       values ($1, $2, $3, 'q', 'ai')`,
      [c.w.a.messageId, c.w.a.tenantId, c.w.a.conversationId],
    ],
  },
  rate_limits: {
    where: `key = 'world'`,
    params: () => [],
    set: 'hits = hits',
    insert: () => [
      `insert into public.rate_limits (key, window_start, hits) values ('rls-test', now(), 1)`,
      [],
    ],
  },
  answer_cache: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'reply = reply',
    insert: (c) => [
      `insert into public.answer_cache (tenant_id, question_hash, reply) values ($1, 'rls-test', 'x')`,
      [c.w.a.tenantId],
    ],
  },
  webhook_receipts: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'source = source',
    insert: (c) => [
      `insert into public.webhook_receipts (delivery_id, source, tenant_id) values (gen_random_uuid(), 'rls-test', $1)`,
      [c.w.a.tenantId],
    ],
  },
  whatsapp_connections: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'label = label',
    insert: (c) => [
      `insert into public.whatsapp_connections (tenant_id, phone_number_id, access_token, app_secret, verify_token)
       values ($1, '1000000002', 't', 's', 'verify-rls-2')`,
      [c.w.a.tenantId],
    ],
  },
  whatsapp_templates: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'status = status',
    insert: (c) => [
      `insert into public.whatsapp_templates (tenant_id, connection_id, meta_id, name, language, status)
       values ($1, gen_random_uuid(), '2', 'rls_test_2', 'en_US', 'APPROVED')`,
      [c.w.a.tenantId],
    ],
  },
  whatsapp_broadcasts: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'name = name',
    insert: (c) => [
      `insert into public.whatsapp_broadcasts (tenant_id, connection_id, template_id, name)
       select tenant_id, connection_id, id, 'rls-new' from public.whatsapp_templates where tenant_id = $1 limit 1`,
      [c.w.a.tenantId],
    ],
  },
  whatsapp_broadcast_recipients: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'status = status',
    insert: (c) => [
      `insert into public.whatsapp_broadcast_recipients (broadcast_id, contact_id, tenant_id, wa_id)
       select b.id, k.id, b.tenant_id, '34999000002' from public.whatsapp_broadcasts b
         join public.contacts k on k.tenant_id = b.tenant_id and k.wa_id is null
        where b.tenant_id = $1 limit 1`,
      [c.w.a.tenantId],
    ],
  },
  bot_flows: {
    where: 'tenant_id = $1',
    params: (c) => [c.w.a.tenantId],
    set: 'enabled = enabled',
    insert: (c) => [
      `insert into public.bot_flows (tenant_id, name, triggers, definition)
       values ($1, 'rls-new', '{menu}', '{"steps": []}')`,
      [c.w.a.tenantId],
    ],
  },
  conversation_reads: {
    where: 'conversation_id = $1 and user_id = $2',
    params: (c) => [c.w.a.conversationId, c.w.users.agentA],
    set: 'last_read_at = last_read_at',
    insert: (c) => [
      `insert into public.conversation_reads (conversation_id, user_id) values ($1, auth.uid())`,
      [c.w.conversationOfVisitorB],
    ],
  },
};

const CASES = (Object.keys(EXPECTATIONS) as CaseName[]).map((name) => ({
  name,
  table: name.split(' (')[0] as string,
  expected: EXPECTATIONS[name],
  target: TARGETS[name],
}));

// --- Harness -----------------------------------------------------------------------------------

let local: LocalDatabase;
let db: Db;
let ctx: Ctx;
let worldBefore: Record<string, string>;

/** Thrown at the end of every attempt so that its transaction rolls back. */
class Rollback extends Error {}

/** Runs fn in one transaction as the actor, always rolled back; returns what fn returned. */
async function asActor<T>(actor: Actor, fn: (sql: Sql) => Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  try {
    await db.asUser(ctx.w.claims[actor], async (sql) => {
      result = { value: await fn(sql) };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  if (!result) throw new Error('attempt produced no result');
  return result.value;
}

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

/** Outcome of a statement that RLS may refuse by raising. */
async function refusedByRaising(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return false;
  } catch (error) {
    // insufficient_privilege: an RLS WITH CHECK violation or a missing (column) privilege.
    if (codeOf(error) === '42501') return true;
    throw error;
  }
}

async function refusedAsFalse(run: () => Promise<boolean>): Promise<boolean> {
  try {
    return await run();
  } catch (error) {
    if (codeOf(error) === '42501') return false;
    throw error;
  }
}

async function attempt(actor: Actor, op: Op, table: string, t: Target): Promise<boolean> {
  const params = t.params(ctx);
  return asActor(actor, async (sql) => {
    switch (op) {
      // A missing table privilege (42501) is a refusal too, one level before RLS.
      case 'select':
        return refusedAsFalse(
          async () =>
            (await sql.query(`select 1 from public.${table} where ${t.where}`, params)).length > 0,
        );
      case 'insert': {
        const [text, values] = t.insert(ctx);
        try {
          await sql.query(text, values);
          return true;
        } catch (error) {
          if (codeOf(error) === '42501') return false;
          // unique_violation is checked after RLS: the row got past the policies.
          if (codeOf(error) === '23505') return true;
          throw error;
        }
      }
      case 'update':
        try {
          const rows = await sql.query(
            `update public.${table} set ${t.set} where ${t.where} returning 1 as one`,
            params,
          );
          return rows.length > 0;
        } catch (error) {
          if (codeOf(error) === '42501') return false;
          throw error;
        }
      case 'delete':
        return refusedAsFalse(
          async () =>
            (
              await sql.query(
                `delete from public.${table} where ${t.where} returning 1 as one`,
                params,
              )
            ).length > 0,
        );
    }
  });
}

async function publicTables(): Promise<{ table: string; rls: boolean }[]> {
  return db.asService((sql) =>
    sql.query<{ table: string; rls: boolean }>(
      `select t.tablename as table, c.relrowsecurity as rls
         from pg_tables t
         join pg_class c on c.oid = format('%I.%I', t.schemaname, t.tablename)::regclass
        where t.schemaname = 'public'
        order by 1`,
    ),
  );
}

/** A fingerprint of every row of every public table, and of the stored broadcasts. */
async function fingerprint(): Promise<Record<string, string>> {
  const tables = (await publicTables()).map((t) => `public.${t.table}`);
  tables.push('realtime.messages', 'auth.users');
  const out: Record<string, string> = {};
  await db.asService(async (sql) => {
    await sql.query(`select set_config('role', 'none', true)`); // auth.users is Auth's
    for (const table of tables) {
      const [row] = await sql.query<{ n: number; h: string }>(
        `select count(*)::int as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h
           from ${table} t`,
      );
      out[table] = `${row?.n}:${row?.h}`;
    }
  });
  return out;
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  const w = await createWorld(db);
  const extras = await db.asService(async (sql) => {
    const spareUserId = await createUser(sql);
    const [message] = await sql.query<{ id: string }>(
      `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
       values ($1, $2, 'user', 'Hello from B', 'b-1') returning id`,
      [w.conversationOfVisitorB, w.a.tenantId],
    );
    await sql.query(
      `insert into public.conversation_reads (conversation_id, user_id) values ($1, $2)`,
      [w.a.conversationId, w.users.agentA],
    );
    await sql.query(
      `with c as (
         insert into public.whatsapp_connections (tenant_id, phone_number_id, access_token, app_secret, verify_token)
         values ($1, '1000000001', 't', 's', 'verify-rls-1') returning id, tenant_id)
       insert into public.whatsapp_templates (tenant_id, connection_id, meta_id, name, language, status)
       select tenant_id, id, '1', 'rls_test', 'en_US', 'APPROVED' from c`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.canned_responses (tenant_id, shortcut, content) values ($1, 'rls', 'Thanks!')`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.agent_presence (tenant_id, user_id, status) values ($1, $2, 'away')`,
      [w.a.tenantId, w.users.agentA],
    );
    await sql.query(
      `insert into public.widget_loads (tenant_id, origin, allowed) values ($1, 'https://rls.example', true)`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.bot_flows (tenant_id, name, triggers, definition)
       values ($1, 'rls', '{hello}', '{"steps": [{"id": "a", "type": "end", "text": "Hi"}]}')`,
      [w.a.tenantId],
    );
    await sql.query(
      `with b as (
         insert into public.whatsapp_broadcasts (tenant_id, connection_id, template_id, name)
         select tenant_id, connection_id, id, 'rls' from public.whatsapp_templates
          where tenant_id = $1 limit 1 returning id, tenant_id),
       k as (
         insert into public.contacts (tenant_id, identifier, wa_id, whatsapp_opt_in_at)
         values ($1, 'whatsapp:34999000001', '34999000001', now()) returning id)
       insert into public.whatsapp_broadcast_recipients (broadcast_id, contact_id, tenant_id, wa_id)
       select b.id, k.id, b.tenant_id, '34999000001' from b, k`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.tenant_invitations (tenant_id, email, role) values ($1, 'rls@example.test', 'agent')`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.platform_audit_log (actor_id, action, tenant_id) values ($1, 'view', $2)`,
      [w.users.platformAdmin, w.a.tenantId],
    );
    return { spareUserId, visitorBMessageId: message?.id as string };
  });
  ctx = { w, ...extras };
  worldBefore = await fingerprint();
}, 60_000);

afterAll(async () => {
  await local?.close();
});

// --- The matrix --------------------------------------------------------------------------------

describe('coverage', () => {
  it('every table in public has an expectations row and RLS enabled', async () => {
    const tables = await publicTables();
    expect(tables.length).toBeGreaterThan(0);
    const covered = new Set(CASES.map((c) => c.table));
    expect(tables.filter((t) => !covered.has(t.table)).map((t) => t.table)).toEqual([]);
    expect(tables.filter((t) => !t.rls).map((t) => t.table)).toEqual([]);
    // ...and no expectations for a table that does not exist.
    const existing = new Set(tables.map((t) => t.table));
    expect([...covered].filter((t) => !existing.has(t))).toEqual([]);
  });

  it.each(ACTORS)('%s runs as the PostgREST role with its own auth.uid()', async (actor) => {
    const [who] = await asActor(actor, (sql) =>
      sql.query<{ role: string; uid: string | null }>(
        'select current_user as role, auth.uid()::text as uid',
      ),
    );
    expect(who).toEqual({
      role: actor === 'anon' ? 'anon' : 'authenticated',
      uid: actor === 'anon' ? null : ctx.w.users[actor],
    });
  });
});

// Listed as "<case> > <actor> > <op>: allowed|denied".
for (const { name, table, expected, target } of CASES) {
  describe(name, () => {
    for (const actor of ACTORS) {
      describe(actor, () => {
        OPS.forEach((op, i) => {
          const allowed = expected[actor][i] !== '-';
          it(`${op}: ${allowed ? 'allowed' : 'denied'}`, async () => {
            expect(await attempt(actor, op, table, target)).toBe(allowed);
          });
        });
      });
    }
  });
}

// --- Explicit rules ----------------------------------------------------------------------------

/** Tables with a tenant_id column, plus tenants itself (keyed by id). */
async function tenantScopedTables(): Promise<{ table: string; key: string }[]> {
  const rows = await db.asService((sql) =>
    sql.query<{ table: string }>(
      `select table_name as table from information_schema.columns
        where table_schema = 'public' and column_name = 'tenant_id' order by 1`,
    ),
  );
  return [
    { table: 'tenants', key: 'id' },
    ...rows.map((r) => ({ table: r.table, key: 'tenant_id' })),
  ];
}

describe('tenant isolation', () => {
  it('the tenant-scoped tables are all the non-global ones', async () => {
    const scoped = (await tenantScopedTables()).map((t) => t.table).sort();
    const all = (await publicTables()).map((t) => t.table).filter((t) => !GLOBAL_TABLES.has(t));
    // jobs has a tenant_id but is the service's; it is in both lists, which is fine.
    expect(all.filter((t) => !scoped.includes(t))).toEqual([]);
  });

  it('ownerB reads, updates and deletes nothing of tenant A in any table', async () => {
    const found: Record<string, number[]> = {};
    for (const { table, key } of await tenantScopedTables()) {
      const set = table === 'tenants' ? 'name = name' : 'tenant_id = tenant_id';
      found[table] = await asActor('ownerB', async (sql) => {
        const counts: number[] = [];
        // Each statement in a savepoint: a refused privilege (42501) counts as nothing touched.
        const q = async (text: string) => {
          await sql.query('savepoint attempt');
          try {
            counts.push((await sql.query(text, [ctx.w.a.tenantId])).length);
          } catch (error) {
            if (codeOf(error) !== '42501') throw error;
            await sql.query('rollback to savepoint attempt');
            counts.push(0);
          }
        };
        await q(`select 1 from public.${table} where ${key} = $1`);
        await q(`update public.${table} set ${set} where ${key} = $1 returning 1`);
        await q(`delete from public.${table} where ${key} = $1 returning 1`);
        return counts;
      });
    }
    expect(Object.entries(found).filter(([, counts]) => counts.some((n) => n > 0))).toEqual([]);
    // ...while the same queries do see ownerB's own tenant (the check is not vacuous).
    const own = await asActor('ownerB', (sql) =>
      sql.query('select 1 from public.documents where tenant_id = $1', [ctx.w.b.tenantId]),
    );
    expect(own.length).toBe(1);
  });

  it('ownerB cannot insert a row for tenant A in any table', () => {
    // Covered cell by cell by the matrix (ownerB → insert: false for every tenant-scoped case);
    // restated here so that the rule has a name.
    for (const c of CASES.filter((c) => !GLOBAL_TABLES.has(c.table))) {
      expect(c.expected.ownerB[1], c.name).toBe('-');
    }
  });

  const MOVES: { table: string; id: (w: World) => string }[] = [
    { table: 'contacts', id: (w) => w.b.contactId },
    { table: 'conversations', id: (w) => w.b.conversationId },
    { table: 'messages', id: (w) => w.b.messageId },
    { table: 'documents', id: (w) => w.b.documentId },
    { table: 'document_chunks', id: (w) => w.b.chunkId },
    { table: 'tenant_tools', id: (w) => w.b.tenantToolId },
    { table: 'webhook_endpoints', id: (w) => w.b.webhookEndpointId },
  ];
  it.each(MOVES)('ownerB cannot move its own $table row into tenant A', async ({ table, id }) => {
    const moved = await asActor('ownerB', (sql) =>
      refusedByRaising(() =>
        sql.query(`update public.${table} set tenant_id = $1 where id = $2`, [
          ctx.w.a.tenantId,
          id(ctx.w),
        ]),
      ),
    );
    expect(moved).toBe(true);
  });

  it('ownerB cannot move its chunk under tenant A’s document', async () => {
    // The chunk's tenant follows its document (trigger), so the policy sees tenant A and refuses.
    const refused = await asActor('ownerB', (sql) =>
      refusedByRaising(() =>
        sql.query('update public.document_chunks set document_id = $1 where id = $2', [
          ctx.w.a.documentId,
          ctx.w.b.chunkId,
        ]),
      ),
    );
    expect(refused).toBe(true);
  });

  // messages_update only checks membership of the row's tenant, so moving a message of B into a
  // conversation of A must be stopped by the messages_stay_put trigger: visitorA would otherwise
  // read it as part of its conversation and receive it on conversation:<A's id>.
  it('ownerB cannot move its own message into a conversation of tenant A', async () => {
    const { moved, seenByVisitorA } = await asActor('ownerB', async (sql) => {
      let moved = 0;
      await sql.query('savepoint move_attempt');
      try {
        moved = (
          await sql.query(
            `update public.messages set conversation_id = $1, content = 'Tenant A support here'
              where id = $2 returning 1`,
            [ctx.w.a.conversationId, ctx.w.b.assistantMessageId],
          )
        ).length;
      } catch (error) {
        if (codeOf(error) !== '42501') throw error;
        await sql.query('rollback to savepoint move_attempt');
      }
      await sql.query(`select set_config('request.jwt.claims', $1, true)`, [
        JSON.stringify(ctx.w.claims.visitorA),
      ]);
      const seen = await sql.query('select 1 from public.messages where id = $1', [
        ctx.w.b.assistantMessageId,
      ]);
      return { moved, seenByVisitorA: seen.length };
    });
    expect({ moved, seenByVisitorA }).toEqual({ moved: 0, seenByVisitorA: 0 });
  });
});

describe('visitors', () => {
  it('visitorB cannot read visitorA’s conversation or its messages', async () => {
    const seen = await asActor('visitorB', async (sql) => ({
      conversation: (
        await sql.query('select 1 from public.conversations where id = $1', [
          ctx.w.a.conversationId,
        ])
      ).length,
      messages: (
        await sql.query('select 1 from public.messages where conversation_id = $1', [
          ctx.w.a.conversationId,
        ])
      ).length,
    }));
    expect(seen).toEqual({ conversation: 0, messages: 0 });
  });

  it('visitorB cannot post into visitorA’s conversation', async () => {
    const refused = await asActor('visitorB', (sql) =>
      refusedByRaising(() =>
        sql.query(
          `insert into public.messages (conversation_id, tenant_id, role, content)
           values ($1, $2, 'user', 'hijack')`,
          [ctx.w.a.conversationId, ctx.w.a.tenantId],
        ),
      ),
    );
    expect(refused).toBe(true);
  });

  it('a visitor sees the public messages of its conversation but never a private note', async () => {
    const rows = await asActor('visitorA', (sql) =>
      sql.query<{ id: string; is_private: boolean }>(
        'select id, is_private from public.messages where conversation_id = $1 order by created_at',
        [ctx.w.a.conversationId],
      ),
    );
    expect(rows.map((r) => r.id).sort()).toEqual(
      [ctx.w.a.messageId, ctx.w.a.assistantMessageId].sort(),
    );
    expect(rows.some((r) => r.is_private)).toBe(false);
    const anyPrivate = await asActor('visitorA', (sql) =>
      sql.query('select 1 from public.messages where is_private'),
    );
    expect(anyPrivate).toEqual([]);
  });

  it('a visitor cannot post a private note, a staff message or spend tokens', async () => {
    const attempts = [
      `insert into public.messages (conversation_id, tenant_id, role, content, is_private)
       values ($1, $2, 'user', 'x', true)`,
      `insert into public.messages (conversation_id, tenant_id, role, content, author_id)
       values ($1, $2, 'agent', 'x', auth.uid())`,
      `insert into public.messages (conversation_id, tenant_id, role, content)
       values ($1, $2, 'assistant', 'x')`,
      `insert into public.messages (conversation_id, tenant_id, role, content, tokens_in)
       values ($1, $2, 'user', 'x', 5)`,
    ];
    for (const text of attempts) {
      const refused = await asActor('visitorA', (sql) =>
        refusedByRaising(() => sql.query(text, [ctx.w.a.conversationId, ctx.w.a.tenantId])),
      );
      expect(refused, text).toBe(true);
    }
  });

  it.each(['visitorA', 'visitorB'] as const)(
    'an anonymous visitor (%s) cannot insert a conversation',
    async (actor) => {
      for (const tenantId of [ctx.w.a.tenantId, ctx.w.b.tenantId]) {
        const refused = await asActor(actor, (sql) =>
          refusedByRaising(() =>
            sql.query(
              'insert into public.conversations (tenant_id, visitor_id) values ($1, auth.uid())',
              [tenantId],
            ),
          ),
        );
        expect(refused).toBe(true);
      }
    },
  );

  it('a visitor cannot edit its own conversation (status, csat) directly', async () => {
    const updated = await asActor(
      'visitorA',
      async (sql) =>
        (
          await sql.query(
            `update public.conversations set status = 'handoff', csat = 5 where id = $1 returning 1`,
            [ctx.w.a.conversationId],
          )
        ).length,
    );
    expect(updated).toBe(0);
  });
});

describe('column privileges and roles', () => {
  const LOCKED = [
    ['plan_id', `'business'`],
    ['status', `'suspended'`],
    ['widget_key', `'pk_stolen_key_123'`],
  ] as const;
  const EDITORS = ['adminA', 'ownerA'] as const;
  it.each(EDITORS.flatMap((actor) => LOCKED.map(([column, value]) => ({ actor, column, value }))))(
    '$actor cannot change tenants.$column (column privilege)',
    async ({ actor, column, value }) => {
      const refused = await asActor(actor, (sql) =>
        refusedByRaising(() =>
          sql.query(`update public.tenants set ${column} = ${value} where id = $1`, [
            ctx.w.a.tenantId,
          ]),
        ),
      );
      expect(refused).toBe(true);
    },
  );

  it('an owner can change the granted tenant columns', async () => {
    const rows = await asActor('ownerA', (sql) =>
      sql.query<{ name: string }>(
        `update public.tenants set name = 'Renamed', enforce_identity = true where id = $1
         returning name`,
        [ctx.w.a.tenantId],
      ),
    );
    expect(rows).toEqual([{ name: 'Renamed' }]);
  });

  it('an admin cannot promote themselves to owner', async () => {
    const promoted = await asActor(
      'adminA',
      async (sql) =>
        (
          await sql.query(
            `update public.tenant_members set role = 'owner'
            where tenant_id = $1 and user_id = auth.uid() returning 1`,
            [ctx.w.a.tenantId],
          )
        ).length,
    );
    expect(promoted).toBe(0);
  });

  it('an admin cannot promote an agent, add an admin/owner, or touch the owner', async () => {
    const { a, users } = ctx.w;
    const promoteAgent = await asActor('adminA', (sql) =>
      refusedByRaising(() =>
        sql.query(
          `update public.tenant_members set role = 'owner' where tenant_id = $1 and user_id = $2`,
          [a.tenantId, users.agentA],
        ),
      ),
    );
    expect(promoteAgent).toBe(true);
    for (const role of ['admin', 'owner']) {
      const added = await asActor('adminA', (sql) =>
        refusedByRaising(() =>
          sql.query(
            'insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, $3)',
            [a.tenantId, ctx.spareUserId, role],
          ),
        ),
      );
      expect(added, role).toBe(true);
    }
    const touched = await asActor('adminA', async (sql) => [
      (
        await sql.query(
          `update public.tenant_members set role = 'agent' where tenant_id = $1 and user_id = $2
           returning 1`,
          [a.tenantId, users.ownerA],
        )
      ).length,
      (
        await sql.query(
          'delete from public.tenant_members where tenant_id = $1 and user_id = $2 returning 1',
          [a.tenantId, users.ownerA],
        )
      ).length,
    ]);
    expect(touched).toEqual([0, 0]);
  });

  it('the last owner can be neither removed nor demoted', async () => {
    for (const text of [
      'delete from public.tenant_members where tenant_id = $1 and user_id = auth.uid()',
      `update public.tenant_members set role = 'admin' where tenant_id = $1 and user_id = auth.uid()`,
    ]) {
      const error = await asActor('ownerA', (sql) =>
        sql.query(text, [ctx.w.a.tenantId]).then(
          () => null,
          (e: unknown) => e,
        ),
      );
      expect(codeOf(error), text).toBe('P0001');
      expect(String((error as Error).message)).toMatch(/at least one owner/);
    }
  });

  it('an owner can leave once there is another owner', async () => {
    const left = await asActor('ownerA', async (sql) => {
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner')`,
        [ctx.w.a.tenantId, ctx.spareUserId],
      );
      return (
        await sql.query(
          'delete from public.tenant_members where tenant_id = $1 and user_id = auth.uid() returning 1',
          [ctx.w.a.tenantId],
        )
      ).length;
    });
    expect(left).toBe(1);
  });

  it.each(ACTORS.filter((a) => a !== 'anon'))(
    '%s cannot make itself a platform admin',
    async (actor) => {
      const refused = await asActor(actor, (sql) =>
        refusedByRaising(() =>
          sql.query('insert into public.platform_admins (user_id) values (auth.uid())'),
        ),
      );
      expect(refused).toBe(true);
    },
  );
});

describe('rating RPCs', () => {
  const rateMessage = (actor: Actor, messageId: () => string, feedback = 1) =>
    asActor(actor, async (sql) => {
      try {
        const [row] = await sql.query<{ ok: boolean }>(
          'select public.rate_message($1, $2::smallint) as ok',
          [messageId(), feedback],
        );
        return row?.ok ?? null;
      } catch (error) {
        return codeOf(error) ?? String(error);
      }
    });
  const rateConversation = (actor: Actor, conversationId: () => string, csat = 5) =>
    asActor(actor, async (sql) => {
      try {
        const [row] = await sql.query<{ ok: boolean }>(
          `select public.rate_conversation($1, $2::smallint, 'Great help') as ok`,
          [conversationId(), csat],
        );
        return row?.ok ?? null;
      } catch (error) {
        return codeOf(error) ?? String(error);
      }
    });

  // true: rated; false: refused quietly; '42501': anon may not even call it.
  const expectedFor = (actor: Actor, visitor: Actor) =>
    actor === 'anon' ? '42501' : actor === visitor;

  it.each(ACTORS)(
    'rate_message on the bot reply of visitorA’s conversation, as %s',
    async (actor) => {
      expect(await rateMessage(actor, () => ctx.w.a.assistantMessageId)).toBe(
        expectedFor(actor, 'visitorA'),
      );
    },
  );

  it.each(ACTORS)('rate_conversation on visitorA’s conversation, as %s', async (actor) => {
    expect(await rateConversation(actor, () => ctx.w.a.conversationId)).toBe(
      expectedFor(actor, 'visitorA'),
    );
  });

  it.each(ACTORS)('rate_conversation on visitorB’s conversation, as %s', async (actor) => {
    expect(await rateConversation(actor, () => ctx.w.conversationOfVisitorB)).toBe(
      expectedFor(actor, 'visitorB'),
    );
  });

  it('the visitor’s rating lands on the row, and only on bot replies', async () => {
    const after = await asActor('visitorA', async (sql) => {
      await sql.query('select public.rate_message($1, $2::smallint)', [
        ctx.w.a.assistantMessageId,
        -1,
      ]);
      await sql.query(`select public.rate_conversation($1, 4::smallint, 'ok')`, [
        ctx.w.a.conversationId,
      ]);
      const [m] = await sql.query<{ feedback: number }>(
        'select feedback from public.messages where id = $1',
        [ctx.w.a.assistantMessageId],
      );
      const [c] = await sql.query<{ csat: number; csat_comment: string }>(
        'select csat, csat_comment from public.conversations where id = $1',
        [ctx.w.a.conversationId],
      );
      return { feedback: m?.feedback, csat: c?.csat, comment: c?.csat_comment };
    });
    expect(after).toEqual({ feedback: -1, csat: 4, comment: 'ok' });
    // Its own message and the private note are not bot replies.
    expect(await rateMessage('visitorA', () => ctx.w.a.messageId)).toBe(false);
    expect(await rateMessage('visitorA', () => ctx.w.a.privateNoteId)).toBe(false);
  });

  it('out-of-range ratings are rejected', async () => {
    expect(await rateMessage('visitorA', () => ctx.w.a.assistantMessageId, 5)).toBe('22023');
    expect(await rateConversation('visitorA', () => ctx.w.a.conversationId, 6)).toBe('22023');
  });
});

describe('function privileges', () => {
  // The policy helpers the API roles need; everything else in private is the service's.
  // Policy and constraint helpers run as the caller: storage policies on attachments, the URL
  // check behind tenant URL constraints, and the text-search configuration of a chunk's language.
  const GRANTED_HELPERS = [
    'private.attachment_conversation_matches',
    // Pure functions a message's check constraint and event payload call as the writer.
    'private.attachment_note',
    'private.can_read_attachment',
    'private.can_receive_knowledge',
    'private.can_use_topic',
    'private.can_write_attachment',
    'private.chunk_fts',
    'private.detect_text_config',
    'private.has_tenant_role',
    'private.is_conversation_visitor',
    'private.is_localized_list',
    'private.is_localized_text',
    'private.is_member',
    'private.is_platform_admin',
    'private.is_text_list',
    'private.member_tenant_ids',
    'private.note_staff_read',
    'private.outbound_url_problem',
    'private.staff_conversation',
    'private.storage_path_uuid',
    'private.tenant_role',
    'private.tenant_settings_problem',
    'private.text_config_for',
    'private.valid_attachments',
    'private.valid_bot_config',
    'private.valid_business_hours',
    'private.valid_handoff_rules',
    'private.valid_launcher',
    'private.valid_prechat_form',
    'private.valid_proactive',
    'private.valid_rich',
    'private.valid_rich_button',
    'private.valid_sources',
    'private.visitor_can_post',
    // The chat API's visitor statements, kept as functions for their plans: they run as the
    // caller, so the row policies decide what they read and insert.
    'private.visitor_conversation',
    'private.visitor_message_by_client_id',
    'private.visitor_post_message',
  ];

  /** Functions of a schema (trigger functions aside) that a role can actually call. */
  const callable = (role: string, schema: string) =>
    db.asService(async (sql) =>
      (
        await sql.query<{ f: string }>(
          `select n.nspname || '.' || p.proname as f
             from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = $2 and p.prorettype <> 'trigger'::regtype
              and has_schema_privilege($1, n.oid, 'USAGE')
              and has_function_privilege($1, p.oid, 'EXECUTE')
            order by 1`,
          [role, schema],
        )
      ).map((r) => r.f),
    );

  it('anon can call nothing in private or public', async () => {
    expect(await callable('anon', 'private')).toEqual([]);
    expect(await callable('anon', 'public')).toEqual([]);
  });

  it('authenticated can call exactly the public RPCs', async () => {
    expect(await callable('authenticated', 'public')).toEqual([
      'public.accept_invitation',
      'public.analytics_daily',
      'public.assign_conversation',
      'public.bot_secrets_status',
      'public.conversation_history',
      'public.conversation_metrics_by_agent',
      'public.conversation_metrics_daily',
      'public.create_whatsapp_broadcast',
      'public.create_workspace',
      'public.hand_back_to_bot',
      'public.invite_member',
      'public.mark_conversation_read',
      'public.match_document_chunks',
      'public.platform_tenants',
      'public.platform_view_tenant',
      'public.post_agent_message',
      'public.rate_conversation',
      'public.rate_message',
      'public.record_platform_view',
      'public.recrawl',
      'public.redeliver_webhook',
      'public.reopen_conversation',
      'public.resolve_conversation',
      'public.resume_tenant',
      'public.rotate_identity_secret',
      'public.rotate_n8n_secret',
      'public.rotate_tool_secret',
      'public.rotate_widget_key',
      'public.search_conversations',
      'public.send_agent_typing',
      'public.send_whatsapp_attachment',
      'public.send_whatsapp_template',
      'public.set_agent_presence',
      'public.set_llm_api_key',
      'public.set_whatsapp_broadcast_paused',
      'public.suspend_tenant',
      'public.sync_whatsapp_templates',
      'public.take_over_conversation',
      'public.team_members',
      'public.tenant_agents',
      'public.tenant_usage',
      'public.tool_stats',
      'public.usage_history',
      'public.whatsapp_broadcast_summary',
      'public.whatsapp_connection_settings',
      'public.whatsapp_window_closes_at',
    ]);
  });

  // Postgres grants EXECUTE to PUBLIC on every new function unless the global default privilege
  // says otherwise: without that, any visitor could run private.run_retention or claim_jobs.
  it('authenticated can call only the policy helpers in private', async () => {
    expect(await callable('authenticated', 'private')).toEqual(GRANTED_HELPERS);
  });
});

describe('integrity guards', () => {
  const codeOfRaised = async (actor: Actor, text: string, params: unknown[]) =>
    asActor(actor, async (sql) => {
      try {
        await sql.query(text, params);
        return 'ok';
      } catch (error) {
        return codeOf(error);
      }
    });

  it('a visitor cannot backdate a message or forge its status, sources or quick replies', async () => {
    const stamped = await asActor('visitorA', async (sql) => {
      const [row] = await sql.query<{ created_at: Date }>(
        `insert into public.messages (conversation_id, tenant_id, role, content, created_at)
         values ($1, $2, 'user', 'hello', now() - interval '40 days') returning created_at`,
        [ctx.w.a.conversationId, ctx.w.a.tenantId],
      );
      return row?.created_at;
    });
    expect(Date.now() - (stamped as Date).getTime()).toBeLessThan(60_000);
    for (const [column, value] of [
      ['status', 'read'],
      ['sources', '[{"title":"fake"}]'],
      ['quick_replies', '["Click me"]'],
    ] as const) {
      const cast = column === 'status' ? '' : '::jsonb';
      expect(
        await codeOfRaised(
          'visitorA',
          `insert into public.messages (conversation_id, tenant_id, role, content, ${column})
           values ($1, $2, 'user', 'hi', $3::text${cast})`,
          [ctx.w.a.conversationId, ctx.w.a.tenantId, value],
        ),
      ).toBe('42501');
    }
  });

  it("a conversation cannot point at another tenant's contact", async () => {
    expect(
      await codeOfRaised(
        'ownerB',
        'update public.conversations set contact_id = $1 where id = $2',
        [ctx.w.a.contactId, ctx.w.b.conversationId],
      ),
    ).toBe('23503');
  });

  it('a conversation is assigned only to a member of its tenant', async () => {
    expect(
      await codeOfRaised(
        'ownerA',
        'update public.conversations set assignee_id = $1 where id = $2',
        [ctx.w.users.ownerB, ctx.w.a.conversationId],
      ),
    ).toBe('23514');
    expect(
      await codeOfRaised(
        'ownerA',
        'update public.conversations set assignee_id = $1 where id = $2',
        [ctx.w.users.agentA, ctx.w.a.conversationId],
      ),
    ).toBe('ok');
  });

  it('a row never moves to another tenant, even for a member of both', async () => {
    const both = ctx.w.users.ownerA;
    await db.asService((sql) =>
      sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner')`,
        [ctx.w.b.tenantId, both],
      ),
    );
    try {
      expect(
        await codeOfRaised('ownerA', 'update public.documents set tenant_id = $1 where id = $2', [
          ctx.w.b.tenantId,
          ctx.w.a.documentId,
        ]),
      ).toBe('42501');
      expect(
        await codeOfRaised(
          'ownerA',
          'update public.document_chunks set document_id = $1 where id = $2',
          [ctx.w.b.documentId, ctx.w.a.chunkId],
        ),
      ).toBe('42501');
    } finally {
      await db.asService((sql) =>
        sql.query('delete from public.tenant_members where tenant_id = $1 and user_id = $2', [
          ctx.w.b.tenantId,
          both,
        ]),
      );
    }
  });
});

describe('after all attempts', () => {
  it('the world is unchanged', async () => {
    expect(await fingerprint()).toEqual(worldBefore);
  });
});
