import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  runWorker,
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
  type SentMessage,
  startFakeGraph,
} from './fake-meta.ts';
import { signedIn, until } from './support.ts';

// Broadcasts on the local stack against a fake Graph API that allows a fixed number of messages
// per second and refuses some recipients: 1,000 opted-in contacts, opt-outs that are never
// messaged, rate-limit answers retried, statuses from Meta's webhooks in any order, a summary
// that adds up, an expired token that stops a broadcast, and who may do any of it.

const ACCESS_TOKEN = 'EAAG-broadcast-token';
const APP_SECRET = 'broadcast-app-secret-01';
const number: MetaNumber = {
  phoneNumberId: '106540352247777',
  displayPhoneNumber: '15550787777',
  wabaId: '102290129347777',
};
const RECIPIENTS = 1000;

let h: ChatHarness;
let graph: FakeGraph;
let a: TestTenant;
let b: TestTenant;
let connectionId: string;
let templateId: string;
let webhookUrl: string;
let clients: { ownerA: SupabaseClient; agentA: SupabaseClient; ownerB: SupabaseClient };

const waId = (i: number) => `3471${String(i).padStart(6, '0')}`;

function query<T>(text: string, params: unknown[] = []) {
  return h.db.asService((sql) => sql.query<T>(text, params));
}

async function summary(id: string) {
  const [row] = await query<{ s: Record<string, number | string> }>(
    'select public.whatsapp_broadcast_summary($1) as s',
    [id],
  );
  return row?.s ?? {};
}

/** Runs due jobs until the broadcast has no recipient left without an outcome. */
async function sendAll(id: string) {
  await query(
    `update public.jobs set run_at = now() where kind = 'whatsapp_broadcast' and status = 'queued'`,
  );
  await until(
    'the broadcast to finish',
    async () => {
      await runWorker(h);
      const s = await summary(id);
      return s.status === 'completed' || s.status === 'stopped' ? s : null;
    },
    240_000,
  );
}

const templateSends = () =>
  graph.sent.filter(
    (m): m is SentMessage & { wamid: string } => m.body.type === 'template' && !!m.wamid,
  );

beforeAll(async () => {
  graph = await startFakeGraph(ACCESS_TOKEN);
  h = await startChatHarness({ WHATSAPP_GRAPH_URL: graph.url });
  [a, b] = await Promise.all([createTenant(h), createTenant(h)]);
  const [ownerA, agentA, ownerB] = await Promise.all([
    createStaff(h, a, 'owner', 'Owner A'),
    createStaff(h, a, 'agent', 'Agent A'),
    createStaff(h, b, 'owner', 'Owner B'),
  ]);
  clients = {
    ownerA: await signedIn(h, ownerA),
    agentA: await signedIn(h, agentA),
    ownerB: await signedIn(h, ownerB),
  };
  const [conn] = await query<{ id: string }>(
    `insert into public.whatsapp_connections
       (tenant_id, phone_number_id, access_token, app_secret, verify_token)
     values ($1, $2, $3, $4, 'broadcast-verify') returning id`,
    [a.id, number.phoneNumberId, ACCESS_TOKEN, APP_SECRET],
  );
  connectionId = conn?.id as string;
  webhookUrl = `${h.stack.url}/functions/v1/whatsapp/${connectionId}`;
  const [tpl] = await query<{ id: string }>(
    `insert into public.whatsapp_templates (tenant_id, connection_id, meta_id, name, language, category, status, components)
     values ($1, $2, '5001', 'spring_sale', 'en_US', 'MARKETING', 'APPROVED',
             '[{"type": "BODY", "text": "Hi {{1}}, our spring sale starts today!"}]') returning id`,
    [a.id, connectionId],
  );
  templateId = tpl?.id as string;
  // The segment: 1,000 opted in; around them contacts a broadcast must never reach.
  await query(
    `insert into public.contacts (tenant_id, identifier, wa_id, attributes, whatsapp_opt_in_at)
     select $1, 'whatsapp:' || w, w, '{"list": "spring"}', now()
       from (select '3471' || lpad(i::text, 6, '0') as w from generate_series(1, $2) i) s`,
    [a.id, RECIPIENTS],
  );
  await query(
    `insert into public.contacts (tenant_id, identifier, wa_id, attributes, whatsapp_opt_in_at, whatsapp_opted_out_at)
     select $1, 'whatsapp:' || w, w, '{"list": "spring"}', now() - interval '1 day', now()
       from (select '3472' || lpad(i::text, 6, '0') as w from generate_series(1, 30) i) s`,
    [a.id],
  );
  await query(
    `insert into public.contacts (tenant_id, identifier, wa_id, attributes)
     select $1, 'whatsapp:' || w, w, '{"list": "spring"}'
       from (select '3473' || lpad(i::text, 6, '0') as w from generate_series(1, 20) i) s`,
    [a.id],
  );
  await query(
    `insert into public.contacts (tenant_id, identifier, wa_id, attributes, whatsapp_opt_in_at)
     select $1, 'whatsapp:' || w, w, '{"list": "small"}', now()
       from (select '3474' || lpad(i::text, 6, '0') as w from generate_series(1, 25) i) s`,
    [a.id],
  );
}, 240_000);
afterAll(async () => {
  await h?.close();
  await graph?.close();
});

