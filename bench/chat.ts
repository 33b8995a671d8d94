// `npm run bench:chat`: the conversation engine's platform overhead, printed, never asserted.
//   - POST /chat/messages → reply received over Realtime, p50/p95/p99, with a zero-delay fake
//     LLM, at 1 visitor on the cold stack, then 1, 10 and 50 concurrent visitors; replies per
//     second sustained
//   - one reply worked in process as the job runner works it (claim, reply, completion, the
//     runner's look for more): SQL statements, transactions and database round trips per reply,
//     and the time spent outside the LLM
// Retrieval on its own, with realistic text, is `npm run bench:rag`.
import process from 'node:process';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { createReplyHandler } from '../functions/_shared/agent/reply.ts';
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../functions/_shared/db/port.ts';
import { createPostgresDb } from '../functions/_shared/db/postgres.ts';
import { createHashingEmbedder } from '../functions/_shared/embeddings/hashing.ts';
import { createJobRunner } from '../functions/_shared/jobs/runner.ts';
import type { LlmProvider } from '../functions/_shared/llm/types.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import { createLocalKeys } from '../supabase/local/keys.ts';
import { FAKE_API_KEY, FAKE_MODEL, startFakeLlm } from '../tests/support/fake-llm.ts';
import { ingestCorpus } from '../tests/support/rag-eval.ts';
import { createWorld } from '../tests/support/world.ts';
import { ms as millis, percentile, startStack } from './support.ts';

const ms = (n: number) => millis(n).padStart(9);

/**
 * CPU time a process has used so far, in ms (Linux's /proc, in 10 ms ticks), or null elsewhere.
 * Other work on the machine stretches wall-clock latency; it does not change this.
 */
async function cpuMs(pid: number): Promise<number | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // After "pid (name) " come state (field 3) … utime (14) and stime (15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

