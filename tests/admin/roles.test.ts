import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStaff, type Staff } from '../support/admin.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import type { TestTenant } from '../support/chat.ts';
import { EXPECTATIONS, OPS } from '../support/rls-expectations.ts';
import { createWorld, type World } from '../support/world.ts';

// Every admin-only action refused to an agent, across the pages: in Chromium (the navigation does
// not offer the managers' pages, and their addresses show nothing), through the Data API with the
// agent's own session (every table where the written RLS expectations give admins more than
// agents, every rpc that is not an agent's, the settings columns and the secrets), and through the
// functions that act for managers. The lists are derived or checked against the database, so a
// new admin-only table or function fails here until it is placed.

const ui = useBrowserHarness();
let w: World;
let tenant: TestTenant;
let agent: Staff;
let owner: Staff;
let agentDb: SupabaseClient;
let agentToken: string;

/** Functions an agent calls in the normal course of work (or any signed-in person may call). */
const AGENT_RPCS = new Set([
  'accept_invitation',
  'assign_conversation',
  'create_workspace',
  'hand_back_to_bot',
  'mark_conversation_read',
  'match_document_chunks',
  'post_agent_message',
  'rate_conversation',
  'rate_message',
  'reopen_conversation',
  'resolve_conversation',
  'search_conversations',
  'send_agent_typing',
  'send_whatsapp_attachment',
  'send_whatsapp_template',
  'set_agent_presence',
  'take_over_conversation',
  'team_members',
  'tenant_agents',
  // Success rates and latencies of the tool calls, which every member reads in tool_executions.
  'tool_stats',
  'whatsapp_window_closes_at',
]);

/** The admin-only functions with arguments naming tenant A's own rows. */
const ADMIN_RPCS: Record<string, () => Record<string, unknown>> = {
  analytics_daily: () => ({ p_tenant_id: w.a.tenantId, p_from: '2026-01-01', p_to: '2026-01-31' }),
  bot_secrets_status: () => ({ p_tenant_id: w.a.tenantId }),
  conversation_history: () => ({ p_tenant_id: w.a.tenantId }),
  conversation_metrics_by_agent: () => ({
    p_tenant_id: w.a.tenantId,
    p_from: '2026-01-01',
    p_to: '2026-01-31',
  }),
  conversation_metrics_daily: () => ({
    p_tenant_id: w.a.tenantId,
    p_from: '2026-01-01',
    p_to: '2026-01-31',
  }),
  create_whatsapp_broadcast: () => ({
    p_template_id: crypto.randomUUID(),
    p_name: 'Sale',
    p_variables: [],
    p_segment: {},
    p_scheduled_at: null,
    p_messages_per_second: 1,
  }),
  invite_member: () => ({
    p_tenant_id: w.a.tenantId,
    p_email: 'x@people.example',
    p_role: 'agent',
  }),
  platform_tenants: () => ({}),
  platform_view_tenant: () => ({ p_tenant_id: w.a.tenantId }),
  record_platform_view: () => ({ p_tenant_id: w.a.tenantId, p_page: 'inbox' }),
  recrawl: () => ({ p_crawl_id: w.a.crawlId }),
  redeliver_webhook: () => ({ p_delivery_id: deliveryId }),
  resume_tenant: () => ({ p_tenant_id: w.a.tenantId }),
  rotate_identity_secret: () => ({ p_tenant_id: w.a.tenantId }),
  rotate_n8n_secret: () => ({ p_tenant_id: w.a.tenantId }),
  rotate_tool_secret: () => ({ p_tool_id: w.a.tenantToolId }),
  rotate_widget_key: () => ({ p_tenant_id: w.a.tenantId }),
  set_llm_api_key: () => ({ p_tenant_id: w.a.tenantId, p_api_key: 'sk-agent-should-not' }),
  set_whatsapp_broadcast_paused: () => ({ p_broadcast_id: crypto.randomUUID(), p_paused: true }),
  suspend_tenant: () => ({ p_tenant_id: w.a.tenantId }),
  sync_whatsapp_templates: () => ({ p_connection_id: crypto.randomUUID() }),
  tenant_usage: () => ({ p_tenant_id: w.a.tenantId }),
  usage_history: () => ({ p_tenant_id: w.a.tenantId }),
  whatsapp_broadcast_summary: () => ({ p_broadcast_id: crypto.randomUUID() }),
  whatsapp_connection_settings: () => ({ p_tenant_id: w.a.tenantId }),
};

