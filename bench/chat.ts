// `npm run bench:chat`: the conversation engine's platform overhead, printed, never asserted.
//   - POST /chat/messages → reply received over Realtime, p50/p95/p99, with a zero-delay fake
//     LLM, at 1, 10 and 50 concurrent visitors; replies per second sustained
//   - retrieval (embedding + hybrid search) latency p50/p95 at 1k and 20k chunks
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { toSql } from 'pgvector';
import { retrievePassages } from '../functions/_shared/agent/retrieval.ts';
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import { createPostgresDb } from '../functions/_shared/db/postgres.ts';
import {
  createHashingEmbedder,
  hashingEmbedding,
} from '../functions/_shared/embeddings/hashing.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import { createLocalKeys } from '../supabase/local/keys.ts';
import { FAKE_API_KEY, FAKE_MODEL, startFakeLlm } from '../tests/support/fake-llm.ts';
import { ms as millis, percentile, startStack } from './support.ts';

const ms = (n: number) => millis(n).padStart(9);

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
  for (const visitors of [1, 10, 50]) {
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
    console.log(
      `  ${String(visitors).padStart(2)} visitor(s) × ${perVisitor}   p50 ${ms(percentile(latencies, 50))}  p95 ${ms(percentile(latencies, 95))}  p99 ${ms(percentile(latencies, 99))}   ${(latencies.length / seconds).toFixed(1)} replies/s`,
    );
  }
  await stack.stop();
  await llm.close();
}

async function retrieval() {
  console.log('Retrieval: hashing embedding + match_document_chunks, in process (PGlite)');
  const local = await openLocalDatabase({ seed: false, embedder: null });
  const db = createPgliteDb(local.pg);
  const embedder = createHashingEmbedder();
  const words =
    'boot trail pack tent jacket sock return refund shipping express order warranty fitting store hours size insole waterproof zipper strap buckle'.split(
      ' ',
    );
  const [tenant] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.tenants (name, slug) values ('Retrieval', 'retrieval') returning id`,
    ),
  );
  const [doc] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.documents (tenant_id, title, status) values ($1, 'Catalog', 'ready') returning id`,
      [tenant?.id],
    ),
  );
  let inserted = 0;
  for (const target of [1_000, 20_000]) {
    while (inserted < target) {
      const batch = Math.min(500, target - inserted);
      await db.asService(async (sql) => {
        const values: string[] = [];
        const params: unknown[] = [doc?.id];
        for (let i = 0; i < batch; i++) {
          const n = inserted + i;
          const text = `Item ${n}: ${Array.from({ length: 24 }, (_, k) => words[(n * 7 + k * 13) % words.length]).join(' ')}.`;
          params.push(n, text, toSql(hashingEmbedding(text)));
          values.push(
            `($1, $${params.length - 2}, $${params.length - 1}, $${params.length}::extensions.vector)`,
          );
        }
        await sql.query(
          `insert into public.document_chunks (document_id, chunk_index, content, embedding) values ${values.join(',')}`,
          params,
        );
      });
      inserted += batch;
    }
    const latencies: number[] = [];
    for (let i = 0; i < 60; i++) {
      const question = `Do you have a waterproof ${words[i % words.length]} with a ${words[(i * 3) % words.length]}?`;
      const started = performance.now();
      await db.asService((sql) =>
        retrievePassages(sql, embedder, tenant?.id as string, question, 5),
      );
      if (i >= 10) latencies.push(performance.now() - started);
    }
    console.log(
      `  ${String(target).padStart(6)} chunks   p50 ${ms(percentile(latencies, 50))}  p95 ${ms(percentile(latencies, 95))}`,
    );
  }
  await local.close();
}

await endToEnd();
await retrieval();
Deno.exit(0);