describe('who may broadcast', () => {
  it('refuses agents, other tenants and visitors, and hides broadcasts from them', async () => {
    const args = {
      p_template_id: templateId,
      p_name: 'Not allowed',
      p_variables: ['friend'],
      p_segment: { attributes: { list: 'small' } },
    };
    for (const client of [clients.agentA, clients.ownerB]) {
      const { error } = await client.rpc('create_whatsapp_broadcast', args);
      expect(error?.code).toBe('42501');
    }
    const visitor = await Visitor.signIn(h);
    const byVisitor = await visitor.client.rpc('create_whatsapp_broadcast', args);
    expect(byVisitor.error?.code).toBe('42501');

    const { data: id, error } = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      ...args,
      p_name: 'Later',
      p_scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(error).toBeNull();
    for (const client of [clients.agentA, clients.ownerB, visitor.client]) {
      const rows = await client.from('whatsapp_broadcasts').select('id').eq('id', id);
      expect(rows.data ?? []).toEqual([]);
      const recipients = await client
        .from('whatsapp_broadcast_recipients')
        .select('wa_id')
        .eq('broadcast_id', id);
      expect(recipients.data ?? []).toEqual([]);
      const { data: counts } = await client.rpc('whatsapp_broadcast_summary', {
        p_broadcast_id: id,
      });
      expect(counts ?? null).toBeNull();
      const paused = await client.rpc('set_whatsapp_broadcast_paused', {
        p_broadcast_id: id,
        p_paused: true,
      });
      expect(paused.error?.code).toBe('42501');
      // Nor can anyone write the tables directly.
      const forged = await client.from('whatsapp_broadcast_recipients').insert({
        broadcast_id: id,
        contact_id: crypto.randomUUID(),
        tenant_id: a.id,
        wa_id: '3400000000',
      });
      expect(forged.error).not.toBeNull();
    }
    const mine = await clients.ownerA
      .from('whatsapp_broadcasts')
      .select('status')
      .eq('id', id)
      .single();
    expect(mine.data?.status).toBe('scheduled');
    expect(
      (
        await clients.ownerA.rpc('set_whatsapp_broadcast_paused', {
          p_broadcast_id: id,
          p_paused: true,
        })
      ).data,
    ).toBe('paused');
    expect(
      (
        await clients.ownerA.rpc('set_whatsapp_broadcast_paused', {
          p_broadcast_id: id,
          p_paused: false,
        })
      ).data,
    ).toBe('resumed');
    // A paused-then-cancelled broadcast is left for the expiry test below.
    await clients.ownerA.rpc('set_whatsapp_broadcast_paused', {
      p_broadcast_id: id,
      p_paused: true,
    });
    // Staff cannot lift a customer's opt-out.
    const lifted = await clients.ownerA
      .from('contacts')
      .update({ whatsapp_opted_out_at: null })
      .eq('tenant_id', a.id)
      .eq('wa_id', '3472000001');
    expect(lifted.error?.code).toBe('42501');
  }, 120_000);
});