/** Functions whose only argument is another resource's id, not one agents can name. */
const REFUSED_AS_UNKNOWN = new Set([
  'create_whatsapp_broadcast',
  'set_whatsapp_broadcast_paused',
  'whatsapp_broadcast_summary',
]);

let deliveryId = '';

/** Tables given rows for tenant A by the shared world or by this file. */
const SEEDED = new Set([
  'crawls',
  'crawl_pages',
  'tenant_tools',
  'webhook_endpoints',
  'webhook_deliveries',
  'widget_loads',
  'subscriptions',
  'tenant_notices',
  'usage_counters',
  'whatsapp_connections',
  'tenant_invitations',
]);

beforeAll(async () => {
  const h = ui.h;
  w = await createWorld(h.db);
  tenant = { id: w.a.tenantId, key: '', identitySecret: '', n8nSecret: '' };
  // Rows for the admin-only tables the shared world leaves empty.
  deliveryId = await h.db.asService(async (sql) => {
    const [delivery] = await sql.query<{ id: string }>(
      `insert into public.webhook_deliveries (tenant_id, endpoint_id, event, payload)
       values ($1, $2, 'conversation.created', '{}') returning id`,
      [w.a.tenantId, w.a.webhookEndpointId],
    );
    await sql.query(
      `insert into public.usage_counters (tenant_id, metric, period_start, used)
       values ($1, 'crawl_pages', date_trunc('month', now())::date, 3)`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.widget_loads (tenant_id, origin, allowed) values ($1, 'https://shop.example', true)`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.tenant_invitations (tenant_id, email, role) values ($1, 'pending@people.example', 'agent')`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.whatsapp_connections (tenant_id, phone_number_id, access_token, app_secret, verify_token)
       values ($1, '1000000777', 't', 's', 'verify-roles')`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.canned_responses (tenant_id, shortcut, content) values ($1, 'roles', 'Thanks!')`,
      [w.a.tenantId],
    );
    await sql.query(
      `insert into public.platform_audit_log (action, tenant_id) values ('view', $1)`,
      [w.a.tenantId],
    );
    return delivery?.id as string;
  });
  agent = await createStaff(h, tenant, 'agent', 'Agatha');
  owner = await createStaff(h, tenant, 'owner', 'Otto');
  agentDb = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { data, error } = await agentDb.auth.signInWithPassword({
    email: agent.email,
    password: agent.password,
  });
  if (error || !data.session) throw error ?? new Error('no session');
  agentToken = data.session.access_token;
}, 180_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 15_000, ...options });

async function signIn(page: Page, staff: Staff) {
  await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/inbox`);
  await page.locator('input[name="email"]').fill(staff.email);
  await page.locator('input[name="password"]').fill(staff.password);
  await page.locator('form button[type="submit"]').click();
  await page.locator('[data-admin="inbox-list"]').waitFor({ state: 'visible', timeout: 20_000 });
}

/** The page ids the navigation offers. */
async function navPages(page: Page): Promise<string[]> {
  const hrefs = await page
    .locator('header nav a')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href') ?? ''));
  return hrefs.map((href) => href.split('/')[2] ?? '').filter(Boolean);
}

describe('an agent, in the admin', () => {
  it('is offered none of the managers’ pages, and their addresses show nothing', async () => {
    const { page: ownerPage } = await ui.newPage();
    await signIn(ownerPage, owner);
    await poll(async () => (await navPages(ownerPage)).length).toBeGreaterThan(1);
    const managers = await navPages(ownerPage);

    const { page } = await ui.newPage();
    await signIn(page, agent);
    const offered = await navPages(page);
    expect(offered).toContain('inbox');
    const adminOnly = [...new Set([...managers, 'platform'])].filter((p) => !offered.includes(p));
    // Team at least (and whatever else the managers have: settings, knowledge, tools, …).
    expect(adminOnly).toContain('team');
    for (const id of adminOnly) {
      await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/${id}`);
      await poll(() => page.locator('main').textContent(), { timeout: 20_000 }).toContain(
        'There is nothing here.',
      );
      expect(await page.locator('main form, main table').count(), id).toBe(0);
    }
  }, 180_000);
});

