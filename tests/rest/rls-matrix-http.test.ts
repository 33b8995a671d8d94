import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import {
  type CaseName,
  EXPECTATIONS,
  GLOBAL_TABLES,
  OPS,
  type Op,
} from '../support/rls-expectations.ts';
import { type StackProcess, startStack } from '../support/stack.ts';
import { ACTORS, type Actor, createUser, createWorld, type World } from '../support/world.ts';

// The row level security matrix again, this time over HTTP: every case of the shared written
// expectations, every actor, every operation, sent through /rest/v1 by supabase-js with the
// actor's own access token, as the admin SPA and the widget send them. The Data API must give
// exactly the SQL matrix's answers.
//
// HTTP requests commit, so the database is put back after every write that went through: all
// rows of public are copied once into a side schema and copied back (triggers off) afterwards.

interface Ctx {
  w: World;
  spareUserId: string;
  visitorBMessageId: string;
}

interface HttpTarget {
  /** Equality filters that pick tenant A's target row(s). */
  match: (c: Ctx) => Record<string, string | number>;
  /** A column set to the value it already has: an UPDATE that changes nothing. */
  column: string;
  /** A row that would be valid for tenant A; `self` is the actor's user id (auth.uid()). */
  insert: (c: Ctx, self: string | null) => Record<string, unknown>;
}

const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

