// `npm run bench:local`: figures for the local stack, printed, never asserted.
//   - cold start to ready (fresh data directory: migrations + seed; existing directory; in memory)
//   - auth sign-ins per second (sequential and 8 concurrent)
//   - realtime fan-out latency, p50/p95 from a message INSERT to its receipt by subscribers,
//     with 1 and 100 subscribers on the conversation's private channel
//   - storage: 1 MB uploads and downloads through storage-js, MB/s and p50/p95 per request
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import { createPostgresDb } from '../functions/_shared/db/postgres.ts';
import { createLocalKeys } from '../supabase/local/keys.ts';
import { ms, percentile, startStack } from './support.ts';

const median = (values: number[]) => percentile(values, 50);

async function coldStart() {
  const memory: number[] = [];
  for (let i = 0; i < 3; i++) {
    const stack = await startStack(['--memory']);
    memory.push(stack.readyMs);
    await stack.stop();
  }
  const dir = await mkdtemp(join(tmpdir(), 'parley-bench-'));
  const fresh = await startStack(['--data', dir]);
  await fresh.stop();
  const existing = await startStack(['--data', dir]);
  await existing.stop();
  await rm(dir, { recursive: true, force: true });
  console.log('Cold start to ready (process spawn → "ready" line)');
  console.log(`  in memory, migrations + seed   median of 3: ${ms(median(memory))}`);
  console.log(`  new data directory             ${ms(fresh.readyMs)}`);
  console.log(`  existing data directory        ${ms(existing.readyMs)}`);
}

type Stack = Awaited<ReturnType<typeof startStack>>;

function client(stack: Stack, anonKey: string): SupabaseClient {
  return createClient(stack.url, anonKey, {
    auth: { autoRefreshToken: false, persistSession: false },
  });
}

async function authThroughput(stack: Stack, anonKey: string) {
  const email = `bench-${crypto.randomUUID()}@example.test`;
  const password = 'bench-password-1';
  const signUp = await client(stack, anonKey).auth.signUp({ email, password });
  if (signUp.error) throw signUp.error;
  const signIn = async () => {
    const { error } = await client(stack, anonKey).auth.signInWithPassword({ email, password });
    if (error) throw error;
  };
  await signIn();
  const sequential = 30;
  let started = performance.now();
  for (let i = 0; i < sequential; i++) await signIn();
  const sequentialRate = sequential / ((performance.now() - started) / 1000);
  const concurrent = 48;
  started = performance.now();
  for (let i = 0; i < concurrent; i += 8) await Promise.all(Array.from({ length: 8 }, signIn));
  const concurrentRate = concurrent / ((performance.now() - started) / 1000);
  const anonymous = 30;
  started = performance.now();
  for (let i = 0; i < anonymous; i++) {
    const { error } = await client(stack, anonKey).auth.signInAnonymously();
    if (error) throw error;
  }
  const anonymousRate = anonymous / ((performance.now() - started) / 1000);
  console.log('Auth (bcrypt cost 10 in the WASM Postgres, like GoTrue)');
  console.log(`  password sign-ins, sequential     ${sequentialRate.toFixed(1)} /s`);
  console.log(`  password sign-ins, 8 concurrent   ${concurrentRate.toFixed(1)} /s`);
  console.log(`  anonymous sign-ins, sequential    ${anonymousRate.toFixed(1)} /s`);
}

