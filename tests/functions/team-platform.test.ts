import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signRequest } from '../../functions/_shared/webhooks/signature.ts';
import { createStaff, type Staff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  TOOL_SECRET,
  Visitor,
} from '../support/chat.ts';
import { deliver, delivery, inbound, type MetaNumber } from '../whatsapp/fake-meta.ts';

// On the local stack: the team function asks Auth for an invite or magic link once the database
// allowed the invitation, the link signs the invited person in and lands on the admin with the
// invitation to accept; and a suspended tenant is refused by the chat API, WhatsApp and n8n alike.

let h: ChatHarness;
beforeAll(async () => {
  h = await startChatHarness();
}, 180_000);
afterAll(() => h?.close());

const ADMIN_URL = () => `${h.stack.url}/admin/`;

async function signedIn(staff: Staff): Promise<SupabaseClient> {
  const client = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { error } = await client.auth.signInWithPassword({
    email: staff.email,
    password: staff.password,
  });
  if (error) throw error;
  return client;
}

async function invite(client: SupabaseClient | null, body: Record<string, unknown>) {
  const token = client ? (await client.auth.getSession()).data.session?.access_token : null;
  const res = await fetch(`${h.stack.url}/functions/v1/team/invite`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      apikey: h.stack.keys.anonKey,
      authorization: `Bearer ${token ?? h.stack.keys.anonKey}`,
    },
    body: JSON.stringify({ redirect_to: ADMIN_URL(), ...body }),
  });
  return { status: res.status, body: await res.json() };
}

/** Opens the link as a browser would; returns where Auth sends the person, and the session. */
async function follow(link: string) {
  const res = await fetch(link, { redirect: 'manual' });
  expect(res.status).toBe(303);
  const target = new URL(res.headers.get('location') ?? '');
  const fragment = new URLSearchParams(target.hash.slice(1));
  return { target, accessToken: fragment.get('access_token'), type: fragment.get('type') };
}

function asToken(token: string): SupabaseClient {
  return createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: { headers: { Authorization: `Bearer ${token}` } },
    realtime: { transport: WebSocket as never },
  });
}

describe('team invitations through Auth', () => {
  let tenant: TestTenant;
  let owner: Staff;
  beforeAll(async () => {
    tenant = await createTenant(h);
    // Room for everyone these tests invite (the free plan has 2 seats).
    await h.db.asService((sql) =>
      sql.query(`update public.tenants set plan_id = 'business' where id = $1`, [tenant.id]),
    );
    owner = await createStaff(h, tenant, 'owner', 'Olive');
  }, 60_000);

  it('an owner invites a new address: the link signs them in and they accept as that role', async () => {
    const email = `new-${crypto.randomUUID().slice(0, 8)}@people.example`;
    const sent = await invite(await signedIn(owner), {
      tenant_id: tenant.id,
      email,
      role: 'admin',
    });
    expect(sent.status).toBe(201);
    expect(sent.body.invitation).toMatchObject({ email, role: 'admin' });
    const link = sent.body.link as string;
    expect(link).toMatch(/\/auth\/v1\/verify\?token=[0-9a-f]{56}&type=invite/);
    // No mail server: the stack logs the link where the mail would have gone.
    expect(h.stack.output()).toContain(link);

    const landed = await follow(link);
    expect(landed.type).toBe('invite');
    expect(`${landed.target.origin}${landed.target.pathname}`).toBe(ADMIN_URL());
    expect(landed.target.searchParams.get('accept')).toBe(sent.body.invitation.id);
    const client = asToken(landed.accessToken as string);
    const { data, error } = await client.rpc('accept_invitation', {
      p_invitation_id: sent.body.invitation.id,
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ tenant_id: tenant.id, role: 'admin' });
    // The link is used up.
    const again = await follow(link);
    expect(again.accessToken).toBeNull();
  });

  it('someone with an account already gets a magic link', async () => {
    const other = await createTenant(h);
    const existing = await createStaff(h, other, 'agent', 'Existing');
    const sent = await invite(await signedIn(owner), {
      tenant_id: tenant.id,
      email: existing.email,
      role: 'agent',
    });
    expect(sent.status).toBe(201);
    expect(sent.body.link).toMatch(/type=magiclink/);
    const landed = await follow(sent.body.link);
    const { data: user } = await asToken(landed.accessToken as string).auth.getUser(
      landed.accessToken as string,
    );
    expect(user.user?.id).toBe(existing.id);
  });

  it('refuses what the database refuses, in words and with a 4xx', async () => {
    const admin = await createStaff(h, tenant, 'admin', 'Adam');
    const agent = await createStaff(h, tenant, 'agent', 'Agnes');
    const adminClient = await signedIn(admin);
    const asOwner = await invite(adminClient, {
      tenant_id: tenant.id,
      email: 'boss@people.example',
      role: 'owner',
    });
    expect(asOwner).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(asOwner.body.error.message).toMatch(/Only owners/);
    const byAgent = await invite(await signedIn(agent), {
      tenant_id: tenant.id,
      email: 'x@people.example',
      role: 'agent',
    });
    expect(byAgent.status).toBe(403);
    const anonymous = await invite(null, {
      tenant_id: tenant.id,
      email: 'x@people.example',
      role: 'agent',
    });
    expect(anonymous.status).toBe(401);
    const bad = await invite(adminClient, { tenant_id: 'nope', email: 'x', role: 'agent' });
    expect(bad.status).toBe(400);
    const foreign = await invite(adminClient, {
      tenant_id: tenant.id,
      email: 'x@people.example',
      role: 'agent',
      redirect_to: 'javascript:alert(1)',
    });
    expect(foreign.status).toBe(400);
  });

  it('the plan seats are enforced with a clear error', async () => {
    // The free plan has 2 seats: the owner and one more.
    const small = await createTenant(h);
    const smallOwner = await createStaff(h, small, 'owner', 'Sam');
    const client = await signedIn(smallOwner);
    const first = await invite(client, {
      tenant_id: small.id,
      email: 'a@people.example',
      role: 'agent',
    });
    expect(first.status).toBe(201);
    const second = await invite(client, {
      tenant_id: small.id,
      email: 'b@people.example',
      role: 'agent',
    });
    expect(second.status).toBe(403);
    expect(second.body.error.code).toBe('quota_exceeded_seats');
    expect(second.body.error.message).toMatch(/allows 2 seats/);
  });
});

