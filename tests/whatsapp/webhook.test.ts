import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ChatHarness, createTenant, runWorker, startChatHarness } from '../support/chat.ts';
import { createUser, userClaims } from '../support/world.ts';
import {
  deliver,
  delivery,
  type FakeGraph,
  inbound,
  type MetaNumber,
  signature,
  startFakeGraph,
  status,
} from './fake-meta.ts';

// The WhatsApp channel end to end on the local stack: Meta's webhook (handshake, signatures,
// every inbound type, redeliveries, statuses) into the same reply job as the widget, and the
// reply sent back through a fake Graph API, inside the 24-hour window only.

const ACCESS_TOKEN = 'EAAG-fake-access-token';
const APP_SECRET = 'fake-app-secret-0123456789';
const VERIFY_TOKEN = 'parley-verify-token-42';

let h: ChatHarness;
let graph: FakeGraph;
let tenantId: string;
let connectionId: string;
let webhookUrl: string;
const number: MetaNumber = {
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  wabaId: '102290129340398',
};

const TEMPLATES = [
  {
    id: '1001',
    name: 'order_update',
    language: 'en_US',
    category: 'UTILITY',
    status: 'APPROVED',
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Your order' },
      {
        type: 'BODY',
        text: 'Hi {{1}}, order {{2}} has shipped.',
        example: { body_text: [['Ana', 'TH-1234']] },
      },
      { type: 'FOOTER', text: 'Test shop' },
    ],
  },
  {
    id: '1002',
    name: 'order_update',
    language: 'es',
    category: 'UTILITY',
    status: 'APPROVED',
    components: [{ type: 'BODY', text: 'Hola {{1}}, tu pedido {{2}} ha salido.' }],
  },
  {
    id: '1003',
    name: 'spring_sale',
    language: 'en_US',
    category: 'MARKETING',
    status: 'PENDING',
    components: [{ type: 'BODY', text: 'Spring sale!' }],
  },
];

let nextPhone = 34600000000;
const newCustomer = () => String(nextPhone++);

beforeAll(async () => {
  graph = await startFakeGraph(ACCESS_TOKEN);
  h = await startChatHarness({ WHATSAPP_GRAPH_URL: graph.url, JOB_LEASE_SECONDS: '3' });
  graph.templates.push(...TEMPLATES);
  const tenant = await createTenant(h, { llm: 'openai' });
  tenantId = tenant.id;
  const [row] = await h.db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.whatsapp_connections
         (tenant_id, phone_number_id, business_account_id, access_token, app_secret, verify_token)
       values ($1, $2, $3, $4, $5, $6) returning id`,
      [tenantId, number.phoneNumberId, number.wabaId, ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN],
    ),
  );
  if (!row) throw new Error('no connection');
  connectionId = row.id;
  webhookUrl = `${h.stack.url}/functions/v1/whatsapp/${connectionId}`;
}, 180_000);
afterAll(async () => {
  await h?.close();
  await graph?.close();
});
beforeEach(() => {
  h.llm.reset();
});

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 30_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function query<T>(text: string, params: unknown[] = []) {
  return h.db.asService((sql) => sql.query<T>(text, params));
}

async function conversationOf(waId: string) {
  const [row] = await query<{ id: string; channel: string; contact_id: string }>(
    `select c.id, c.channel, c.contact_id from public.conversations c
       join public.contacts k on k.id = c.contact_id
      where k.tenant_id = $1 and k.wa_id = $2 order by c.created_at desc limit 1`,
    [tenantId, waId],
  );
  return row;
}

async function messagesOf(conversationId: string) {
  return query<{ id: string; role: string; content: string; status: string; is_private: boolean }>(
    `select id, role, content, status, is_private from public.messages
      where conversation_id = $1 order by created_at, id`,
    [conversationId],
  );
}

const sendsTo = (waId: string) => graph.sent.filter((m) => m.body.to === waId && m.wamid);

async function say(waId: string, type: string, content: Record<string, unknown>, options = {}) {
  const res = await deliver(
    webhookUrl,
    APP_SECRET,
    delivery(number, inbound(waId, type, content, options)),
  );
  expect(res.status).toBe(200);
}

describe('verification handshake', () => {
  it('echoes the challenge for the right verify token', async () => {
    const res = await fetch(
      `${webhookUrl}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1158201444');
  });

  it('refuses a wrong token, an unknown connection and a malformed request', async () => {
    const wrong = await fetch(
      `${webhookUrl}?hub.mode=subscribe&hub.verify_token=nope-nope&hub.challenge=1`,
    );
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).error.code).toBe('bad_verify_token');
    const unknown = await fetch(
      `${h.stack.url}/functions/v1/whatsapp/${crypto.randomUUID()}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`,
    );
    expect(unknown.status).toBe(403);
    const malformed = await fetch(`${webhookUrl}?hub.mode=unsubscribe`);
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('invalid_request');
  });
});