const TARGETS: Record<CaseName, HttpTarget> = {
  plans: {
    match: () => ({ id: 'business' }),
    column: 'sort_order',
    insert: () => ({ id: 'rls-test', name: 'RLS test' }),
  },
  tenants: {
    match: (c) => ({ id: c.w.a.tenantId }),
    column: 'name',
    insert: () => ({ name: 'RLS test', slug: 'rls-test' }),
  },
  tenant_secrets: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'llm_api_key',
    insert: (c) => ({ tenant_id: c.w.a.tenantId }),
  },
  tenant_members: {
    match: (c) => ({ tenant_id: c.w.a.tenantId, user_id: c.w.users.agentA }),
    column: 'display_name',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, user_id: c.spareUserId, role: 'agent' }),
  },
  platform_admins: {
    match: (c) => ({ user_id: c.w.users.platformAdmin }),
    column: 'created_at',
    insert: (c) => ({ user_id: c.spareUserId }),
  },
  contacts: {
    match: (c) => ({ id: c.w.a.contactId }),
    column: 'name',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, identifier: 'rls-contact' }),
  },
  conversations: {
    match: (c) => ({ id: c.w.a.conversationId }),
    column: 'page_url',
    insert: (c) => ({ tenant_id: c.w.a.tenantId }),
  },
  'conversations (visitorB’s)': {
    match: (c) => ({ id: c.w.conversationOfVisitorB }),
    column: 'page_url',
    insert: (c, self) => ({ tenant_id: c.w.a.tenantId, visitor_id: self }),
  },
  messages: {
    match: (c) => ({ id: c.w.a.messageId }),
    column: 'content',
    insert: (c) => ({
      conversation_id: c.w.a.conversationId,
      tenant_id: c.w.a.tenantId,
      role: 'user',
      content: 'Any news?',
      client_msg_id: 'rls-visitor-1',
    }),
  },
  'messages (visitorB’s)': {
    match: (c) => ({ id: c.visitorBMessageId }),
    column: 'content',
    insert: (c) => ({
      conversation_id: c.w.conversationOfVisitorB,
      tenant_id: c.w.a.tenantId,
      role: 'user',
      content: 'Any news?',
      client_msg_id: 'rls-visitor-1',
    }),
  },
  'messages (staff reply)': {
    match: (c) => ({ id: c.w.a.assistantMessageId }),
    column: 'content',
    insert: (c, self) => ({
      conversation_id: c.w.a.conversationId,
      tenant_id: c.w.a.tenantId,
      role: 'agent',
      content: 'On its way.',
      author_id: self,
    }),
  },
  'messages (private note)': {
    match: (c) => ({ id: c.w.a.privateNoteId }),
    column: 'content',
    insert: (c, self) => ({
      conversation_id: c.w.a.conversationId,
      tenant_id: c.w.a.tenantId,
      role: 'agent',
      content: 'Refund approved.',
      author_id: self,
      is_private: true,
    }),
  },
  documents: {
    match: (c) => ({ id: c.w.a.documentId }),
    column: 'title',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, title: 'Shipping', content: 'We ship.' }),
  },
  document_chunks: {
    match: (c) => ({ id: c.w.a.chunkId }),
    column: 'heading',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      document_id: c.w.a.documentId,
      chunk_index: 99,
      content: 'Extra passage.',
    }),
  },
  crawls: {
    match: (c) => ({ id: c.w.a.crawlId }),
    column: 'resync',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, url: 'https://shop.example/help' }),
  },
  crawl_pages: {
    match: (c) => ({ crawl_id: c.w.a.crawlId }),
    column: 'depth',
    insert: (c) => ({
      crawl_id: c.w.a.crawlId,
      tenant_id: c.w.a.tenantId,
      url: 'https://shop.example/more',
      run: 1,
    }),
  },
  tools: {
    match: (c) => ({ id: c.w.toolId }),
    column: 'description',
    insert: () => ({ slug: 'rls_test_tool', name: 'RLS test' }),
  },
  tenant_tools: {
    match: (c) => ({ id: c.w.a.tenantToolId }),
    column: 'description',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      name: 'rls_tool',
      webhook_url: 'https://n8n.example/webhook/rls',
    }),
  },
  tool_executions: {
    match: (c) => ({ id: c.w.a.toolExecutionId }),
    column: 'error',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, tool_name: 'x', call_id: 'rls-call' }),
  },
  webhook_endpoints: {
    match: (c) => ({ id: c.w.a.webhookEndpointId }),
    column: 'description',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, url: 'https://hooks.example/rls' }),
  },
  webhook_deliveries: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'status',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      endpoint_id: c.w.a.webhookEndpointId,
      event: 'conversation.created',
      payload: {},
    }),
  },
  tenant_invitations: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'role',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, email: 'rls-new@example.test', role: 'agent' }),
  },
  analytics_hourly: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'conversations',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, hour: '2000-01-01T00:00:00Z' }),
  },
  platform_audit_log: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'detail',
    insert: (c) => ({ action: 'view', tenant_id: c.w.a.tenantId }),
  },
  canned_responses: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'content',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, shortcut: 'rls-new', content: 'x' }),
  },
  widget_loads: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'loads',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      origin: 'https://rls-new.example',
      allowed: true,
    }),
  },
  subscriptions: {
    match: (c) => ({ id: c.w.a.subscriptionId }),
    column: 'cancel_at_period_end',
    insert: (c) => ({ tenant_id: c.w.a.tenantId }),
  },
  stripe_events: {
    match: (c) => ({ id: c.w.stripeEventId }),
    column: 'processed_at',
    insert: () => ({
      id: 'evt_rls_test',
      type: 'invoice.paid',
      created_at: new Date().toISOString(),
      payload: {},
    }),
  },
  agent_presence: {
    match: (c) => ({ tenant_id: c.w.a.tenantId, user_id: c.w.users.agentA }),
    column: 'status',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, user_id: c.w.users.adminA, status: 'online' }),
  },
  usage_daily: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'bot_messages',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, day: yesterday() }),
  },
  tenant_notices: {
    match: (c) => ({ id: c.w.a.noticeId }),
    column: 'read_at',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, kind: 'plan_changed' }),
  },
  usage_counters: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'used',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      metric: 'crawl_pages',
      period_start: '2000-01-01',
    }),
  },
  quota_spends: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'amount',
    insert: (c) => ({
      metric: 'crawl_pages',
      ref: 'rls-test',
      tenant_id: c.w.a.tenantId,
      period_start: yesterday(),
      amount: 1,
    }),
  },
  jobs: {
    match: (c) => ({ id: c.w.jobId }),
    column: 'priority',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, kind: 'rls_test' }),
  },
  reply_groundings: {
    match: (c) => ({ message_id: c.w.a.assistantMessageId }),
    column: 'latency_ms',
    insert: (c) => ({
      message_id: c.w.a.messageId,
      tenant_id: c.w.a.tenantId,
      conversation_id: c.w.a.conversationId,
      question: 'q',
      engine: 'ai',
    }),
  },
  rate_limits: {
    match: () => ({ key: 'world' }),
    column: 'hits',
    insert: () => ({ key: 'rls-test', window_start: new Date().toISOString(), hits: 1 }),
  },
  answer_cache: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'reply',
    insert: (c) => ({ tenant_id: c.w.a.tenantId, question_hash: 'rls-test', reply: 'x' }),
  },
  webhook_receipts: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'source',
    insert: (c) => ({
      delivery_id: crypto.randomUUID(),
      source: 'rls-test',
      tenant_id: c.w.a.tenantId,
    }),
  },
  whatsapp_connections: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'label',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      phone_number_id: '1000000002',
      access_token: 't',
      app_secret: 's',
      verify_token: 'verify-rls-2',
    }),
  },
  whatsapp_templates: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'status',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      connection_id: crypto.randomUUID(),
      meta_id: '2',
      name: 'rls_test_2',
      language: 'en_US',
      status: 'APPROVED',
    }),
  },
  whatsapp_broadcasts: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'name',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      connection_id: crypto.randomUUID(),
      template_id: crypto.randomUUID(),
      name: 'rls-new',
    }),
  },
  whatsapp_broadcast_recipients: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'status',
    insert: (c) => ({
      broadcast_id: crypto.randomUUID(),
      contact_id: crypto.randomUUID(),
      tenant_id: c.w.a.tenantId,
      wa_id: '34999000002',
    }),
  },
  bot_flows: {
    match: (c) => ({ tenant_id: c.w.a.tenantId }),
    column: 'enabled',
    insert: (c) => ({
      tenant_id: c.w.a.tenantId,
      name: 'rls-new',
      triggers: ['menu'],
      definition: { steps: [] },
    }),
  },
  conversation_reads: {
    match: (c) => ({ conversation_id: c.w.a.conversationId, user_id: c.w.users.agentA }),
    column: 'last_read_at',
    insert: (c, self) => ({ conversation_id: c.w.conversationOfVisitorB, user_id: self }),
  },
};

