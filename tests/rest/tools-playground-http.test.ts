import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createStaff, type Staff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
} from '../support/chat.ts';

// The Tools page's and the Playground's server side over HTTP, as the admin SPA (or anyone holding
// a staff session and bypassing it) reaches it: the Data API under RLS and column privileges, and
// the tools and playground functions. An agent and another tenant's owner are refused everything
// that touches a tool's secret or opens a session; the owner gets exactly what the page shows.

let h: ChatHarness;
let tenant: TestTenant;
let other: TestTenant;
let owner: Staff;
let agent: Staff;
let outsider: Staff;
let toolId: string;
const clients = new Map<string, SupabaseClient>();

async function client(staff: Staff | null): Promise<SupabaseClient> {
  const key = staff?.email ?? 'visitor';
  const existing = clients.get(key);
  if (existing && staff) return existing;
  const c = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  if (staff) {
    const { error } = await c.auth.signInWithPassword({
      email: staff.email,
      password: staff.password,
    });
    if (error) throw error;
    clients.set(key, c);
  } else {
    const { error } = await c.auth.signInAnonymously();
    if (error) throw error;
  }
  return c;
}

async function token(c: SupabaseClient) {
  return (await c.auth.getSession()).data.session?.access_token as string;
}

async function call(path: string, bearer: string, body: unknown) {
  const response = await fetch(`${h.stack.url}/functions/v1/${path}`, {
    method: 'POST',
    headers: {
      apikey: h.stack.keys.anonKey,
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: read by assertions only
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  h = await startChatHarness();
  tenant = await createTenant(h, {
    tools: [
      {
        name: 'order_status',
        path: '/http-order',
        parameters: {
          type: 'object',
          properties: { order_number: { type: 'string' } },
          required: ['order_number'],
        },
      },
    ],
  });
  other = await createTenant(h);
  owner = await createStaff(h, tenant, 'owner', 'Olive');
  agent = await createStaff(h, tenant, 'agent', 'Dana');
  outsider = await createStaff(h, other, 'owner', 'Otto');
  const [row] = await h.db.asService((sql) =>
    sql.query<{ id: string }>('select id from public.tenant_tools where tenant_id = $1', [
      tenant.id,
    ]),
  );
  toolId = row?.id as string;
}, 180_000);

afterAll(async () => {
  for (const c of clients.values()) await c.auth.signOut().catch(() => {});
  await h?.close();
});

describe('tool secrets through the Data API', () => {
  it('nobody selects or writes a secret; the owner reads the rest of the row', async () => {
    for (const staff of [owner, agent, outsider]) {
      const db = await client(staff);
      const secret = await db.from('tenant_tools').select('id, secret').eq('id', toolId);
      expect(secret.error?.code, staff.name).toBe('42501');
      const rest = await db.from('tenant_tools').select('id, webhook_url').eq('id', toolId);
      expect(rest.data?.length, staff.name).toBe(staff === owner ? 1 : 0);
    }
    const write = await (await client(owner))
      .from('tenant_tools')
      .update({ secret: 'whsec_bWluZS1taW5lLW1pbmUtbWluZS0xMjM0NTY=' })
      .eq('id', toolId);
    expect(write.error?.code).toBe('42501');
  });

  it('rotate_tool_secret: the owner gets the new secret once; agents and other tenants are refused', async () => {
    for (const staff of [agent, outsider]) {
      const { data, error } = await (await client(staff)).rpc('rotate_tool_secret', {
        p_tool_id: toolId,
        p_overlap_seconds: 0,
      });
      expect([data, error?.code], staff.name).toEqual([null, '42501']);
    }
    const { data, error } = await (await client(owner)).rpc('rotate_tool_secret', {
      p_tool_id: toolId,
      p_overlap_seconds: 0,
    });
    expect(error).toBeNull();
    expect(data?.[0]?.secret).toMatch(/^whsec_/);
    const [stored] = await h.db.asService((sql) =>
      sql.query<{ secret: string }>('select secret from public.tenant_tools where id = $1', [
        toolId,
      ]),
    );
    expect(stored?.secret).toBe(data?.[0]?.secret);
  });
});

describe('POST /functions/v1/tools/test over HTTP', () => {
  it('the owner’s test call reaches the receiver signed; agents, other tenants and visitors are refused', async () => {
    const ownerDb = await client(owner);
    const { data } = await ownerDb.rpc('rotate_tool_secret', {
      p_tool_id: toolId,
      p_overlap_seconds: 0,
    });
    const secret = data?.[0]?.secret as string;
    h.receiver.setSecrets([secret]);
    h.receiver.on('/http-order', { status: 200, body: { status: 'packed' } });
    const before = h.receiver.deliveries('/http-order').length;

    for (const staff of [agent, outsider]) {
      const refused = await call('tools/test', await token(await client(staff)), {
        tool_id: toolId,
        arguments: { order_number: 'A-1' },
      });
      expect([refused.status, refused.body.error.code], staff.name).toEqual([
        404,
        'tool_not_found',
      ]);
    }
    const visitor = await call('tools/test', await token(await client(null)), {
      tool_id: toolId,
      arguments: { order_number: 'A-1' },
    });
    expect(visitor.status).toBe(403);
    expect(h.receiver.deliveries('/http-order')).toHaveLength(before);

    const ok = await call('tools/test', await token(ownerDb), {
      tool_id: toolId,
      arguments: { order_number: 'A-1' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, status: 200, response: { status: 'packed' } });
    const delivery = h.receiver.deliveries('/http-order').at(-1);
    expect(delivery?.verified).toBe(true);
    expect(new Webhook(secret).verify(ok.body.request.body, ok.body.request.headers)).toMatchObject(
      {
        test: true,
      },
    );

    // Its figures are the tenant's: another tenant's owner counts nothing.
    const mine = await ownerDb.rpc('tool_stats', { p_tenant_id: tenant.id });
    expect(mine.data?.[0]).toMatchObject({ tenant_tool_id: toolId, test_calls: 1 });
    const theirs = await (await client(outsider)).rpc('tool_stats', { p_tenant_id: tenant.id });
    expect(theirs.data).toEqual([]);
  });
});

describe('POST /functions/v1/playground/sessions over HTTP', () => {
  it('opens a visitor conversation for the owner only; the visitor then chats through the chat API', async () => {
    const visitor = await client(null);
    const visitorToken = await token(visitor);
    for (const staff of [agent, outsider]) {
      const refused = await call('playground/sessions', await token(await client(staff)), {
        tenant_id: tenant.id,
        visitor_token: visitorToken,
      });
      expect([refused.status, refused.body.error.code], staff.name).toEqual([403, 'forbidden']);
    }
    // A visitor cannot open one for itself, nor a staff member pass a staff token as the visitor.
    expect(
      (
        await call('playground/sessions', visitorToken, {
          tenant_id: tenant.id,
          visitor_token: visitorToken,
        })
      ).status,
    ).toBe(403);
    const ownerToken = await token(await client(owner));
    const staffAsVisitor = await call('playground/sessions', ownerToken, {
      tenant_id: tenant.id,
      visitor_token: ownerToken,
    });
    expect([staffAsVisitor.status, staffAsVisitor.body.error.code]).toEqual([
      400,
      'visitor_session_required',
    ]);

    const opened = await call('playground/sessions', ownerToken, {
      tenant_id: tenant.id,
      visitor_token: visitorToken,
    });
    expect(opened.status).toBe(201);
    const sent = await call('chat/messages', visitorToken, {
      conversation_id: opened.body.conversation.id,
      client_msg_id: 'pg-1',
      content: 'Hello from the playground',
    });
    expect(sent.status).toBe(202);
    // The owner's inbox sees it, marked as the owner's playground conversation.
    const { data } = await (await client(owner))
      .from('conversations')
      .select('id, playground_by')
      .eq('id', opened.body.conversation.id)
      .single();
    expect(data).toEqual({ id: opened.body.conversation.id, playground_by: owner.id });
  });
});