describe('a suspended tenant', () => {
  const number: MetaNumber = {
    phoneNumberId: '880000000001',
    wabaId: '880000000002',
    displayPhoneNumber: '+1 555 0101',
  };

  it('is refused by the chat API, WhatsApp and n8n until an operator resumes it', async () => {
    const tenant = await createTenant(h, { engine: 'n8n', n8nPath: '/n8n-suspended' });
    h.receiver.on('/n8n-suspended', { status: 202, body: {} });
    const operator = await createStaff(h, tenant, 'agent', 'Opal');
    await h.db.asService((sql) =>
      sql.query('insert into public.platform_admins (user_id) values ($1)', [operator.id]),
    );
    const [connection] = await h.db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into public.whatsapp_connections
           (tenant_id, phone_number_id, business_account_id, access_token, app_secret, verify_token)
         values ($1, $2, $3, 'token', 'app-secret-suspended', 'verify-suspended') returning id`,
        [tenant.id, number.phoneNumberId, number.wabaId],
      ),
    );
    const visitor = await Visitor.signIn(h);
    const session = await visitor.call('sessions', { key: tenant.key });
    expect(session.status).toBe(201);
    const conversationId = session.body.conversation.id as string;

    const ops = await signedIn(operator);
    const suspended = await ops.rpc('suspend_tenant', {
      p_tenant_id: tenant.id,
      p_reason: 'test',
    });
    expect(suspended.error).toBeNull();

    const refusal = { error: { code: 'tenant_suspended' } };
    const config = await visitor.call(`config?key=${tenant.key}`);
    expect(config).toMatchObject({ status: 403, body: refusal });
    expect(config.body.error.message).toMatch(/not available/);
    expect(await visitor.call('sessions', { key: tenant.key })).toMatchObject({
      status: 403,
      body: refusal,
    });
    expect(
      await visitor.call('messages', {
        conversation_id: conversationId,
        client_msg_id: crypto.randomUUID(),
        content: 'Anyone there?',
      }),
    ).toMatchObject({ status: 403, body: refusal });

    const raw = JSON.stringify({ conversation_id: conversationId, reply: 'Late answer' });
    const callback = await fetch(`${h.stack.url}/functions/v1/n8n-callback`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signRequest({ secret: TOOL_SECRET, body: raw, id: `msg_${crypto.randomUUID()}` }),
      },
      body: raw,
    });
    expect(callback.status).toBe(403);
    expect(await callback.json()).toMatchObject(refusal);

    const webhookUrl = `${h.stack.url}/functions/v1/whatsapp/${connection?.id}`;
    const payload = delivery(number, inbound('34699000001', 'text', { text: { body: 'hola' } }));
    const meta = await deliver(webhookUrl, 'app-secret-suspended', payload);
    expect(meta.status).toBe(403);
    expect(await meta.json()).toMatchObject(refusal);
    const [stored] = await h.db.asService((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.conversations where tenant_id = $1 and channel = 'whatsapp'`,
        [tenant.id],
      ),
    );
    expect(stored?.n).toBe(0);

    expect((await ops.rpc('resume_tenant', { p_tenant_id: tenant.id })).error).toBeNull();
    expect((await visitor.call(`config?key=${tenant.key}`)).status).toBe(200);
    const sent = await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: crypto.randomUUID(),
      content: 'Back?',
    });
    expect(sent.status).toBe(202);
    expect((await deliver(webhookUrl, 'app-secret-suspended', payload)).status).toBe(200);

    const { data: log } = await ops
      .from('platform_audit_log')
      .select('action')
      .eq('tenant_id', tenant.id)
      .order('id');
    expect(log).toEqual([{ action: 'suspend' }, { action: 'resume' }]);
    await visitor.close();
  }, 120_000);
});
