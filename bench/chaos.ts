// `npm run bench:chaos`: a burst of visitor messages while the booking tool fails about 30 % of
// calls and the stack is killed with SIGKILL mid-burst, then restarted on its data directory; then
// a fuzz run over every endpoint of the restarted stack. Printed, never asserted:
//   messages, replies, duplicates, missing, dead jobs, repeated tool side effects, restart time,
//   recovery seconds (kill → every reply in flight at the kill taken over by a new runner) and
//   when they were all stored, and the fuzz figures (requests sent, 2xx, 4xx, 5xx, contract
//   violations). On a busy machine the figures after the restart are mostly queueing.
//   CHAOS_VISITORS (30) × CHAOS_MESSAGES (6) messages; FUZZ_RUNS (30) requests per endpoint.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../functions/_shared/db/port.ts';
import { createPostgresDb } from '../functions/_shared/db/postgres.ts';
import { createLocalKeys } from '../supabase/local/keys.ts';
import {
  BOOKING_TOOL,
  flakySteps,
  scriptBookings,
  settle,
  toolFigures,
} from '../tests/chaos/support.ts';
import { fuzzAll } from '../tests/fuzz/requests.ts';
import { FAKE_API_KEY, FAKE_MODEL, startFakeLlm } from '../tests/support/fake-llm.ts';
import { startToolReceiver } from '../tests/support/tool-receiver.ts';
import { startStack } from './support.ts';

const VISITORS = Number(Deno.env.get('CHAOS_VISITORS') ?? 30);
const MESSAGES_EACH = Number(Deno.env.get('CHAOS_MESSAGES') ?? 6);
const FUZZ_RUNS = Number(Deno.env.get('FUZZ_RUNS') ?? 30);
const TOTAL = VISITORS * MESSAGES_EACH;