describe('a broadcast to 1,000 contacts', () => {
  it('reaches every opted-in contact once, at the allowed rate, each ending in exactly one state', async () => {
    graph.reset();
    graph.perSecond = 150;
    // 10 % of the numbers Meta will not message.
    graph.refuse = (body) =>
      body.type === 'template' && body.to.endsWith('7')
        ? { status: 400, code: 131026, message: 'Message undeliverable' }
        : null;
    const { data: id, error } = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      p_template_id: templateId,
      p_name: 'Spring sale',
      p_variables: ['friend'],
      p_segment: { attributes: { list: 'spring' } },
      p_scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
      p_messages_per_second: 200,
    });
    expect(error).toBeNull();
    expect((await summary(id)).total).toBe(RECIPIENTS);

    // Three recipients write STOP before it goes out: confirmed, and skipped.
    const stoppers = [waId(11), waId(12), waId(13)];
    for (const from of stoppers) {
      const res = await deliver(
        webhookUrl,
        APP_SECRET,
        delivery(number, inbound(from, 'text', { text: { body: 'Stop' } })),
      );
      expect(res.status).toBe(200);
    }
    await until('the opt-out confirmations', async () =>
      stoppers.every((to) =>
        graph.sent.some(
          (m) =>
            m.body.to === to &&
            m.wamid &&
            JSON.stringify(m.body).includes('You will not receive any more broadcasts'),
        ),
      ),
    );

    const started = performance.now();
    await sendAll(id);
    const seconds = (performance.now() - started) / 1000;

    const sends = templateSends();
    const optedOut = new Set([
      ...stoppers,
      ...Array.from({ length: 30 }, (_, i) => `3472${String(i + 1).padStart(6, '0')}`),
      ...Array.from({ length: 20 }, (_, i) => `3473${String(i + 1).padStart(6, '0')}`),
    ]);
    expect(graph.sent.filter((m) => m.body.type === 'template' && optedOut.has(m.body.to))).toEqual(
      [],
    );
    // Never twice to anyone, and never outside the segment.
    const tos = sends.map((m) => m.body.to);
    expect(new Set(tos).size).toBe(tos.length);
    expect(tos.every((to) => to.startsWith('3471'))).toBe(true);
    expect(graph.rateLimited).toBeGreaterThan(0);
    expect(sends[0]?.body).toMatchObject({
      type: 'template',
      template: {
        name: 'spring_sale',
        language: { code: 'en_US' },
        components: [{ type: 'body', parameters: [{ type: 'text', text: 'friend' }] }],
      },
    });

    const refused = Array.from({ length: RECIPIENTS }, (_, i) => waId(i + 1)).filter(
      (w) => w.endsWith('7') && !stoppers.includes(w),
    );
    expect(sends).toHaveLength(RECIPIENTS - stoppers.length - refused.length);
    const afterSend = await summary(id);
    expect(afterSend).toMatchObject({
      status: 'completed',
      total: RECIPIENTS,
      queued: 0,
      sent: sends.length,
      failed: refused.length,
      skipped: stoppers.length,
    });
    console.log(
      `broadcast: ${sends.length} sent in ${seconds.toFixed(1)} s, ${graph.rateLimited} rate-limit answers retried`,
    );

    // Meta's statuses, 100 to a delivery, read before delivered for some, a few failed late.
    const statuses = sends.flatMap((m, i) => {
      const base = {
        id: m.wamid,
        recipient_id: m.body.to,
        timestamp: String(Math.floor(Date.now() / 1000)),
      };
      if (i % 25 === 0)
        return [
          {
            ...base,
            status: 'failed',
            errors: [
              {
                code: 131049,
                title: 'This message was not delivered to maintain healthy ecosystem engagement.',
              },
            ],
          },
        ];
      if (i % 3 === 0)
        return [
          { ...base, status: 'read' },
          { ...base, status: 'delivered' },
        ];
      return [{ ...base, status: 'delivered' }];
    });
    for (let i = 0; i < statuses.length; i += 100) {
      const res = await deliver(
        webhookUrl,
        APP_SECRET,
        delivery(number, { statuses: statuses.slice(i, i + 100) }),
      );
      expect(res.status).toBe(200);
    }
    // A customer answers the broadcast (its message was delivered, index 1).
    const replier = sends[1]?.body.to as string;
    await deliver(
      webhookUrl,
      APP_SECRET,
      delivery(number, inbound(replier, 'text', { text: { body: 'Is the blue tent included?' } })),
    );

    const failedLate = sends.filter((_, i) => i % 25 === 0).length;
    const read = sends.filter((_, i) => i % 25 !== 0 && i % 3 === 0).length;
    const final = await until('the statuses', async () => {
      const s = await summary(id);
      return s.replied === 1 ? s : null;
    });
    expect(final).toMatchObject({
      total: RECIPIENTS,
      queued: 0,
      sent: 0,
      failed: refused.length + failedLate,
      read,
      delivered: sends.length - failedLate - read - 1,
      replied: 1,
      skipped: stoppers.length,
    });
    const reasons = await query<{ reason: string; n: number }>(
      `select reason, count(*)::int as n from public.whatsapp_broadcast_recipients
        where broadcast_id = $1 and status = 'failed' group by reason order by reason`,
      [id],
    );
    expect(reasons).toEqual([
      { reason: '131026/2494055: Message undeliverable', n: refused.length },
      {
        reason: '131049 This message was not delivered to maintain healthy ecosystem engagement.',
        n: failedLate,
      },
    ]);
    expect(
      await query<{ whatsapp_opted_out_at: Date }>(
        `select whatsapp_opted_out_at from public.contacts where tenant_id = $1 and wa_id = any($2) and whatsapp_opted_out_at is not null`,
        [a.id, stoppers],
      ),
    ).toHaveLength(3);
  }, 400_000);

  it('stops early when Meta no longer accepts the access token', async () => {
    graph.reset();
    graph.perSecond = undefined;
    graph.refuse = undefined;
    await query(
      `update public.whatsapp_connections set access_token = 'EAAG-expired' where id = $1`,
      [connectionId],
    );
    const { data: id, error } = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      p_template_id: templateId,
      p_name: 'Small list',
      p_variables: ['friend'],
      p_segment: { attributes: { list: 'small' } },
      p_scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(error).toBeNull();
    await sendAll(id);
    const s = await summary(id);
    expect(s).toMatchObject({ status: 'stopped', total: 25, failed: 25, queued: 0 });
    expect(String(s.stopped_reason)).toContain('access token');
    expect(templateSends()).toHaveLength(0);
  }, 300_000);
});