async function fanOut(stack: Stack, anonKey: string, subscribers: number, messages: number) {
  const visitor = client(stack, anonKey);
  const { data, error } = await visitor.auth.signInAnonymously();
  if (error || !data.session || !data.user) throw error ?? new Error('no session');
  const token = data.session.access_token;
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  const [conversation] = await db.asService((sql) =>
    sql.query<{ id: string; tenant_id: string }>(
      `insert into public.conversations (tenant_id, visitor_id)
       select id, $1 from public.tenants where slug = 'trailhead' returning id, tenant_id`,
      [data.user?.id],
    ),
  );
  if (!conversation) throw new Error('no demo tenant');

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const clients = Array.from({ length: subscribers }, () => client(stack, anonKey));
  await Promise.all(
    clients.map(async (c) => {
      await c.realtime.setAuth(token);
      await new Promise<void>((resolve, reject) => {
        c.channel(`conversation:${conversation.id}`, { config: { private: true } })
          .on('broadcast', { event: 'message_created' }, ({ payload }) => {
            const start = sentAt.get(payload.content as string);
            if (start !== undefined) latencies.push(performance.now() - start);
          })
          .subscribe((status, err) => {
            if (status === 'SUBSCRIBED') resolve();
            else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
              reject(err ?? new Error(status));
          });
      });
    }),
  );
  for (let i = 0; i < messages; i++) {
    const content = `bench ${subscribers}/${i} ${crypto.randomUUID()}`;
    sentAt.set(content, performance.now());
    await db.asService((sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'assistant', $2)`,
        [conversation.id, content],
      ),
    );
    await new Promise((r) => setTimeout(r, 20));
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < subscribers * messages && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(clients.map((c) => c.removeAllChannels()));
  await db.close();
  const lost = subscribers * messages - latencies.length;
  console.log(
    `  ${String(subscribers).padStart(3)} subscriber(s) × ${messages} messages   p50 ${ms(median(latencies))}   p95 ${ms(percentile(latencies, 95))}${lost ? `   (${lost} not received)` : ''}`,
  );
}

async function storageThroughput(stack: Stack, anonKey: string) {
  // The demo owner writes the demo tenant's knowledge folder, so every request runs its policies.
  const owner = client(stack, anonKey);
  const signIn = await owner.auth.signInWithPassword({
    email: 'owner@trailhead.example',
    password: 'parley-demo-1',
  });
  if (signIn.error) throw signIn.error;
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  const [tenant] = await db.asService((sql) =>
    sql.query<{ id: string }>(`select id from public.tenants where slug = 'trailhead'`),
  );
  await db.close();
  if (!tenant) throw new Error('no demo tenant');
  const files = owner.storage.from('knowledge');
  const folder = `${tenant.id}/bench-${crypto.randomUUID().slice(0, 8)}`;
  const payload = new TextEncoder().encode('x'.repeat(1024 * 1024));
  const rounds = 20;
  const timed = async (work: (i: number) => Promise<void>) => {
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      await work(i);
      latencies.push(performance.now() - t);
    }
    const rate = rounds / ((performance.now() - started) / 1000);
    return `${rate.toFixed(1)} MB/s   p50 ${ms(median(latencies))}   p95 ${ms(percentile(latencies, 95))}`;
  };
  const upload = await timed(async (i) => {
    const { error } = await files.upload(`${folder}/${i}.md`, payload, {
      contentType: 'text/markdown',
    });
    if (error) throw error;
  });
  const download = await timed(async (i) => {
    const { data, error } = await files.download(`${folder}/${i}.md`);
    if (error || data.size !== payload.byteLength) throw error ?? new Error('short download');
  });
  await files.remove(Array.from({ length: rounds }, (_, i) => `${folder}/${i}.md`));
  console.log(
    `Storage: ${rounds} × 1 MB, sequential, as the demo owner under the knowledge policies`,
  );
  console.log(`  upload     ${upload}`);
  console.log(`  download   ${download}`);
}

async function dataApiThroughput(stack: Stack, anonKey: string) {
  // The demo owner reads and writes through /rest/v1, so every request runs as authenticated
  // under the tenant's policies, as the admin SPA's do.
  const owner = client(stack, anonKey);
  const signIn = await owner.auth.signInWithPassword({
    email: 'owner@trailhead.example',
    password: 'parley-demo-1',
  });
  if (signIn.error || !signIn.data.user) throw signIn.error ?? new Error('no owner');
  const ownerId = signIn.data.user.id;
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  const [conversation] = await db.asService((sql) =>
    sql.query<{ id: string; tenant_id: string }>(
      `insert into public.conversations (tenant_id, status)
       select id, 'open' from public.tenants where slug = 'trailhead' returning id, tenant_id`,
    ),
  );
  if (!conversation) throw new Error('no demo tenant');
  await db.asService((sql) =>
    sql.query(
      `insert into public.messages (conversation_id, tenant_id, role, content, author_id)
       select $1, $2, 'agent', 'Bench message ' || n, $3 from generate_series(1, 200) as n`,
      [conversation.id, conversation.tenant_id, ownerId],
    ),
  );
  await db.close();

  const timed = async (rounds: number, work: (i: number) => PromiseLike<{ error: unknown }>) => {
    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      const { error } = await work(i);
      if (error) throw error;
      latencies.push(performance.now() - t);
    }
    const rate = rounds / ((performance.now() - started) / 1000);
    return `p50 ${ms(median(latencies))}   p95 ${ms(percentile(latencies, 95))}   ${rate.toFixed(1)} req/s`;
  };
  const byKey = await timed(200, () =>
    owner.from('conversations').select('*').eq('id', conversation.id).single(),
  );
  const embedded = await timed(100, () =>
    owner
      .from('conversations')
      .select('*, messages(id, role, content, status, author_id, is_private, created_at)')
      .eq('id', conversation.id)
      .order('created_at', { referencedTable: 'messages', ascending: false })
      .limit(50, { referencedTable: 'messages' })
      .single(),
  );
  const batch = crypto.randomUUID().slice(0, 8);
  const inserts = await timed(30, (i) =>
    owner.from('contacts').insert(
      Array.from({ length: 100 }, (_, j) => ({
        tenant_id: conversation.tenant_id,
        identifier: `bench-${batch}-${i}-${j}`,
      })),
    ),
  );
  console.log('Data API (/rest/v1 as the demo owner, RLS on, sequential)');
  console.log(`  select by primary key                       ${byKey}`);
  console.log(`  conversation + last 50 messages embedded    ${embedded}`);
  console.log(`  insert 100 rows in one request              ${inserts}`);
}

const keys = await createLocalKeys(Deno.env.get('JWT_SECRET') ?? undefined);
await coldStart();
// Sign-ups here are measured without the confirmation mail step.
const stack = await startStack(['--memory'], { GOTRUE_MAILER_AUTOCONFIRM: 'true' });
try {
  await authThroughput(stack, keys.anonKey);
  console.log('Realtime fan-out: INSERT into messages → broadcast received (private channel)');
  await fanOut(stack, keys.anonKey, 1, 50);
  await fanOut(stack, keys.anonKey, 100, 20);
  await storageThroughput(stack, keys.anonKey);
  await dataApiThroughput(stack, keys.anonKey);
} finally {
  await stack.stop();
}
Deno.exit(0);
