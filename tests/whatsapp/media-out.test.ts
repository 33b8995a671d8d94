import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';
import {
  deliver,
  delivery,
  type FakeGraph,
  inbound,
  type MetaNumber,
  startFakeGraph,
} from './fake-meta.ts';
import { signedIn, until } from './support.ts';

// Files to WhatsApp customers on the local stack: staff send a Storage file of their workspace
// (checked for type and size), the send job uploads the bytes to the fake Graph API's media
// endpoint as multipart and sends the media id; a flow sends a knowledge file the same way.

const ACCESS_TOKEN = 'EAAG-media-token';
const APP_SECRET = 'media-app-secret-0123';
const number: MetaNumber = {
  phoneNumberId: '106540352245555',
  displayPhoneNumber: '15550785555',
  wabaId: '102290129345555',
};
const CUSTOMER = '34622333444';
const PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 1, 2, 3]);
const PDF = new TextEncoder().encode('%PDF-1.4\n% dinner menu\n%%EOF\n');

let h: ChatHarness;
let graph: FakeGraph;
let a: TestTenant;
let b: TestTenant;
let conversationId: string;
let webhookUrl: string;
let clients: { agentA: SupabaseClient; ownerB: SupabaseClient };

function query<T>(text: string, params: unknown[] = []) {
  return h.db.asService((sql) => sql.query<T>(text, params));
}

async function store(bucket: string, path: string, bytes: Uint8Array, type: string) {
  const res = await fetch(`${h.stack.url}/storage/v1/object/${bucket}/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.stack.keys.serviceRoleKey}`,
      apikey: h.stack.keys.serviceRoleKey,
      'content-type': type,
      'x-upsert': 'true',
    },
    body: new Blob([bytes as Uint8Array<ArrayBuffer>], { type }),
  });
  expect(res.status).toBe(200);
}

const sendsTo = () => graph.sent.filter((m) => m.body.to === CUSTOMER && m.wamid);

beforeAll(async () => {
  graph = await startFakeGraph(ACCESS_TOKEN);
  h = await startChatHarness({ WHATSAPP_GRAPH_URL: graph.url });
  [a, b] = await Promise.all([createTenant(h), createTenant(h)]);
  const [agentA, ownerB] = await Promise.all([
    createStaff(h, a, 'agent', 'Agent A'),
    createStaff(h, b, 'owner', 'Owner B'),
  ]);
  clients = { agentA: await signedIn(h, agentA), ownerB: await signedIn(h, ownerB) };
  const [conn] = await query<{ id: string }>(
    `insert into public.whatsapp_connections
       (tenant_id, phone_number_id, access_token, app_secret, verify_token)
     values ($1, $2, $3, $4, 'media-verify-token') returning id`,
    [a.id, number.phoneNumberId, ACCESS_TOKEN, APP_SECRET],
  );
  webhookUrl = `${h.stack.url}/functions/v1/whatsapp/${conn?.id}`;
  // The customer writes first: the 24-hour window is open.
  const res = await deliver(
    webhookUrl,
    APP_SECRET,
    delivery(number, inbound(CUSTOMER, 'text', { text: { body: 'Hello, where is my order?' } })),
  );
  expect(res.status).toBe(200);
  const [row] = await until('the conversation', () =>
    query<{ id: string }>(
      `select c.id from public.conversations c join public.contacts k on k.id = c.contact_id
        where k.tenant_id = $1 and k.wa_id = $2`,
      [a.id, CUSTOMER],
    ).then((rows) => (rows.length ? rows : null)),
  );
  conversationId = row?.id as string;
  await until('the bot reply to be sent', async () => sendsTo().length > 0);
  await store('attachments', `${a.id}/${conversationId}/photo.png`, PNG, 'image/png');
  await store('attachments', `${a.id}/${conversationId}/anim.gif`, PNG, 'image/gif');
  await store('knowledge', `${a.id}/menu.pdf`, PDF, 'application/pdf');
  await store('knowledge', `${b.id}/secret.pdf`, PDF, 'application/pdf');
}, 240_000);
afterAll(async () => {
  await h?.close();
  await graph?.close();
});