async function endToEnd() {
  const keys = await createLocalKeys();
  const llm = await startFakeLlm({
    defaultReply: { text: 'Standard shipping takes 3 to 5 business days.' },
  });
  const stack = await startStack(['--memory'], {
    CHAT_VISITOR_MESSAGES_PER_MINUTE: '100000',
    CHAT_TENANT_MESSAGES_PER_MINUTE: '100000',
    CHAT_VISITOR_SESSIONS_PER_MINUTE: '100000',
  });
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  const [tenant] = await db.asService((sql) =>
    sql.query<{ id: string; widget_key: string }>(
      // Business: hundreds of replies stay well inside the plan's monthly quota.
      `insert into public.tenants (name, slug, llm_config, plan_id) values ('Bench shop', 'bench-shop', $1::jsonb, 'business') returning id, widget_key`,
      [{ provider: 'openai', base_url: llm.url.openai, model: FAKE_MODEL }],
    ),
  );
  if (!tenant) throw new Error('no tenant');
  await db.asService((sql) =>
    sql.query('update public.tenant_secrets set llm_api_key = $2 where tenant_id = $1', [
      tenant.id,
      FAKE_API_KEY,
    ]),
  );
  await db.close();

  console.log('POST /chat/messages → reply on Realtime (zero-delay fake LLM, hashing embeddings)');
  // The first phase meets a cold stack (each function's app loaded on first use, every statement
  // planned for the first time): printed apart, so it shows what a freshly started stack costs
  // without standing for the steady state the later phases measure.
  const phases = [
    { visitors: 1, label: ' (cold stack)' },
    { visitors: 1, label: '' },
    { visitors: 10, label: '' },
    { visitors: 50, label: '' },
  ];
  for (const { visitors, label } of phases) {
    const perVisitor = visitors === 1 ? 40 : visitors === 10 ? 8 : 4;
    const clients: { client: SupabaseClient; conversationId: string; token: string }[] = [];
    for (let i = 0; i < visitors; i++) {
      const client = createClient(stack.url, keys.anonKey, {
        auth: { autoRefreshToken: false, persistSession: false },
      });
      const { data, error } = await client.auth.signInAnonymously();
      if (error || !data.session) throw error ?? new Error('no session');
      const { data: session, error: sessionError } = await client.functions.invoke(
        'chat/sessions',
        { body: { key: tenant.widget_key } },
      );
      if (sessionError) throw sessionError;
      clients.push({
        client,
        conversationId: session.conversation.id,
        token: data.session.access_token,
      });
    }
    const latencies: number[] = [];
    const cpuBefore = await cpuMs(stack.pid);
    const started = performance.now();
    await Promise.all(
      clients.map(async ({ client, conversationId, token }) => {
        await client.realtime.setAuth(token);
        let waiting: ((at: number) => void) | null = null;
        await new Promise<void>((resolve, reject) => {
          client
            .channel(`conversation:${conversationId}`, { config: { private: true } })
            .on('broadcast', { event: 'message_created' }, ({ payload }) => {
              if (payload.role === 'assistant') waiting?.(performance.now());
            })
            .subscribe((status, err) => {
              if (status === 'SUBSCRIBED') resolve();
              else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
                reject(err ?? new Error(status));
            });
        });
        for (let i = 0; i < perVisitor; i++) {
          const received = new Promise<number>((resolve) => {
            waiting = resolve;
          });
          const sentAt = performance.now();
          const { error } = await client.functions.invoke('chat/messages', {
            body: {
              conversation_id: conversationId,
              client_msg_id: crypto.randomUUID(),
              content: `How long does shipping take? #${i}`,
            },
          });
          if (error) throw error;
          latencies.push((await received) - sentAt);
        }
        await client.removeAllChannels();
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = await cpuMs(stack.pid);
    // The whole stack (functions, database, Auth, Realtime) is one process: its CPU per reply
    // bounds the replies per second one core can make, whatever else the machine is doing.
    const cpu =
      cpuBefore === null || cpuAfter === null
        ? ''
        : `   stack CPU ${ms((cpuAfter - cpuBefore) / latencies.length)} per reply`;
    console.log(
      `  ${String(visitors).padStart(2)} visitor(s) × ${perVisitor}   p50 ${ms(percentile(latencies, 50))}  p95 ${ms(percentile(latencies, 95))}  p99 ${ms(percentile(latencies, 99))}   ${(latencies.length / seconds).toFixed(1)} replies/s${cpu}${label}`,
    );
  }
  await stack.stop();
  await llm.close();
}

/** A Db that counts what goes over the wire: each transaction adds BEGIN, its role setup and COMMIT. */
function countingDb(
  db: Db,
  counts: { transactions: number; statements: number },
  timings: Map<string, number[]>,
): Db {
  const wrap = (sql: Sql): Sql => ({
    query: async (text, params) => {
      counts.statements++;
      const started = performance.now();
      try {
        return await sql.query(text, params);
      } finally {
        const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
        timings.set(key, [...(timings.get(key) ?? []), performance.now() - started]);
      }
    },
  });
  return {
    asUser: (claims, fn, request) => {
      counts.transactions++;
      return db.asUser(claims, (sql) => fn(wrap(sql)), request);
    },
    asService: (fn, request) => {
      counts.transactions++;
      return db.asService((sql) => fn(wrap(sql)), request);
    },
    close: () => db.close(),
  };
}

async function replyPath() {
  console.log('One reply in process (PGlite, hashing embeddings, zero-delay fake LLM)');
  const local = await openLocalDatabase({ seed: false, embedder: null });
  const base = createPgliteDb(local.pg);
  const world = await createWorld(base);
  const embedder = createHashingEmbedder();
  const slugs = await ingestCorpus(base, embedder, world.a.tenantId);
  await local.pg.exec('analyze');
  const counts = { transactions: 0, statements: 0 };
  const timings = new Map<string, number[]>();
  let llmMs = 0;
  const llm: LlmProvider = {
    provider: 'openai',
    model: FAKE_MODEL,
    complete: async () => {
      const started = performance.now();
      const result = {
        content: 'Standard shipping takes 3 to 5 business days.',
        toolCalls: [],
        usage: { inputTokens: 120, outputTokens: 12 },
        model: FAKE_MODEL,
        finishReason: 'stop' as const,
      };
      llmMs += performance.now() - started;
      return result;
    },
  };
  const db = countingDb(base, counts, timings);
  const runner = createJobRunner({
    db,
    handlers: { reply: createReplyHandler({ db, embedder, env: {}, fetch, llmFor: () => llm }) },
    workerId: 'bench',
  });
  const orderingKey = `conversation:${world.a.conversationId}`;
  // Whatever the fixtures queued is answered first.
  await runner.drain({ orderingKey });
  const outside: number[] = [];
  const cpu: number[] = [];
  const perReply: { transactions: number; statements: number }[] = [];
  for (let i = 0; i < 60; i++) {
    // The visitor's message enqueues its reply job, as POST /chat/messages does.
    await base.asService((sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', $2)`,
        [world.a.conversationId, `How long does standard shipping take? (${i})`],
      ),
    );
    counts.transactions = 0;
    counts.statements = 0;
    llmMs = 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const drained = await runner.drain({ orderingKey });
    const cpuUsed = process.cpuUsage(cpuBefore);
    if (drained.succeeded !== 1)
      throw new Error(`reply job not worked: ${JSON.stringify(drained)}`);
    if (i >= 10) {
      outside.push(performance.now() - started - llmMs);
      cpu.push((cpuUsed.user + cpuUsed.system) / 1000);
      perReply.push({ ...counts });
    }
  }
  const last = perReply[perReply.length - 1] ?? { transactions: 0, statements: 0 };
  console.log(
    `  ${last.statements} SQL statements in ${last.transactions} transactions = ${last.statements + 3 * last.transactions} round trips per reply (${slugs.size} documents)`,
  );
  console.log(
    `  time outside the LLM   p50 ${ms(percentile(outside, 50))}  p95 ${ms(percentile(outside, 95))}   CPU p50 ${ms(percentile(cpu, 50))}  p95 ${ms(percentile(cpu, 95))}`,
  );
  console.log('  statements, by median time:');
  const rows = [...timings].map(
    ([text, times]) => [text, percentile(times, 50), times.length] as const,
  );
  for (const [text, median, n] of rows.sort((a, b) => b[1] - a[1])) {
    console.log(`    ${ms(median)}  ×${String(Math.round(n / 60)).padStart(2)}  ${text}`);
  }
  await local.close();
}

if (!Deno.args.includes('--in-process-only')) await endToEnd();
await replyPath();
Deno.exit(0);