const env = {
  CHAT_VISITOR_MESSAGES_PER_MINUTE: '100000',
  CHAT_TENANT_MESSAGES_PER_MINUTE: '100000',
  CHAT_VISITOR_SESSIONS_PER_MINUTE: '100000',
  CHAT_TENANT_CONVERSATIONS_PER_MINUTE: '100000',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const keys = await createLocalKeys();
const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const llm = await startFakeLlm();
const receiver = await startToolReceiver({ secret });
receiver.on(BOOKING_TOOL.path, flakySteps(0.3, TOTAL * 10));
scriptBookings(llm, TOTAL * 6);

const dir = await mkdtemp(join(tmpdir(), 'parley-chaos-'));
let stack = await startStack(['--data', dir], env);
let db: Db = createPostgresDb(stack.dbUrl, { max: 1 });

const [tenant] = await db.asService((sql) =>
  sql.query<{ id: string; widget_key: string }>(
    `insert into public.tenants (name, slug, llm_config) values ('Chaos shop', 'chaos-shop', $1::jsonb)
     returning id, widget_key`,
    [{ provider: 'openai', base_url: llm.url.openai, model: FAKE_MODEL }],
  ),
);
if (!tenant) throw new Error('no tenant');
await db.asService(async (sql) => {
  await sql.query('update public.tenant_secrets set llm_api_key = $2 where tenant_id = $1', [
    tenant.id,
    FAKE_API_KEY,
  ]);
  await sql.query(
    `insert into public.tenant_tools (tenant_id, name, description, webhook_url, secret, parameters, timeout_ms)
     values ($1, $2, 'Books a table', $3, $4, $5::jsonb, 3000)`,
    [
      tenant.id,
      BOOKING_TOOL.name,
      receiver.url(BOOKING_TOOL.path),
      secret,
      BOOKING_TOOL.parameters,
    ],
  );
});

async function call(path: string, token: string, body?: unknown) {
  const res = await fetch(`${stack.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      apikey: keys.anonKey,
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

async function newVisitor() {
  const signup = await call('/auth/v1/signup', keys.anonKey, {});
  const token = signup.body.access_token as string;
  const session = await call('/functions/v1/chat/sessions', token, { key: tenant?.widget_key });
  return { token, conversationId: session.body.conversation.id as string };
}

const visitors = await Promise.all(Array.from({ length: VISITORS }, newVisitor));

// The burst: each visitor sends its messages one after another, re-sending (same client_msg_id)
// until one is accepted, as the widget does while the stack is down.
let accepted = 0;
let resends = 0;
const killAfter = Math.floor(TOTAL * 0.4);
let killed: () => void = () => {};
const killPoint = new Promise<void>((resolve) => {
  killed = resolve;
});
const burst = Promise.all(
  visitors.map(async ({ token, conversationId }, v) => {
    for (let m = 0; m < MESSAGES_EACH; m++) {
      for (;;) {
        const res = await call('/functions/v1/chat/messages', token, {
          conversation_id: conversationId,
          client_msg_id: `m${m}`,
          content: `visitor ${v} message ${m}`,
        }).catch(() => ({ status: 0, body: null }));
        if (res.status === 202) break;
        resends++;
        await sleep(200);
      }
      if (++accepted === killAfter) killed();
    }
  }),
);

await killPoint;
// The replies being worked when the stack dies: the conversations it freezes.
const inFlight = (
  await db.asService((sql) =>
    sql.query<{ id: number }>(
      `select id from public.jobs where status = 'running' and kind = 'reply' and tenant_id = $1`,
      [tenant.id],
    ),
  )
).map((job) => job.id);
const killedAt = Date.now();
await stack.kill();
await db.close().catch(() => {});
stack = await startStack(['--data', dir], env, { port: stack.port, dbPort: stack.dbPort });
const readyAt = Date.now();
db = createPostgresDb(stack.dbUrl, { max: 1 });

await burst;
const figures = await settle(db, tenant.id, 300_000);
// Taken over (claimed again) and answered: the database's clock, on this same machine.
const [recovery] = await db.asService((sql) =>
  sql.query<{ claimed: number | null; finished: number | null }>(
    `select (extract(epoch from max(claimed_at)) * 1000)::float8 as claimed,
            (extract(epoch from max(finished_at)) * 1000)::float8 as finished
       from public.jobs where id = any($1::bigint[])`,
    [inFlight],
  ),
);
const takenOverAt = recovery?.claimed ?? readyAt;
const storedAt = recovery?.finished ?? readyAt;
const tools = toolFigures(receiver.deliveries(BOOKING_TOOL.path));

// Fuzzing the restarted stack, then proof it still serves a visitor.
const fuzzer = await newVisitor();
const first = await call('/functions/v1/chat/messages', fuzzer.token, {
  conversation_id: fuzzer.conversationId,
  client_msg_id: 'first',
  content: 'Hello',
});
const fuzz = await fuzzAll(
  {
    url: stack.url,
    anonKey: keys.anonKey,
    serviceKey: keys.serviceRoleKey,
    visitorToken: fuzzer.token,
    widgetKey: tenant.widget_key,
    conversationId: fuzzer.conversationId,
    messageId: first.body?.message?.id ?? crypto.randomUUID(),
  },
  FUZZ_RUNS,
);
const health = await fetch(`${stack.url}/functions/v1/health`);
const healthStatus = health.status;
await health.body?.cancel();
const after = await newVisitor();
await call('/functions/v1/chat/messages', after.token, {
  conversation_id: after.conversationId,
  client_msg_id: 'after',
  content: 'Still there?',
});
let answered = false;
for (const deadline = Date.now() + 60_000; !answered && Date.now() < deadline; ) {
  const history = await call(
    `/functions/v1/chat/messages?conversation_id=${after.conversationId}`,
    after.token,
  );
  answered = (history.body?.messages ?? []).some((m: { role: string }) => m.role === 'assistant');
  if (!answered) await sleep(250);
}

console.log(`Chaos: ${VISITORS} visitors × ${MESSAGES_EACH} messages, booking tool failing ~30 %, SIGKILL after ${killAfter} accepted messages
  messages            ${figures.messages}
  replies             ${figures.replies}
  duplicates          ${figures.duplicates}
  missing             ${figures.missing}
  dead jobs           ${figures.deadJobs}
  unfinished jobs     ${figures.unfinishedJobs}
  tool calls          ${tools.calls} (${tools.deliveries} deliveries)
  repeated side effects ${tools.repeatedSideEffects}
  re-sends while down ${resends}
  replies in flight at the kill ${inFlight.length}
  restart             ${seconds(readyAt - killedAt)} (kill → ready)
  recovery seconds    ${seconds(takenOverAt - killedAt)} until every reply in flight was taken over (${seconds(takenOverAt - readyAt)} after ready)
  answered            ${seconds(storedAt - killedAt)} until every reply in flight was stored
Fuzz: ${FUZZ_RUNS} requests per endpoint against the restarted stack
  requests sent       ${fuzz.sent}
  2xx                 ${fuzz.status2xx}
  4xx                 ${fuzz.status4xx}
  5xx                 ${fuzz.status5xx}
  contract violations ${fuzz.violations.length}${fuzz.violations
    .slice(0, 5)
    .map((v) => `\n    ${v.slice(0, 160)}`)
    .join('')}
  afterwards          health ${healthStatus}, a new message answered: ${answered ? 'yes' : 'no'}`);

await db.close();
await stack.stop();
await llm.close();
await receiver.close();
await rm(dir, { recursive: true, force: true });
