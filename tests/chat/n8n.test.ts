import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signRequest } from '../../functions/_shared/webhooks/signature.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  runWorker,
  startChatHarness,
  TOOL_SECRET,
  Visitor,
} from '../support/chat.ts';

// Engine `n8n`: the tenant's workflow writes the replies, at once or later through /n8n-callback.

let h: ChatHarness;
beforeAll(async () => {
  h = await startChatHarness();
}, 120_000);
afterAll(() => h?.close());

async function conversation(path: string) {
  const tenant = await createTenant(h, { engine: 'n8n', n8nPath: path });
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key });
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  return { tenant, visitor, conversationId };
}

const NEW_SECRET = `whsec_${Buffer.from('brand-new-secret-0123456789abcdef').toString('base64')}`;
const FORGED = `whsec_${Buffer.from('not-the-secret-0123456789').toString('base64')}`;

function post(raw: string, headers: Record<string, string>) {
  return fetch(`${h.stack.url}/functions/v1/n8n-callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  }).then(async (res) => ({ status: res.status, body: await res.json() }));
}

async function callback(
  body: Record<string, unknown>,
  options: { secret?: string; deliveryId?: string } = {},
) {
  const raw = JSON.stringify(body);
  const headers = signRequest({
    secret: options.secret ?? TOOL_SECRET,
    body: raw,
    id: options.deliveryId ?? `msg_${crypto.randomUUID()}`,
  });
  return post(raw, headers);
}

describe('n8n engine', () => {
  it('relays the conversation, signed, and stores the workflow’s immediate answer', async () => {
    h.receiver.on('/n8n-now', {
      status: 200,
      body: { reply: 'From your n8n workflow.', quick_replies: ['Thanks'] },
    });
    const { visitor, conversationId, tenant } = await conversation('/n8n-now');
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'n1',
      content: 'Hello n8n',
    });
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload).toMatchObject({
      content: 'From your n8n workflow.',
      quick_replies: ['Thanks'],
    });
    const [delivery] = h.receiver.deliveries('/n8n-now');
    expect(delivery?.verified).toBe(true);
    expect(delivery?.body).toMatchObject({
      tool: 'parley.reply',
      arguments: { message: { content: 'Hello n8n' } },
      conversation: { id: conversationId, tenant_id: tenant.id },
      callback_url: `${h.stack.url}/functions/v1/n8n-callback`,
    });
    await visitor.close();
  });

  it("takes the answer of n8n's AI Agent node, {output}", async () => {
    h.receiver.on('/n8n-agent', { status: 200, body: [{ output: 'From the AI Agent.' }] });
    const { visitor, conversationId } = await conversation('/n8n-agent');
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'a1',
      content: 'Hi agent',
    });
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('From the AI Agent.');
    await visitor.close();
  });

  it.each([
    [
      '"Workflow was started"',
      '/n8n-started',
      { status: 200, body: { message: 'Workflow was started' } },
    ],
    ['an empty 200', '/n8n-empty', { status: 200 }],
    ['a 200 that is not JSON', '/n8n-html', { status: 200, body: '<html>ok</html>' }],
  ] as const)(
    '%s is a failure: retried, then a fallback and an error the tenant sees',
    async (_name, path, step) => {
      h.receiver.on(path, step);
      const { visitor, conversationId } = await conversation(path);
      await visitor.call('messages', {
        conversation_id: conversationId,
        client_msg_id: 's1',
        content: 'Anyone there?',
      });
      const reply = await visitor.waitFor(isReply, 20_000);
      expect(reply.payload.quick_replies).toEqual(['Talk to a human']);
      const deliveries = h.receiver.deliveries(path);
      expect(deliveries.length).toBe(3);
      expect(new Set(deliveries.map((d) => d.deliveryId)).size).toBe(1);
      const [audit] = await h.db.asService((sql) =>
        sql.query<{ tool_name: string; success: boolean; error: string; attempts: number }>(
          `select tool_name, success, error, attempts from public.tool_executions where conversation_id = $1`,
          [conversationId],
        ),
      );
      expect(audit).toMatchObject({ tool_name: 'parley.reply', success: false, attempts: 3 });
      expect(audit?.error).toBeTruthy();
      await visitor.close();
    },
  );

  it("a 202 without a callback before the tenant's deadline gets the visitor the fallback", async () => {
    h.receiver.on('/n8n-silent', { status: 202 });
    const { tenant, visitor, conversationId } = await conversation('/n8n-silent');
    await h.db.asService((sql) =>
      sql.query('update public.tenants set n8n_callback_timeout_seconds = 5 where id = $1', [
        tenant.id,
      ]),
    );
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'd1',
      content: 'Is my booking done?',
    });
    await new Promise((r) => setTimeout(r, 1_500));
    await runWorker(h);
    expect(visitor.replies()).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 4_500));
    await runWorker(h);
    const reply = await visitor.waitFor(isReply, 15_000);
    expect(reply.payload.quick_replies).toEqual(['Talk to a human']);
    const audits = await h.db.asService((sql) =>
      sql.query<{ success: boolean; error: string | null }>(
        `select success, error from public.tool_executions where conversation_id = $1 order by created_at`,
        [conversationId],
      ),
    );
    expect(audits.map((a) => a.success)).toEqual([true, false]);
    expect(audits[1]?.error).toMatch(/no callback within 5 s/);
    await visitor.close();
  });

  it('takes a later answer through /n8n-callback, once per delivery, and refuses forgeries', async () => {
    h.receiver.on('/n8n-later', { status: 202, body: {} });
    const { visitor, conversationId } = await conversation('/n8n-later');
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'n2',
      content: 'Any news?',
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(visitor.replies()).toHaveLength(0);

    const forged = await callback(
      { conversation_id: conversationId, reply: 'Fake' },
      { secret: FORGED },
    );
    expect(forged.status).toBe(401);

    // n8n chooses its own ids; they need not be UUIDs.
    const deliveryId = `msg_${crypto.randomUUID().slice(0, 8)}_n8n`;
    const first = await callback(
      { conversation_id: conversationId, reply: 'Your booking is confirmed.' },
      { deliveryId },
    );
    expect(first.status).toBe(201);
    const reply = await visitor.waitFor(isReply);
    expect(reply.payload.content).toBe('Your booking is confirmed.');

    const replay = await callback(
      { conversation_id: conversationId, reply: 'Your booking is confirmed.' },
      { deliveryId },
    );
    expect(replay).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    const [row] = await h.db.asService((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'assistant'`,
        [conversationId],
      ),
    );
    expect(row?.n).toBe(1);

    const handoff = await callback({
      conversation_id: conversationId,
      reply: 'A colleague will take over.',
      handoff: true,
    });
    expect(handoff.status).toBe(201);
    await visitor.waitFor((e) => e.event === 'status_changed' && e.payload.status === 'handoff');
    await visitor.close();
  });

  it('a workflow that fails gets the visitor a retrieval answer and the offer of a person', async () => {
    h.receiver.on('/n8n-down', 'fail');
    const { visitor, conversationId } = await conversation('/n8n-down');
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'n3',
      content: 'Hello?',
    });
    const reply = await visitor.waitFor(isReply, 20_000);
    expect(reply.payload.quick_replies).toEqual(['Talk to a human']);
    await visitor.close();
  });

  it('a captured callback replayed under a fresh webhook-id is refused: the id is signed', async () => {
    h.receiver.on('/n8n-replay', { status: 202, body: {} });
    const { visitor, conversationId } = await conversation('/n8n-replay');
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'rp1',
      content: 'Book it',
    });
    const raw = JSON.stringify({ conversation_id: conversationId, reply: 'Booked.' });
    const captured = signRequest({ secret: TOOL_SECRET, body: raw, id: 'msg_captured_1' });
    expect((await post(raw, captured)).status).toBe(201);
    const replayed = await post(raw, { ...captured, 'webhook-id': 'msg_fresh_id_2' });
    expect(replayed.status).toBe(401);
    const again = await post(raw, captured);
    expect(again).toEqual({ status: 200, body: { ok: true, duplicate: true } });
    const [row] = await h.db.asService((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'assistant'`,
        [conversationId],
      ),
    );
    expect(row?.n).toBe(1);
    await visitor.close();
  });

  it('after a secret rotation, the previous secret works until it expires', async () => {
    h.receiver.on('/n8n-rotated', { status: 202, body: {} });
    const { visitor, conversationId, tenant } = await conversation('/n8n-rotated');
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'r1',
      content: 'Rotate?',
    });
    const rotate = (expiresIn: string) =>
      h.db.asService((sql) =>
        sql.query(
          `update public.tenant_secrets set n8n_previous_secret = $2, n8n_secret = $4,
                  n8n_previous_expires_at = now() + $3::interval where tenant_id = $1`,
          [tenant.id, TOOL_SECRET, expiresIn, NEW_SECRET],
        ),
      );
    await rotate('1 hour');
    expect(
      (await callback({ conversation_id: conversationId, reply: 'Old secret, still valid.' }))
        .status,
    ).toBe(201);
    expect(
      (
        await callback(
          { conversation_id: conversationId, reply: 'New secret.' },
          { secret: NEW_SECRET },
        )
      ).status,
    ).toBe(201);
    await rotate('-1 second');
    expect(
      (await callback({ conversation_id: conversationId, reply: 'Old secret, expired.' })).status,
    ).toBe(401);
    await visitor.close();
  });

  it('an owner saving an internal or malformed workflow URL gets a 400 from the Data API', async () => {
    const tenant = await createTenant(h, { engine: 'n8n', n8nPath: '/n8n-owner' });
    const options = {
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    };
    const signUp = createClient(h.stack.url, h.stack.keys.anonKey, options);
    const email = `owner-${crypto.randomUUID().slice(0, 8)}@shop.example`;
    const password = 'owner-password-123';
    const signedUp = await signUp.auth.signUp({ email, password });
    if (signedUp.error || !signedUp.data.user) throw signedUp.error ?? new Error('no user');
    const userId = signedUp.data.user.id;
    await h.db.asService(async (sql) => {
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner')`,
        [tenant.id, userId],
      );
      // Confirmed as if the emailed link had been followed; auth.users is written as Auth's role.
      await sql.query(`select set_config('role', 'none', true)`);
      await sql.query('update auth.users set email_confirmed_at = now() where id = $1', [userId]);
    });
    const { data, error } = await signUp.auth.signInWithPassword({ email, password });
    if (error || !data.session) throw error ?? new Error('no session');
    const owner = createClient(h.stack.url, h.stack.keys.anonKey, {
      ...options,
      global: { headers: { Authorization: `Bearer ${data.session.access_token}` } },
    });
    const save = (values: Record<string, unknown>) =>
      owner.from('tenants').update(values).eq('id', tenant.id);
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://0x7f000001:5678/webhook',
      'http://metadata.google.internal/',
      'ftp://n8n.example.com/webhook',
    ]) {
      const refused = await save({ n8n_webhook_url: url });
      expect({ url, status: refused.status, code: refused.error?.code }).toEqual({
        url,
        status: 400,
        code: '23514',
      });
    }
    expect((await save({ n8n_callback_timeout_seconds: 1 })).status).toBe(400);
    const saved = await save({
      n8n_webhook_url: 'https://n8n.example.com/webhook/parley',
      n8n_callback_timeout_seconds: 120,
    });
    expect(saved.error).toBeNull();
  });

  it('answers malformed callbacks with 4xx', async () => {
    const res = await fetch(`${h.stack.url}/functions/v1/n8n-callback`, {
      method: 'POST',
      body: '{"nope"',
    });
    expect(res.status).toBe(400);
    const missing = await callback({ conversation_id: 'not-a-uuid', reply: 'x' });
    expect(missing.status).toBe(400);
  });
});
