import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../support/admin.ts';
import { type ChatHarness, createTenant, runWorker, startChatHarness } from '../support/chat.ts';
import {
  deliver,
  delivery,
  type FakeGraph,
  inbound,
  type MetaNumber,
  startFakeGraph,
} from './fake-meta.ts';
import { signedIn, until } from './support.ts';

// Disconnecting a WhatsApp number through the Data API: only the tenant's owners and admins may,
// its settings are gone with it, its webhook URL refuses Meta's handshake and deliveries from then
// on, and its conversations stay in the inbox; a reply written there afterwards fails visibly
// instead of waiting forever.

const ACCESS_TOKEN = 'EAAG-disconnect-token';
const APP_SECRET = 'disconnect-app-secret-01';
const VERIFY_TOKEN = 'disconnect-verify-token';
const number: MetaNumber = {
  phoneNumberId: '106540352246666',
  displayPhoneNumber: '15550786666',
  wabaId: '102290129346666',
};
const CUSTOMER = '34612000111';

let h: ChatHarness;
let graph: FakeGraph;
let tenantId: string;
let connectionId: string;
let webhookUrl: string;
let clients: { owner: SupabaseClient; agent: SupabaseClient; otherOwner: SupabaseClient };

function query<T>(text: string, params: unknown[] = []) {
  return h.db.asService((sql) => sql.query<T>(text, params));
}

const handshake = () =>
  fetch(`${webhookUrl}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=777`);
const say = (text: string) =>
  deliver(
    webhookUrl,
    APP_SECRET,
    delivery(number, inbound(CUSTOMER, 'text', { text: { body: text } })),
  );

beforeAll(async () => {
  graph = await startFakeGraph(ACCESS_TOKEN);
  h = await startChatHarness({ WHATSAPP_GRAPH_URL: graph.url });
  const [tenant, other] = await Promise.all([
    createTenant(h, { llm: 'openai' }),
    createTenant(h, { llm: 'openai' }),
  ]);
  tenantId = tenant.id;
  const [owner, agent, otherOwner] = await Promise.all([
    createStaff(h, tenant, 'owner', 'Owner'),
    createStaff(h, tenant, 'agent', 'Agent'),
    createStaff(h, other, 'owner', 'Other owner'),
  ]);
  clients = {
    owner: await signedIn(h, owner),
    agent: await signedIn(h, agent),
    otherOwner: await signedIn(h, otherOwner),
  };
  const [row] = await query<{ id: string }>(
    `insert into public.whatsapp_connections
       (tenant_id, phone_number_id, business_account_id, access_token, app_secret, verify_token)
     values ($1, $2, $3, $4, $5, $6) returning id`,
    [tenantId, number.phoneNumberId, number.wabaId, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN],
  );
  connectionId = row?.id as string;
  webhookUrl = `${h.stack.url}/functions/v1/whatsapp/${connectionId}`;
}, 180_000);
afterAll(async () => {
  await h?.close();
  await graph?.close();
});

describe('disconnecting a number', () => {
  it('only owners and admins may; afterwards Meta is refused and the conversations stay', async () => {
    expect(await (await handshake()).text()).toBe('777');
    expect((await say('Hello')).status).toBe(200);
    const reply = await until('the reply on WhatsApp', async () =>
      graph.sent.find((m) => m.body.to === CUSTOMER && m.wamid),
    );
    expect(reply.body.type).toBe('text');
    const [conversation] = await query<{ id: string }>(
      `select c.id from public.conversations c join public.contacts k on k.id = c.contact_id
        where k.tenant_id = $1 and k.wa_id = $2`,
      [tenantId, CUSTOMER],
    );
    const conversationId = conversation?.id as string;

    for (const client of [clients.agent, clients.otherOwner]) {
      const refused = await client
        .from('whatsapp_connections')
        .delete({ count: 'exact' })
        .eq('id', connectionId);
      expect(refused.count ?? 0).toBe(0);
    }
    expect(
      await query('select 1 from public.whatsapp_connections where id = $1', [connectionId]),
    ).toHaveLength(1);

    const removed = await clients.owner
      .from('whatsapp_connections')
      .delete({ count: 'exact' })
      .eq('id', connectionId);
    expect(removed.error).toBeNull();
    expect(removed.count).toBe(1);

    // The settings are nowhere any more.
    expect(
      await query(
        `select 1 from public.whatsapp_connections
          where id = $1 or access_token = $2 or app_secret = $3 or verify_token = $4`,
        [connectionId, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN],
      ),
    ).toHaveLength(0);

    // The webhook URL no longer verifies: the handshake with the old token and a delivery signed
    // with the old app secret are both refused, and nothing new is stored.
    const hs = await handshake();
    expect(hs.status).toBe(403);
    expect((await hs.json()).error.code).toBe('bad_verify_token');
    const before = await query('select 1 from public.messages where conversation_id = $1', [
      conversationId,
    ]);
    const post = await say('Are you there?');
    expect(post.status).toBe(403);
    expect((await post.json()).error.code).toBe('bad_signature');

    // The conversation and its messages stay, for the inbox and its history.
    const kept = await clients.owner
      .from('messages')
      .select('role, content')
      .eq('conversation_id', conversationId)
      .order('created_at');
    expect(kept.data?.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(kept.data).toHaveLength(before.length);
    const [stays] = await query<{ channel: string }>(
      'select channel from public.conversations where id = $1',
      [conversationId],
    );
    expect(stays?.channel).toBe('whatsapp');

    // An agent's message written there now cannot reach anyone: it fails, and says why.
    const sentBefore = graph.sent.length;
    await query(
      `insert into public.messages (conversation_id, role, content) values ($1, 'agent', 'Still there?')`,
      [conversationId],
    );
    const failed = await until('the message to fail', async () => {
      await runWorker(h);
      const rows = await query<{ status: string }>(
        `select status from public.messages where conversation_id = $1 and role = 'agent'`,
        [conversationId],
      );
      return rows[0]?.status === 'failed' ? rows : null;
    });
    expect(failed).toHaveLength(1);
    const notes = await query<{ content: string }>(
      `select content from public.messages where conversation_id = $1 and role = 'system' and is_private`,
      [conversationId],
    );
    expect(notes.map((n) => n.content)).toContain(
      'Not delivered on WhatsApp: the WhatsApp number was disconnected',
    );
    expect(graph.sent).toHaveLength(sentBefore);
  }, 180_000);
});