describe('signatures', () => {
  it('refuses missing and forged signatures before reading anything', async () => {
    const waId = newCustomer();
    const payload = delivery(number, inbound(waId, 'text', { text: { body: 'hello' } }));
    const missing = await deliver(webhookUrl, null, payload);
    expect(missing.status).toBe(401);
    expect((await missing.json()).error.code).toBe('missing_signature');
    const forged = await deliver(webhookUrl, 'not-the-app-secret', payload);
    expect(forged.status).toBe(403);
    expect((await forged.json()).error.code).toBe('bad_signature');
    // Signed, then altered in transit.
    const body = JSON.stringify(payload);
    const altered = await fetch(webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-hub-signature-256': signature(APP_SECRET, body),
      },
      body: body.replace('hello', 'HELLO'),
    });
    expect(altered.status).toBe(403);
    const garbage = await deliver(webhookUrl, null, payload, { signatureHeader: 'sha256=zz' });
    expect(garbage.status).toBe(403);
    expect(await conversationOf(waId)).toBeUndefined();
  });
});

describe('inbound messages and replies', () => {
  it('a text becomes a message of the contact’s WhatsApp conversation and the reply is sent', async () => {
    const waId = newCustomer();
    h.llm.script({ text: 'We ship in 3 to 5 days.' });
    await say(waId, 'text', { text: { body: 'How long does shipping take?' } }, { name: 'Ana' });
    const sent = await until('the reply sent', async () => sendsTo(waId)[0]);
    expect(sent.phoneNumberId).toBe(number.phoneNumberId);
    expect(sent.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(sent.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: waId,
      type: 'text',
      text: { body: 'We ship in 3 to 5 days.' },
    });
    const conversation = await conversationOf(waId);
    expect(conversation?.channel).toBe('whatsapp');
    const [contact] = await query<{ name: string; identifier: string }>(
      'select name, identifier from public.contacts where id = $1',
      [conversation?.contact_id],
    );
    expect(contact).toEqual({ name: 'Ana', identifier: `whatsapp:${waId}` });
    const messages = await until('the reply marked sent', async () => {
      const rows = await messagesOf(conversation?.id ?? '');
      return rows.find((m) => m.role === 'assistant')?.status === 'sent' && rows;
    });
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'How long does shipping take?'],
      ['assistant', 'We ship in 3 to 5 days.'],
    ]);
    // The next message joins the same conversation.
    h.llm.script({ text: 'You are welcome.' });
    await say(waId, 'text', { text: { body: 'Thanks' } });
    await until('the second reply', async () => sendsTo(waId).length === 2);
    expect((await conversationOf(waId))?.id).toBe(conversation?.id);
  });

  it('quick replies go out as reply buttons (up to 3) or a list (up to 10)', async () => {
    const buttons = newCustomer();
    h.llm.script({
      text: 'What can I help with?\n<quick_replies>["Track order", "Returns"]</quick_replies>',
    });
    await say(buttons, 'text', { text: { body: 'hi there, question 1' } });
    const sent = await until('buttons', async () => sendsTo(buttons)[0]);
    expect(sent.body).toMatchObject({
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: 'What can I help with?' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'Track order', title: 'Track order' } },
            { type: 'reply', reply: { id: 'Returns', title: 'Returns' } },
          ],
        },
      },
    });

    const list = newCustomer();
    h.llm.script({
      text: 'Pick a topic.\n<quick_replies>["Shipping", "Returns", "Sizes", "Something else entirely, please"]</quick_replies>',
    });
    await say(list, 'text', { text: { body: 'hi there, question 2' } });
    const listed = await until('a list', async () => sendsTo(list)[0]);
    const interactive = listed.body.interactive as {
      type: string;
      action: { sections: { rows: { id: string; title: string }[] }[] };
    };
    expect(interactive.type).toBe('list');
    const rows = interactive.action.sections[0]?.rows ?? [];
    expect(rows.map((r) => r.title)).toEqual([
      'Shipping',
      'Returns',
      'Sizes',
      'Something else entirely,',
    ]);
    expect(rows.every((r) => r.title.length <= 24)).toBe(true);
  });

  it('reads every inbound type, fetching media into the attachments bucket', async () => {
    const waId = newCustomer();
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    graph.media('1200001', png, 'image/jpeg');
    graph.media('1200002', new Uint8Array([79, 103, 103, 83]), 'audio/ogg; codecs=opus');
    graph.media('1200003', new Uint8Array([0, 0, 0, 24]), 'video/mp4');
    graph.media('1200004', new TextEncoder().encode('%PDF-1.4'), 'application/pdf');
    graph.media('1200005', new Uint8Array([82, 73, 70, 70]), 'image/webp');
    const cases: [string, Record<string, unknown>, string][] = [
      ['text', { text: { body: 'plain text' } }, 'plain text'],
      [
        'interactive',
        {
          interactive: { type: 'button_reply', button_reply: { id: 'Returns', title: 'Returns' } },
        },
        'Returns',
      ],
      [
        'interactive',
        {
          interactive: {
            type: 'list_reply',
            list_reply: { id: 'Sizes', title: 'Sizes', description: 'Size guide' },
          },
        },
        'Sizes',
      ],
      ['button', { button: { payload: 'STOP_PROMO', text: 'Stop promotions' } }, 'Stop promotions'],
      [
        'location',
        {
          location: {
            latitude: 40.4168,
            longitude: -3.7038,
            name: 'Tienda Sol',
            address: 'Puerta del Sol 1, Madrid',
          },
        },
        'Location: Tienda Sol, Puerta del Sol 1, Madrid (40.4168, -3.7038)',
      ],
      [
        'contacts',
        {
          contacts: [
            {
              name: { formatted_name: 'Luis Pérez', first_name: 'Luis' },
              phones: [{ phone: '+34 600 111 222', wa_id: '34600111222', type: 'CELL' }],
            },
          ],
        },
        'Contact: Luis Pérez: +34 600 111 222',
      ],
      [
        'image',
        { image: { id: '1200001', mime_type: 'image/jpeg', sha256: 'x', caption: 'My parcel' } },
        'My parcel',
      ],
      [
        'audio',
        { audio: { id: '1200002', mime_type: 'audio/ogg; codecs=opus', voice: true } },
        '[audio]',
      ],
      ['video', { video: { id: '1200003', mime_type: 'video/mp4' } }, '[video]'],
      [
        'document',
        { document: { id: '1200004', mime_type: 'application/pdf', filename: 'invoice.pdf' } },
        '[document: invoice.pdf]',
      ],
      [
        'sticker',
        { sticker: { id: '1200005', mime_type: 'image/webp', animated: false } },
        '[sticker]',
      ],
    ];
    for (const [type, content] of cases) await say(waId, type, content);
    // A reaction carries nothing to answer.
    await say(waId, 'reaction', { reaction: { message_id: 'wamid.x', emoji: '👍' } });
    const conversation = await until('the conversation', () => conversationOf(waId));
    const users = await until('every message stored', async () => {
      const rows = (await messagesOf(conversation.id)).filter((m) => m.role === 'user');
      return rows.length === cases.length && rows;
    });
    expect(users.map((m) => m.content)).toEqual(cases.map(([, , text]) => text));

    const stored = await until(
      'five media stored',
      async () => {
        await runWorker(h);
        const rows = await query<{ name: string; mimetype: string | null }>(
          `select name, metadata ->> 'mimetype' as mimetype from storage.objects
          where bucket_id = 'attachments' and name like $1 order by name`,
          [`${tenantId}/${conversation.id}/%`],
        );
        return rows.length === 5 && rows;
      },
      60_000,
    );
    expect(stored.map((r) => r.name.split('.').pop()).sort()).toEqual(
      ['jpg', 'mp4', 'ogg', 'pdf', 'webp'].sort(),
    );
    // Every message got its reply job; let them finish before the next test scripts the model.
    await until(
      'the replies done',
      async () => {
        const [row] = await query<{ n: number }>(
          `select count(*)::int as n from public.jobs
          where ordering_key = $1 and status in ('queued', 'running')`,
          [`conversation:${conversation.id}`],
        );
        return row?.n === 0;
      },
      60_000,
    );
    expect(new Set(graph.mediaRequests)).toEqual(
      new Set(['1200001', '1200002', '1200003', '1200004', '1200005']),
    );
  }, 120_000);

  it('the same wamid delivered 5 times makes one message and one reply', async () => {
    const waId = newCustomer();
    const payload = delivery(
      number,
      inbound(
        waId,
        'text',
        { text: { body: 'Is this stored once?' } },
        { id: 'wamid.HBgLdupe0001' },
      ),
    );
    h.llm.script({ text: 'Once.' });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => deliver(webhookUrl, APP_SECRET, payload)),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    // And again later, after the reply went out.
    await until('the reply', async () => sendsTo(waId).length === 1);
    expect((await deliver(webhookUrl, APP_SECRET, payload)).status).toBe(200);
    await runWorker(h);
    const conversation = await conversationOf(waId);
    const rows = await messagesOf(conversation?.id ?? '');
    expect(rows.filter((m) => m.role === 'user')).toHaveLength(1);
    expect(rows.filter((m) => m.role === 'assistant')).toHaveLength(1);
    const [jobs] = await query<{ replies: number; sends: number }>(
      `select count(*) filter (where kind = 'reply')::int as replies,
              count(*) filter (where kind = 'whatsapp_send')::int as sends
         from public.jobs where payload ->> 'conversation_id' = $1`,
      [conversation?.id],
    );
    expect(jobs).toEqual({ replies: 1, sends: 1 });
    expect(sendsTo(waId)).toHaveLength(1);
    const asked = h.llm.requests.filter((r) => JSON.stringify(r.body).includes('stored once'));
    expect(asked).toHaveLength(1);
  });
});