const CASES = (Object.keys(EXPECTATIONS) as CaseName[]).map((name) => ({
  name,
  table: name.split(' (')[0] as string,
  expected: EXPECTATIONS[name],
  target: TARGETS[name],
}));

// --- Harness -----------------------------------------------------------------------------------

let stack: StackProcess;
let db: Db;
let owner: postgres.Sql;
let ctx: Ctx;
let service: SupabaseClient;
const clients = new Map<Actor, SupabaseClient>();
let restoreSql = '';
const STAFF_PASSWORD = 'matrix-pass-1';

async function tokenFor(claims: Record<string, unknown>): Promise<string> {
  const { sub, ...rest } = claims;
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (typeof sub === 'string') jwt.setSubject(sub);
  return jwt.setExpirationTime('2h').sign(new TextEncoder().encode(stack.keys.jwtSecret));
}

function makeClient(token?: string): SupabaseClient {
  return createClient(stack.url, stack.keys.anonKey, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
    ...(token ? { global: { headers: { Authorization: `Bearer ${token}` } } } : {}),
  });
}

const as = (actor: Actor) => clients.get(actor) as SupabaseClient;

/** Copies every row of public aside, and prepares the statement that brings them back. */
async function snapshot() {
  const tables = await owner<{ table: string; columns: string[] }[]>`
    select c.table_name as table,
           array_agg(c.column_name::text order by c.ordinal_position) as columns
      from information_schema.columns c
      join information_schema.tables t
        on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.is_generated = 'NEVER'
     group by c.table_name order by 1`;
  const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
  await owner.unsafe(
    `drop schema if exists rls_http_snapshot cascade; create schema rls_http_snapshot;
     ${tables.map((t) => `create table rls_http_snapshot.${q(t.table)} as table public.${q(t.table)};`).join('\n')}`,
  );
  restoreSql = `begin;
    set local session_replication_role = replica;
    ${tables.map((t) => `delete from public.${q(t.table)};`).join('\n')}
    ${tables
      .map((t) => {
        const cols = t.columns.map(q).join(', ');
        return `insert into public.${q(t.table)} (${cols}) overriding system value select ${cols} from rls_http_snapshot.${q(t.table)};`;
      })
      .join('\n')}
    commit;`;
}

const restore = () => owner.unsafe(restoreSql);

interface Reply {
  data: unknown;
  error: { code?: string; message?: string } | null;
  count?: number | null;
  status: number;
}

/** A refusal by privilege or policy (42501) is "denied"; anything unexpected fails the test. */
function refusedOrThrow(reply: Reply): false {
  if (reply.error?.code === '42501') return false;
  throw new Error(`unexpected answer ${reply.status}: ${JSON.stringify(reply.error)}`);
}

/** Rows a request reached: none when it was refused outright. */
function touched(reply: Reply, rows: number): number {
  if (!reply.error) return rows;
  refusedOrThrow(reply);
  return 0;
}

async function currentValue(table: string, target: HttpTarget, column: string): Promise<unknown> {
  const { data, error } = await service
    .from(table)
    .select(column)
    .match(target.match(ctx))
    .limit(1)
    .single();
  if (error) throw new Error(`cannot read ${table}.${column}: ${error.message}`);
  return (data as unknown as Record<string, unknown>)[column];
}