describe('a broadcast that starts a flow', () => {
  const flowWaId = (i: number) => `3475${String(i).padStart(6, '0')}`;
  let flowId: string;

  beforeAll(async () => {
    await query(`update public.whatsapp_connections set access_token = $2 where id = $1`, [
      connectionId,
      ACCESS_TOKEN,
    ]);
    // Three in Lisbon on the tent list, one in Porto, one in Lisbon on another list.
    await query(
      `insert into public.contacts (tenant_id, identifier, wa_id, attributes, whatsapp_opt_in_at)
       select $1, 'whatsapp:' || w, w, a::jsonb, now()
         from (values ('3475000001', '{"list": "tents", "city": "Lisbon"}'),
                      ('3475000002', '{"list": "tents", "city": "Lisbon", "vip": true}'),
                      ('3475000003', '{"list": "tents", "city": "Lisbon"}'),
                      ('3475000004', '{"list": "tents", "city": "Porto"}'),
                      ('3475000005', '{"list": "boots", "city": "Lisbon"}')) v(w, a)`,
      [a.id],
    );
    const [flow] = await query<{ id: string }>(
      `insert into public.bot_flows (tenant_id, name, triggers, definition)
       values ($1, 'Tent offer', '{}', $2::jsonb) returning id`,
      [
        a.id,
        {
          steps: [
            {
              id: 'offer',
              type: 'ask',
              text: 'Would you like the tent offer?',
              buttons: ['Yes please', 'No thanks'],
              branches: [
                { when: ['Yes please'], next: 'size' },
                { when: ['No thanks'], next: 'bye' },
              ],
            },
            {
              id: 'size',
              type: 'ask',
              text: 'For how many people?',
              buttons: ['2', '4'],
              save_as: 'attributes.tent_size',
              next: 'thanks',
            },
            { id: 'thanks', type: 'end', text: 'Noted! We will send the details.' },
            { id: 'bye', type: 'end', text: 'No problem.' },
          ],
        },
      ],
    );
    flowId = flow?.id as string;
  });

  it('matches every condition of a multi-attribute segment, and refuses values it cannot compare', async () => {
    const { data: id, error } = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      p_template_id: templateId,
      p_name: 'Tents in Lisbon',
      p_variables: ['friend'],
      p_segment: { attributes: { list: 'tents', city: 'Lisbon' } },
      p_scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(error).toBeNull();
    const recipients = await clients.ownerA
      .from('whatsapp_broadcast_recipients')
      .select('wa_id')
      .eq('broadcast_id', id)
      .order('wa_id');
    expect(recipients.data?.map((r) => r.wa_id)).toEqual([flowWaId(1), flowWaId(2), flowWaId(3)]);
    const vip = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      p_template_id: templateId,
      p_name: 'VIPs',
      p_variables: ['friend'],
      p_segment: { attributes: { list: 'tents', vip: true } },
      p_scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect((await summary(vip.data)).total).toBe(1);
    const nested = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      p_template_id: templateId,
      p_name: 'Nested',
      p_variables: ['friend'],
      p_segment: { attributes: { city: { in: ['Lisbon'] } } },
    });
    expect(nested.error?.code).toBe('22023');
    for (const broadcast of [id, vip.data]) {
      await clients.ownerA.rpc('set_whatsapp_broadcast_paused', {
        p_broadcast_id: broadcast,
        p_paused: true,
      });
    }
  });

  it('refuses a flow that does not open with a question, or is off, or belongs elsewhere', async () => {
    const [opensWithText] = await query<{ id: string }>(
      `insert into public.bot_flows (tenant_id, name, triggers, definition)
       values ($1, 'Says hi', '{}', '{"steps": [{"id": "hi", "type": "message", "text": "Hi"}]}')
       returning id`,
      [a.id],
    );
    const [elsewhere] = await query<{ id: string }>(
      `insert into public.bot_flows (tenant_id, name, triggers, definition)
       values ($1, 'B flow', '{}', '{"steps": [{"id": "q", "type": "ask", "text": "Q?"}]}')
       returning id`,
      [b.id],
    );
    for (const flow of [opensWithText?.id, elsewhere?.id, crypto.randomUUID()]) {
      const { error } = await clients.ownerA.rpc('create_whatsapp_broadcast', {
        p_template_id: templateId,
        p_name: 'Bad flow',
        p_variables: ['friend'],
        p_flow_id: flow,
      });
      expect(error?.code).toBe('22023');
    }
  });

  it("opens with the template; the reply to it answers the flow's first question", async () => {
    graph.reset();
    graph.perSecond = undefined;
    graph.refuse = undefined;
    const { data: id, error } = await clients.ownerA.rpc('create_whatsapp_broadcast', {
      p_template_id: templateId,
      p_name: 'Tent offer',
      p_variables: ['friend'],
      p_segment: { attributes: { list: 'tents', city: 'Lisbon' } },
      p_scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
      p_flow_id: flowId,
    });
    expect(error).toBeNull();
    await sendAll(id);
    // Nobody had written to the number: outside any 24-hour window, only the template goes out.
    const sent = graph.sent.filter((m) => m.wamid);
    expect(sent.map((m) => m.body.type)).toEqual(['template', 'template', 'template']);
    expect(new Set(sent.map((m) => m.body.to))).toEqual(
      new Set([flowWaId(1), flowWaId(2), flowWaId(3)]),
    );
    expect(await summary(id)).toMatchObject({ status: 'completed', total: 3, sent: 3 });

    const say = async (from: string, text: string) => {
      const before = graph.sent.filter((m) => m.body.to === from && m.wamid).length;
      const res = await deliver(
        webhookUrl,
        APP_SECRET,
        delivery(number, inbound(from, 'text', { text: { body: text } })),
      );
      expect(res.status).toBe(200);
      return until('the answer', async () => {
        await runWorker(h);
        return graph.sent.filter((m) => m.body.to === from && m.wamid)[before]?.body;
      });
    };
    // The customer taps the template's quick-reply button: it is the answer to the first step.
    const size = await say(flowWaId(1), 'Yes please');
    expect(size.type).toBe('interactive');
    expect(JSON.stringify(size)).toContain('For how many people?');
    const done = await say(flowWaId(1), '4');
    expect((done.text as { body: string }).body).toBe('Noted! We will send the details.');
    const no = await say(flowWaId(2), 'No thanks');
    expect((no.text as { body: string }).body).toBe('No problem.');
    // Something else than the buttons: asked again, now inside the window the reply opened.
    const other = await say(flowWaId(3), 'what tent?');
    expect(JSON.stringify(other)).toContain('Would you like the tent offer?');

    const [contact] = await query<{ attributes: Record<string, unknown> }>(
      'select attributes from public.contacts where tenant_id = $1 and wa_id = $2',
      [a.id, flowWaId(1)],
    );
    expect(contact?.attributes.tent_size).toBe('4');
    expect(await summary(id)).toMatchObject({ total: 3, replied: 3 });
    const states = await query<{ status: string; n: number }>(
      `select status, count(*)::int as n from public.whatsapp_broadcast_recipients
        where broadcast_id = $1 group by status`,
      [id],
    );
    expect(states).toEqual([{ status: 'replied', n: 3 }]);
    // A later message is an ordinary one: the broadcast starts the flow once.
    const sessions = await query(
      `select 1 from private.flow_sessions s join private.whatsapp_threads t
           on t.conversation_id = s.conversation_id
        where t.wa_id = any($1)`,
      [[flowWaId(1), flowWaId(2)]],
    );
    expect(sessions).toHaveLength(0);
  }, 300_000);
});