describe('statuses', () => {
  it('out of order and repeated, a status only moves forward; failed keeps Meta’s errors', async () => {
    const waId = newCustomer();
    h.llm.script({ text: 'First answer.' }, { text: 'Second answer.' });
    await say(waId, 'text', { text: { body: 'one' } });
    const first = await until('the first send', async () => sendsTo(waId)[0]);
    const wamid = first.wamid ?? '';
    const at = Date.now();
    for (const s of ['read', 'delivered', 'sent', 'delivered'] as const) {
      const res = await deliver(
        webhookUrl,
        APP_SECRET,
        delivery(number, status(wamid, waId, s, { at })),
      );
      expect(res.status).toBe(200);
    }
    const conversation = await conversationOf(waId);
    const reply = (await messagesOf(conversation?.id ?? '')).find((m) => m.role === 'assistant');
    expect(reply?.status).toBe('read');

    await say(waId, 'text', { text: { body: 'two' } });
    const second = await until('the second send', async () => sendsTo(waId)[1]);
    const errors = [
      {
        code: 131026,
        title: 'Message undeliverable',
        message: 'Message undeliverable',
        error_data: { details: 'Message Undeliverable.' },
      },
    ];
    await deliver(
      webhookUrl,
      APP_SECRET,
      delivery(number, status(second.wamid ?? '', waId, 'failed', { errors })),
    );
    await deliver(
      webhookUrl,
      APP_SECRET,
      delivery(number, status(second.wamid ?? '', waId, 'delivered')),
    );
    const rows = (await messagesOf(conversation?.id ?? '')).filter((m) => m.role === 'assistant');
    expect(rows.map((m) => m.status)).toEqual(['read', 'failed']);
    const [record] = await query<{ errors: { code: number }[] }>(
      'select errors from private.whatsapp_messages where wamid = $1',
      [second.wamid],
    );
    expect(record?.errors[0]?.code).toBe(131026);
    // The inbox is told, once, with Meta's code.
    await deliver(
      webhookUrl,
      APP_SECRET,
      delivery(number, status(second.wamid ?? '', waId, 'failed', { errors })),
    );
    const notes = (await messagesOf(conversation?.id ?? '')).filter((m) => m.role === 'system');
    expect(notes.map((m) => [m.content, m.is_private])).toEqual([
      ['Not delivered on WhatsApp: 131026 Message undeliverable (Message Undeliverable.)', true],
    ]);
  });

  it('a status that beats the send’s own record is kept and applied', async () => {
    const waId = newCustomer();
    const wamid = 'wamid.HBgLearly0001';
    await deliver(webhookUrl, APP_SECRET, delivery(number, status(wamid, waId, 'delivered')));
    const [row] = await query<{ status: string; message_id: string | null }>(
      'select status, message_id from private.whatsapp_messages where wamid = $1',
      [wamid],
    );
    expect(row).toEqual({ status: 'delivered', message_id: null });
  });
});