async function attempt(actor: Actor, op: Op, table: string, target: HttpTarget): Promise<boolean> {
  const client = as(actor);
  const filters = target.match(ctx);
  switch (op) {
    case 'select': {
      // The filter's own columns, not *: column grants may hide others, as in `select 1`.
      const reply = (await client
        .from(table)
        .select(Object.keys(filters).join(','))
        .match(filters)) as Reply;
      if (reply.error) return refusedOrThrow(reply);
      return (reply.data as unknown[]).length > 0;
    }
    case 'insert': {
      const self = actor === 'anon' ? null : ctx.w.users[actor];
      const reply = (await client.from(table).insert(target.insert(ctx, self))) as Reply;
      if (!reply.error) {
        await restore();
        return true;
      }
      // A unique violation is checked after RLS: the row got past the policies.
      if (reply.error.code === '23505') return true;
      return refusedOrThrow(reply);
    }
    case 'update': {
      const value = await currentValue(table, target, target.column);
      const reply = (await client
        .from(table)
        .update({ [target.column]: value }, { count: 'exact' })
        .match(filters)) as Reply;
      if (reply.error) return refusedOrThrow(reply);
      if ((reply.count ?? 0) > 0) await restore();
      return (reply.count ?? 0) > 0;
    }
    case 'delete': {
      const reply = (await client.from(table).delete({ count: 'exact' }).match(filters)) as Reply;
      if (reply.error) return refusedOrThrow(reply);
      if ((reply.count ?? 0) > 0) await restore();
      return (reply.count ?? 0) > 0;
    }
  }
}