describe('staff send files', () => {
  it('uploads an image to the media endpoint and sends it by id with its caption', async () => {
    const before = sendsTo().length;
    const { data: id, error } = await clients.agentA.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `attachments/${a.id}/${conversationId}/photo.png`,
      p_caption: 'Your parcel, as packed',
    });
    expect(error).toBeNull();
    const sent = await until('the image send', async () => sendsTo()[before]);
    expect(sent.body.type).toBe('image');
    const image = sent.body.image as { id: string; caption: string };
    expect(image.caption).toBe('Your parcel, as packed');
    const uploaded = graph.uploads.get(image.id);
    expect(uploaded).toMatchObject({
      type: 'image/png',
      filename: 'photo.png',
      product: 'whatsapp',
    });
    expect([...(uploaded?.bytes ?? [])]).toEqual([...PNG]);
    await until('the message to be sent', async () => {
      const [m] = await query<{ status: string }>(
        'select status from public.messages where id = $1',
        [id],
      );
      return m?.status === 'sent';
    });
  }, 120_000);

  it('sends a knowledge document with its file name and no caption', async () => {
    const before = sendsTo().length;
    const { error } = await clients.agentA.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `knowledge/${a.id}/menu.pdf`,
    });
    expect(error).toBeNull();
    const sent = await until('the document send', async () => sendsTo()[before]);
    expect(sent.body.type).toBe('document');
    const doc = sent.body.document as { id: string; filename: string; caption?: string };
    expect(doc.filename).toBe('menu.pdf');
    expect(doc.caption).toBeUndefined();
    expect(new TextDecoder().decode(graph.uploads.get(doc.id)?.bytes)).toContain('dinner menu');
  }, 120_000);

  it('refuses types and sizes WhatsApp does not take, other tenants and visitors', async () => {
    const gif = await clients.agentA.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `attachments/${a.id}/${conversationId}/anim.gif`,
    });
    expect(gif.error?.code).toBe('22023');
    expect(gif.error?.message).toContain('image/gif');
    // A 6 MB image (its size as Storage recorded it): past WhatsApp's 5 MB for images.
    await query(
      `insert into storage.objects (bucket_id, name, metadata)
       values ('attachments', $1, '{"mimetype": "image/jpeg", "size": 6291456}')`,
      [`${a.id}/${conversationId}/huge.jpg`],
    );
    const huge = await clients.agentA.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `attachments/${a.id}/${conversationId}/huge.jpg`,
    });
    expect(huge.error?.code).toBe('22023');
    expect(huge.error?.message).toContain('larger than WhatsApp takes');
    const missing = await clients.agentA.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `knowledge/${a.id}/nothing.pdf`,
    });
    expect(missing.error?.code).toBe('22023');
    // Another tenant's file, from A's own agent.
    const foreignFile = await clients.agentA.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `knowledge/${b.id}/secret.pdf`,
    });
    expect(foreignFile.error?.code).toBe('42501');
    // Another tenant's owner, into A's conversation.
    const foreignStaff = await clients.ownerB.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `knowledge/${b.id}/secret.pdf`,
    });
    expect(foreignStaff.error?.code).toBe('42501');
    const visitor = await Visitor.signIn(h);
    const byVisitor = await visitor.client.rpc('send_whatsapp_attachment', {
      p_conversation_id: conversationId,
      p_object: `knowledge/${a.id}/menu.pdf`,
    });
    expect(byVisitor.error?.code).toBe('42501');
    const [count] = await query<{ n: number }>(
      `select count(*)::int as n from private.outbound_media where message_id in
         (select id from public.messages where conversation_id = $1)`,
      [conversationId],
    );
    expect(count?.n).toBe(2);
  }, 120_000);
});

describe('the bot sends files', () => {
  it("sends a flow's knowledge file after its text", async () => {
    await query(
      `insert into public.bot_flows (tenant_id, name, triggers, definition) values ($1, 'Menu', '{"menu please"}', $2::jsonb)`,
      [
        a.id,
        {
          steps: [
            { id: 'hi', type: 'message', text: 'Here is our dinner menu.', next: 'file' },
            { id: 'file', type: 'media', file: 'menu.pdf', caption: 'Dinner menu' },
          ],
        },
      ],
    );
    const before = sendsTo().length;
    await deliver(
      webhookUrl,
      APP_SECRET,
      delivery(number, inbound(CUSTOMER, 'text', { text: { body: 'Menu please' } })),
    );
    const [text, file] = await until('the text and the file', async () => {
      const sent = sendsTo().slice(before);
      return sent.length >= 2 ? sent : null;
    });
    expect(text?.body).toMatchObject({ type: 'text', text: { body: 'Here is our dinner menu.' } });
    expect(file?.body).toMatchObject({
      type: 'document',
      document: { caption: 'Dinner menu', filename: 'menu.pdf' },
    });
  }, 120_000);
});