describe('sending', () => {
  it('outside the 24-hour window nothing free-form is sent and the inbox is told why', async () => {
    const waId = newCustomer();
    h.llm.script({ text: 'Too late to send this.' });
    await say(
      waId,
      'text',
      { text: { body: 'Hello from yesterday' } },
      { at: Date.now() - 25 * 3600_000 },
    );
    const conversation = await until('the conversation', () => conversationOf(waId));
    const rows = await until('the failed reply', async () => {
      const all = await messagesOf(conversation.id);
      return all.some((m) => m.role === 'system') && all;
    });
    expect(rows.find((m) => m.role === 'assistant')?.status).toBe('failed');
    const note = rows.find((m) => m.role === 'system');
    expect(note?.is_private).toBe(true);
    expect(note?.content).toMatch(/24-hour customer-service window/);
    expect(graph.sent.filter((m) => m.body.to === waId)).toHaveLength(0);
    const [closes] = await query<{ at: Date }>(
      'select public.whatsapp_window_closes_at($1) as at',
      [conversation.id],
    );
    expect(closes?.at.getTime()).toBeLessThan(Date.now());
  });

  it('Meta’s re-engagement error (131047) fails clearly; rate limits are retried', async () => {
    const late = newCustomer();
    graph.failNext({ status: 400, code: 131047, message: 'Re-engagement message' });
    h.llm.script({ text: 'Refused by Meta.' });
    await say(late, 'text', { text: { body: 'hi there, question 3' } });
    const conversation = await until('the conversation', () => conversationOf(late));
    await until('the failure noted', async () =>
      (await messagesOf(conversation.id)).some((m) => m.role === 'system'),
    );
    expect(graph.sent.filter((m) => m.body.to === late)).toHaveLength(1);

    const busy = newCustomer();
    graph.failNext(
      { status: 429, code: 130429, message: 'Rate limit hit' },
      {
        status: 400,
        code: 131056,
        message: '(Business Account, Consumer Account) pair rate limit hit',
      },
    );
    h.llm.script({ text: 'Eventually delivered.' });
    await say(busy, 'text', { text: { body: 'hi there, question 4' } });
    const sent = await until(
      'the send after two refusals',
      async () => {
        await runWorker(h);
        return sendsTo(busy)[0];
      },
      60_000,
    );
    expect(sent.body).toMatchObject({ text: { body: 'Eventually delivered.' } });
    expect(graph.sent.filter((m) => m.body.to === busy)).toHaveLength(3);
  }, 90_000);

  it('an agent’s reply from the inbox goes out; a private note does not', async () => {
    const waId = newCustomer();
    h.llm.script({ text: 'A person will help.' });
    await say(waId, 'text', { text: { body: 'I want a person' } });
    await until('the bot reply', async () => sendsTo(waId).length === 1);
    const conversation = await conversationOf(waId);
    await query(`update public.conversations set status = 'handoff' where id = $1`, [
      conversation?.id,
    ]);
    await query(
      `insert into public.messages (conversation_id, role, content, is_private)
       values ($1, 'agent', 'Internal: check the order', true),
              ($1, 'agent', 'Hi, this is Marta from support.', false)`,
      [conversation?.id],
    );
    await until('the agent reply', async () => {
      await runWorker(h);
      return sendsTo(waId).length === 2;
    });
    expect(sendsTo(waId)[1]?.body).toMatchObject({
      text: { body: 'Hi, this is Marta from support.' },
    });
    await runWorker(h);
    expect(sendsTo(waId)).toHaveLength(2);
  });
});