beforeAll(async () => {
  stack = await startStack();
  db = createPostgresDb(stack.dbUrl, { max: 1 });
  const w = await createWorld(db);
  const extras = await db.asService(async (sql) => {
    const spareUserId = await createUser(sql);
    const [message] = await sql.query<{ id: string }>(
      `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
       values ($1, $2, 'user', 'Hello from B', 'b-1') returning id`,
      [w.conversationOfVisitorB, w.a.tenantId],
    );
    // agentA's read marker in visitorA's conversation, the conversation_reads target.
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
  await db.close();
  ctx = { w, ...extras };
  owner = postgres(stack.dbUrl, { max: 1, onnotice: () => {} });
  // A visitor message written through the API queues a bot reply, which the scheduled worker
  // would post a moment later, after the restore: the matrix needs the world to stand still.
  await owner`update cron.job set active = false`;
  await snapshot();
  service = createClient(stack.url, stack.keys.serviceRoleKey, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
  });
  // Staff sign in through Auth with a password, as in the admin SPA. The world's visitors are
  // anonymous users whose sessions only Auth could have handed out, so they get a token with the
  // claims Auth gives an anonymous user, signed with the project secret.
  const staff = ACTORS.filter((a) => a !== 'anon' && !a.startsWith('visitor')) as Exclude<
    Actor,
    'anon'
  >[];
  const emails = await owner<{ id: string; email: string }[]>`
    update auth.users
       set encrypted_password = extensions.crypt(${STAFF_PASSWORD}, extensions.gen_salt('bf', 4)),
           email_confirmed_at = now()
     where id = any(${staff.map((a) => w.users[a])}::uuid[])
    returning id::text, email`;
  for (const actor of ACTORS) {
    if (actor === 'anon') {
      clients.set(actor, makeClient());
    } else if (staff.includes(actor as (typeof staff)[number])) {
      const email = emails.find((e) => e.id === w.users[actor as (typeof staff)[number]])?.email;
      const signedIn = makeClient();
      const { error } = await signedIn.auth.signInWithPassword({
        email: email as string,
        password: STAFF_PASSWORD,
      });
      if (error) throw error;
      clients.set(actor, signedIn);
    } else {
      clients.set(actor, makeClient(await tokenFor(w.claims[actor])));
    }
  }
}, 120_000);

afterAll(async () => {
  await owner?.end();
  await stack?.stop();
});

// --- The matrix --------------------------------------------------------------------------------

describe('coverage', () => {
  it('every table in public has an expectations row', async () => {
    const rows = await owner<{ table: string }[]>`
      select tablename as table from pg_tables where schemaname = 'public' order by 1`;
    const covered = new Set(CASES.map((c) => c.table));
    expect(rows.map((r) => r.table).filter((t) => !covered.has(t))).toEqual([]);
  });

  it.each(ACTORS)('%s reaches the database as its own user', async (actor) => {
    // Each actor finds the row that names it: its membership, operator entry or conversation.
    const self = actor === 'anon' ? null : ctx.w.users[actor];
    const probe =
      actor === 'anon'
        ? as(actor).from('conversations').select('id')
        : actor.startsWith('visitor')
          ? as(actor)
              .from('conversations')
              .select('id')
              .eq('visitor_id', self as string)
          : actor === 'platformAdmin'
            ? as(actor)
                .from('platform_admins')
                .select('user_id')
                .eq('user_id', self as string)
            : as(actor)
                .from('tenant_members')
                .select('user_id')
                .eq('user_id', self as string);
    const { data, error } = await probe;
    expect(error).toBeNull();
    expect((data as unknown[]).length > 0).toBe(actor !== 'anon');
  });
});

// Listed as "<case> > <actor> > <op>: allowed|denied", like the SQL matrix.
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

// --- Zero cross-tenant access ------------------------------------------------------------------

describe('tenant isolation over HTTP', () => {
  it('ownerB reads, updates and deletes nothing of tenant A in any tenant-scoped table', async () => {
    // Views too: one that bypassed RLS would leak through the API as surely as a table.
    const scoped = await owner<{ table: string; key: string; base: boolean }[]>`
      select c.table_name as table, 'tenant_id' as key, t.table_type = 'BASE TABLE' as base
        from information_schema.columns c
        join information_schema.tables t
          on t.table_schema = c.table_schema and t.table_name = c.table_name
       where c.table_schema = 'public' and c.column_name = 'tenant_id'
      union all select 'tenants', 'id', true order by 1`;
    expect(scoped.length).toBeGreaterThan(10);
    const reached: Record<string, number[]> = {};
    for (const { table, key, base } of scoped) {
      const filter = { [key]: ctx.w.a.tenantId };
      const counts: number[] = [];
      const read = (await as('ownerB').from(table).select(key).match(filter)) as Reply;
      counts.push(touched(read, (read.data as unknown[] | null)?.length ?? 0));
      if (!base) {
        if (counts[0]) reached[table] = counts;
        continue;
      }
      const column = key === 'id' ? 'name' : 'tenant_id';
      const update = (await as('ownerB')
        .from(table)
        .update(
          { [column]: column === 'name' ? 'Taken over' : ctx.w.b.tenantId },
          { count: 'exact' },
        )
        .match(filter)) as Reply;
      counts.push(touched(update, update.count ?? 0));
      const removed = (await as('ownerB')
        .from(table)
        .delete({ count: 'exact' })
        .match(filter)) as Reply;
      counts.push(touched(removed, removed.count ?? 0));
      if (counts.some((n) => n > 0)) {
        reached[table] = counts;
        await restore();
      }
    }
    expect(reached).toEqual({});
    // The same requests do reach ownerB's own tenant, so the check is not vacuous.
    const own = await as('ownerB').from('documents').select('id').eq('tenant_id', ctx.w.b.tenantId);
    expect(own.data?.length).toBe(1);
  });

  it('ownerB cannot insert a row for tenant A in any table', () => {
    for (const c of CASES.filter((c) => !GLOBAL_TABLES.has(c.table))) {
      expect(c.expected.ownerB[1], c.name).toBe('-');
    }
  });

  it('a visitor sees its own conversation’s public messages and never a private note', async () => {
    const { data } = await as('visitorA')
      .from('messages')
      .select('id, is_private')
      .eq('conversation_id', ctx.w.a.conversationId);
    const seen = (data ?? []) as { id: string; is_private: boolean }[];
    expect(seen.map((m) => m.id).sort()).toEqual(
      [ctx.w.a.messageId, ctx.w.a.assistantMessageId].sort(),
    );
    const other = await as('visitorB')
      .from('conversations')
      .select('id')
      .eq('id', ctx.w.a.conversationId);
    expect(other.data).toEqual([]);
  });

  it('embedding does not leak across tenants: tenant A’s conversations embedded by ownerB', async () => {
    const { data, error } = await as('ownerB')
      .from('tenants')
      .select('id, conversations(id, messages(id))');
    expect(error).toBeNull();
    const ids = JSON.stringify(data);
    expect(ids).not.toContain(ctx.w.a.tenantId);
    expect(ids).not.toContain(ctx.w.a.conversationId);
    expect(ids).toContain(ctx.w.b.conversationId);
  });
});
