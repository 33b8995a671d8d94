// `npm run bench:whatsapp`: a signed inbound WhatsApp webhook → the bot's reply arriving at the
// Graph API, p50/p95/p99, through the local stack with a zero-delay fake LLM and a fake Graph API,
// at 1 and 10 customers writing at once; how long Meta waits for the webhook's 200; and broadcast
// throughput: recipients queued per second, and template messages accepted per second by a fake
// Graph API that allows N messages per second (answering more with Meta's 130429).
import { createPostgresDb } from '../functions/_shared/db/postgres.ts';
import { FAKE_API_KEY, FAKE_MODEL, startFakeLlm } from '../tests/support/fake-llm.ts';
import { createUser, userClaims } from '../tests/support/world.ts';
import { deliver, delivery, inbound, startFakeGraph } from '../tests/whatsapp/fake-meta.ts';
import { ms as millis, percentile, startStack } from './support.ts';

const ms = (n: number) => millis(n).padStart(9);
const ACCESS_TOKEN = 'EAAG-bench-token';
const APP_SECRET = 'bench-app-secret';
const number = { phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881', wabaId: '1' };

const llm = await startFakeLlm({ defaultReply: { text: 'Standard shipping takes 3 to 5 days.' } });
const graph = await startFakeGraph(ACCESS_TOKEN);
const stack = await startStack(['--memory'], { WHATSAPP_GRAPH_URL: graph.url });
const db = createPostgresDb(stack.dbUrl, { max: 1 });
const { connectionId, tenantId } = await db.asService(async (sql) => {
  const [tenant] = await sql.query<{ id: string }>(
    `insert into public.tenants (name, slug, llm_config, plan_id)
     values ('Bench shop', 'bench-wa', $1::jsonb, 'business') returning id`,
    [{ provider: 'openai', base_url: llm.url.openai, model: FAKE_MODEL }],
  );
  if (!tenant) throw new Error('no tenant');
  await sql.query('update public.tenant_secrets set llm_api_key = $2 where tenant_id = $1', [
    tenant.id,
    FAKE_API_KEY,
  ]);
  const [row] = await sql.query<{ id: string }>(
    `insert into public.whatsapp_connections
       (tenant_id, phone_number_id, access_token, app_secret, verify_token)
     values ($1, $2, $3, $4, 'bench-verify-token') returning id`,
    [tenant.id, number.phoneNumberId, ACCESS_TOKEN, APP_SECRET],
  );
  return { connectionId: row?.id ?? '', tenantId: tenant.id };
});
const url = `${stack.url}/functions/v1/whatsapp/${connectionId}`;

const waiting = new Map<string, (at: number) => void>();
graph.onSend = (message) => waiting.get(message.body.to)?.(message.at);

console.log('Signed webhook → reply POSTed to the Graph API (zero-delay fake LLM and Graph API)');
let phone = 34600000000;
for (const customers of [1, 10]) {
  const perCustomer = customers === 1 ? 40 : 8;
  const latencies: number[] = [];
  const acks: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: customers }, async () => {
      const waId = String(phone++);
      for (let i = 0; i < perCustomer; i++) {
        const sent = new Promise<number>((resolve) => waiting.set(waId, resolve));
        const at = performance.now();
        const payload = delivery(
          number,
          inbound(waId, 'text', { text: { body: `How long does shipping take? #${i} ${waId}` } }),
        );
        const res = await deliver(url, APP_SECRET, payload);
        acks.push(performance.now() - at);
        if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
        await res.body?.cancel();
        latencies.push((await sent) - at);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  ${String(customers).padStart(2)} customer(s) × ${perCustomer}   p50 ${ms(percentile(latencies, 50))}  p95 ${ms(percentile(latencies, 95))}  p99 ${ms(percentile(latencies, 99))}   ${(latencies.length / seconds).toFixed(1)} replies/s`,
  );
  console.log(
    `  ${' '.repeat(20)}webhook 200 p50 ${ms(percentile(acks, 50))}  p95 ${ms(percentile(acks, 95))}`,
  );
}

// --- Broadcasts ---------------------------------------------------------------------------------
const RECIPIENTS = 2000;
const owner = await db.asService(async (sql) => {
  const id = await createUser(sql);
  await sql.query(
    `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner')`,
    [tenantId, id],
  );
  await sql.query(
    `insert into public.whatsapp_templates (tenant_id, connection_id, meta_id, name, language, status, components)
     values ($1, $2, '9001', 'bench_sale', 'en_US', 'APPROVED', '[{"type": "BODY", "text": "Hi {{1}}!"}]')`,
    [tenantId, connectionId],
  );
  await sql.query(
    `insert into public.contacts (tenant_id, identifier, wa_id, whatsapp_opt_in_at)
     select $1, 'whatsapp:' || w, w, now()
       from (select '3479' || lpad(i::text, 7, '0') as w from generate_series(1, $2) i) s`,
    [tenantId, RECIPIENTS],
  );
  return id;
});
const [template] = await db.asService((sql) =>
  sql.query<{ id: string }>(`select id from public.whatsapp_templates where meta_id = '9001'`),
);
console.log(`Broadcast of ${RECIPIENTS} template messages (fake Graph API allowing N messages/s)`);
graph.onSend = undefined;
for (const [allowed, rate] of [
  [80, 80],
  [200, 250],
  [1000, 1000],
] as const) {
  graph.reset();
  graph.perSecond = allowed;
  const sendTimes: number[] = [];
  graph.onSend = (m) => {
    if (m.body.type === 'template') sendTimes.push(m.at);
  };
  const created = performance.now();
  const [row] = await db.asUser(userClaims(owner), (sql) =>
    sql.query<{ id: string }>(
      `select public.create_whatsapp_broadcast($1, $2, array['friend'], '{}'::jsonb, null, $3) as id`,
      [template?.id, `bench ${allowed}/${rate}`, rate],
    ),
  );
  const queuedMs = performance.now() - created;
  for (;;) {
    const [state] = await db.asService((sql) =>
      sql.query<{ s: { status: string } }>('select public.whatsapp_broadcast_summary($1) as s', [
        row?.id,
      ]),
    );
    if (state?.s.status === 'completed' || state?.s.status === 'stopped') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const total = (performance.now() - created) / 1000;
  const first = sendTimes[0] ?? 0;
  const span = ((sendTimes.at(-1) ?? first) - first) / 1000 || 1;
  console.log(
    `  Meta allows ${String(allowed).padStart(4)}/s, rate ${String(rate).padStart(4)}/s   queued ${((RECIPIENTS / queuedMs) * 1000).toFixed(0).padStart(6)} recipients/s   sent ${(sendTimes.length / span).toFixed(1).padStart(6)} messages/s (${sendTimes.length} in ${span.toFixed(1)} s, ${graph.rateLimited} rate-limit answers retried)   done after ${total.toFixed(1)} s`,
  );
  // The next scenario sends to the same contacts: this broadcast's sends are not its own.
  graph.onSend = undefined;
}
await db.close();
await stack.stop();
await graph.close();
await llm.close();