describe('templates', () => {
  async function templates() {
    return query<{ id: string; meta_id: string; name: string; language: string; status: string }>(
      `select id, meta_id, name, language, status, rejected_reason from public.whatsapp_templates
        where connection_id = $1 order by meta_id`,
      [connectionId],
    );
  }

  it('are synced from the business account, every page', async () => {
    const rows = await until('the templates synced', async () => {
      await runWorker(h);
      const all = await templates();
      return all.length === 3 && all;
    });
    expect(rows.map((t) => [t.meta_id, t.name, t.language, t.status])).toEqual([
      ['1001', 'order_update', 'en_US', 'APPROVED'],
      ['1002', 'order_update', 'es', 'APPROVED'],
      ['1003', 'spring_sale', 'en_US', 'PENDING'],
    ]);
  });

  it('follow message_template_status_update', async () => {
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: number.wabaId,
          time: Math.floor(Date.now() / 1000),
          changes: [
            {
              field: 'message_template_status_update',
              value: {
                event: 'REJECTED',
                message_template_id: 1003,
                message_template_name: 'spring_sale',
                message_template_language: 'en_US',
                reason: 'INCORRECT_CATEGORY',
              },
            },
          ],
        },
      ],
    };
    expect((await deliver(webhookUrl, APP_SECRET, payload)).status).toBe(200);
    const spring = (await templates()).find((t) => t.meta_id === '1003');
    expect(spring).toMatchObject({ status: 'REJECTED', rejected_reason: 'INCORRECT_CATEGORY' });
  });

  it('an approved template with variables goes out past the 24-hour window', async () => {
    const waId = newCustomer();
    h.llm.script({ text: 'Late again.' });
    await say(
      waId,
      'text',
      { text: { body: 'Where is my order TH-1234?' } },
      {
        at: Date.now() - 30 * 3600_000,
      },
    );
    const conversation = await until('the conversation', () => conversationOf(waId));
    await until('the bot reply refused', async () =>
      (await messagesOf(conversation.id)).some((m) => m.role === 'system'),
    );
    const agentId = await h.db.asService(async (sql) => {
      const id = await createUser(sql);
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
        [tenantId, id],
      );
      return id;
    });
    const all = await templates();
    const english = all.find((t) => t.meta_id === '1001');
    const rejected = all.find((t) => t.meta_id === '1003');
    const send = (templateId: string | undefined, variables: string[]) =>
      h.db
        .asUser(userClaims(agentId), (sql) =>
          sql.query<{ id: string }>(
            'select public.send_whatsapp_template($1, $2, $3::text[]) as id',
            [conversation.id, templateId, variables],
          ),
        )
        .then(
          ([row]) => row?.id,
          (error: { code?: string }) => `error ${error.code}`,
        );
    expect(await send(english?.id, ['Ana'])).toBe('error 22023');
    expect(await send(rejected?.id, [])).toBe('error 22023');
    const messageId = await send(english?.id, ['Ana', 'TH-1234']);
    expect(messageId).toMatch(/^[0-9a-f-]{36}$/);
    const sent = await until('the template sent', async () => {
      await runWorker(h);
      return sendsTo(waId)[0];
    });
    expect(sent.body).toMatchObject({
      to: waId,
      type: 'template',
      template: {
        name: 'order_update',
        language: { code: 'en_US' },
        components: [
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Ana' },
              { type: 'text', text: 'TH-1234' },
            ],
          },
        ],
      },
    });
    const message = (await messagesOf(conversation.id)).find((m) => m.id === messageId);
    expect(message).toMatchObject({ role: 'agent', content: 'Hi Ana, order TH-1234 has shipped.' });
    // Someone outside the tenant cannot send it.
    const stranger = await h.db.asService((sql) => createUser(sql));
    const refused = await h.db
      .asUser(userClaims(stranger), (sql) =>
        sql.query('select public.send_whatsapp_template($1, $2, $3::text[])', [
          conversation.id,
          english?.id,
          ['x', 'y'],
        ]),
      )
      .then(
        () => 'sent',
        (error: { code?: string }) => error.code,
      );
    expect(refused).toBe('42501');
  });
});