describe('an agent, through the Data API', () => {
  const refusedWrite = (reply: { error: { code?: string } | null; data: unknown }) =>
    reply.error !== null || (Array.isArray(reply.data) && reply.data.length === 0);

  /** [table, op] where the written expectations give admins an operation agents do not have. */
  const adminOnly = Object.entries(EXPECTATIONS).flatMap(([name, actors]) =>
    name.includes(' (')
      ? []
      : OPS.flatMap((op, i) =>
          actors.adminA[i] !== '-' && actors.agentA[i] === '-' ? [[name, op] as const] : [],
        ),
  );

  it('covers the tables the pages manage', () => {
    const tables = new Set(adminOnly.map(([t]) => t));
    for (const t of [
      'tenants',
      'tenant_members',
      'tenant_invitations',
      'documents',
      'tenant_tools',
      'subscriptions',
      'usage_counters',
      'platform_audit_log',
    ].filter((t) => t in EXPECTATIONS)) {
      expect(tables.has(t) || t === 'platform_audit_log', t).toBe(true);
    }
  });

  it.each(adminOnly)('%s: %s is refused', async (table, op) => {
    const scope = table === 'tenants' ? 'id' : 'tenant_id';
    const [{ n } = { n: 0 }] = await ui.h.db.asService((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.${table} where ${scope} = $1`,
        [w.a.tenantId],
      ),
    );
    switch (op) {
      case 'select': {
        // The world and the rows above give tenant A something in every table the pages manage;
        // a table added since may be empty, and must still show the agent nothing.
        if (SEEDED.has(table)) expect(n, `tenant A has ${table} rows to hide`).toBeGreaterThan(0);
        const { data, error } = await agentDb.from(table).select('*').eq(scope, w.a.tenantId);
        // No rows, or no privilege on a column the table keeps from members.
        expect(error?.code === '42501' || (Array.isArray(data) && data.length === 0)).toBe(true);
        break;
      }
      case 'insert': {
        const { error } = await agentDb.from(table).insert({ tenant_id: w.a.tenantId });
        expect(error?.code, table).toBe('42501');
        break;
      }
      case 'update': {
        // Set the row's tenant to what it is: a write that would change nothing, if allowed.
        const reply = await agentDb
          .from(table)
          .update({ [scope]: w.a.tenantId })
          .eq(scope, w.a.tenantId)
          .select();
        expect(refusedWrite(reply), `${table} ${JSON.stringify(reply.error)}`).toBe(true);
        break;
      }
      case 'delete': {
        const reply = await agentDb.from(table).delete().eq(scope, w.a.tenantId).select();
        expect(refusedWrite(reply), table).toBe(true);
        const [after] = await ui.h.db.asService((sql) =>
          sql.query<{ n: number }>(
            `select count(*)::int as n from public.${table} where ${scope} = $1`,
            [w.a.tenantId],
          ),
        );
        expect(after?.n).toBe(n);
        break;
      }
    }
  });

  it('cannot change the settings columns or read the secrets', async () => {
    const before = await ui.h.db.asService((sql) =>
      sql.query(
        'select bot_config, llm_config, allowed_origins from public.tenants where id = $1',
        [w.a.tenantId],
      ),
    );
    for (const change of [
      { bot_config: { greeting: { en: 'Hacked' } } },
      { llm_config: { provider: 'openai', base_url: 'https://evil.example/v1', model: 'x' } },
      { allowed_origins: ['https://evil.example'] },
      { bot_engine: 'n8n' },
      { name: 'Renamed by an agent' },
    ]) {
      const reply = await agentDb.from('tenants').update(change).eq('id', w.a.tenantId).select();
      expect(refusedWrite(reply), JSON.stringify(change)).toBe(true);
    }
    expect(
      await ui.h.db.asService((sql) =>
        sql.query(
          'select bot_config, llm_config, allowed_origins from public.tenants where id = $1',
          [w.a.tenantId],
        ),
      ),
    ).toEqual(before);
    const secrets = await agentDb.from('tenant_secrets').select('*').eq('tenant_id', w.a.tenantId);
    expect(secrets.error?.code === '42501' || secrets.data?.length === 0).toBe(true);
    const tools = await agentDb.from('tenant_tools').select('secret').eq('tenant_id', w.a.tenantId);
    expect(tools.error?.code === '42501' || tools.data?.length === 0).toBe(true);
  });

  it('every rpc is either an agent’s or refused to agents', async () => {
    const callable = await ui.h.db.asService((sql) =>
      sql.query<{ f: string }>(
        `select distinct p.proname as f from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and p.prorettype <> 'trigger'::regtype
            and has_function_privilege('authenticated', p.oid, 'EXECUTE')
          order by 1`,
      ),
    );
    const unplaced = callable.map((r) => r.f).filter((f) => !AGENT_RPCS.has(f) && !ADMIN_RPCS[f]);
    expect(unplaced, 'place each new rpc in AGENT_RPCS or ADMIN_RPCS').toEqual([]);
    for (const { f } of callable.filter((r) => ADMIN_RPCS[r.f])) {
      const args = ADMIN_RPCS[f]?.() ?? {};
      const { data, error } = await agentDb.rpc(f, args);
      const refused =
        error?.code === '42501' ||
        (REFUSED_AS_UNKNOWN.has(f) && error !== null) ||
        (error === null && (data === null || (Array.isArray(data) && data.length === 0)));
      expect(refused, `${f}: ${JSON.stringify({ data, error })}`).toBe(true);
    }
    // Nothing moved: the tenant is active, its widget key and secrets are what they were.
    const [state] = await ui.h.db.asService((sql) =>
      sql.query<{ status: string; key_changed: boolean; api_key: string | null }>(
        `select t.status, s.llm_api_key as api_key, false as key_changed
           from public.tenants t join public.tenant_secrets s on s.tenant_id = t.id where t.id = $1`,
        [w.a.tenantId],
      ),
    );
    expect(state?.status).toBe('active');
    expect(state?.api_key).not.toBe('sk-agent-should-not');
  });
});

describe('an agent, through the functions that act for managers', () => {
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${ui.h.stack.url}/functions/v1/${path}`, {
      method: 'POST',
      headers: {
        apikey: ui.h.stack.keys.anonKey,
        authorization: `Bearer ${agentToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
  };

  it('team invites, the playground and the retrieval test answer 403, tool test calls find no tool', async () => {
    const invite = await call('team/invite', {
      tenant_id: w.a.tenantId,
      email: 'friend@people.example',
      role: 'agent',
      redirect_to: `${ui.h.stack.url}/admin/`,
    });
    expect(invite).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    // Tools are not shown to agents, so a test call finds none (the function's documented answer).
    const test = await call('tools/test', { tool_id: w.a.tenantToolId, arguments: {} });
    expect(test).toMatchObject({ status: 404, body: { error: { code: 'tool_not_found' } } });
    const playground = await call('playground/sessions', {
      tenant_id: w.a.tenantId,
      visitor_token: agentToken,
    });
    expect(playground.status).toBe(403);
    const search = await call('knowledge/search', { tenant_id: w.a.tenantId, query: 'returns' });
    expect(search.status).toBe(403);
  });
});
