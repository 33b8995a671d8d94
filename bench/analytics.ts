// `npm run bench:analytics`: how fast the analytics page's queries answer on a big tenant. Printed,
// never asserted. An in-memory database (the real migrations) holds one tenant with 10,000
// conversations and 100,000 messages spread over the last 90 days (a quarter handed to a person,
// a fifth rated, half with a tool call), and each query the page makes is called as the tenant's
// owner through the same SQL functions the Data API calls: p50/p95 over a number of runs.
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import { seedConversations } from './seed-conversations.ts';
import { ms, percentile } from './support.ts';

const CONVERSATIONS = 10_000;
const MESSAGES_PER_CONVERSATION = 10;
const RUNS = Number(Deno.env.get('BENCH_RUNS') ?? 15);
const ZONE = 'Europe/Paris';

const started = performance.now();
const local = await openLocalDatabase({ seed: false, embedder: null });
const db = createPgliteDb(local.pg);
try {
  const { tenantId, ownerId, agentId } = await seedConversations(db, {
    conversations: CONVERSATIONS,
    messagesPerConversation: MESSAGES_PER_CONVERSATION,
    // 13 minutes apart: the 10,000 conversations span about 90 days.
    minutesApart: 13,
  });
  console.log(
    `analytics queries: ${CONVERSATIONS.toLocaleString('en')} conversations, ${(CONVERSATIONS * MESSAGES_PER_CONVERSATION).toLocaleString('en')} messages over ~90 days, as the tenant's owner (${RUNS} runs each); seeded in ${ms(performance.now() - started)}`,
  );
  const claims = { sub: ownerId, role: 'authenticated', aud: 'authenticated', is_anonymous: false };
  const [today] = await db.asService((sql) =>
    sql.query<{ day: string }>(
      `select to_char((now() at time zone $1)::date, 'YYYY-MM-DD') as day`,
      [ZONE],
    ),
  );
  const to = today?.day as string;
  const daysBefore = (n: number) => {
    const d = new Date(`${to}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - n);
    return d.toISOString().slice(0, 10);
  };

  const measure = async (label: string, text: string, params: unknown[]) => {
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const result = await db.asUser(claims, (sql) => sql.query(text, params));
      times.push(performance.now() - t0);
      rows = result.length;
    }
    console.log(
      `  ${label.padEnd(50)} p50 ${ms(percentile(times, 50)).padStart(9)}  p95 ${ms(percentile(times, 95)).padStart(9)}  (${rows} rows)`,
    );
  };

  for (const days of [30, 90]) {
    const range = [tenantId, daysBefore(days - 1), to, ZONE];
    await measure(
      `analytics_daily, ${days} days`,
      'select * from public.analytics_daily($1, $2::date, $3::date, $4)',
      range,
    );
    await measure(
      `conversation_metrics_daily, ${days} days`,
      'select * from public.conversation_metrics_daily($1, $2::date, $3::date, $4)',
      range,
    );
  }
  // A half-hour zone: the hour each day starts inside is read row by row.
  await measure(
    'analytics_daily, 90 days, Asia/Kolkata',
    'select * from public.analytics_daily($1, $2::date, $3::date, $4)',
    [tenantId, daysBefore(89), to, 'Asia/Kolkata'],
  );
  await measure(
    'conversation_metrics_daily, 90 days, Asia/Kolkata',
    'select * from public.conversation_metrics_daily($1, $2::date, $3::date, $4)',
    [tenantId, daysBefore(89), to, 'Asia/Kolkata'],
  );
  await measure(
    'conversation_metrics_by_agent, 90 days',
    'select * from public.conversation_metrics_by_agent($1, $2::date, $3::date, $4)',
    [tenantId, daysBefore(89), to, ZONE],
  );
  const history = (args: Record<string, unknown>): [string, unknown[]] => {
    const names = Object.keys(args);
    return [
      `select * from public.conversation_history(p_tenant_id => $1, p_from => $2::date, p_to => $3::date, p_time_zone => $4${names.map((n, i) => `, ${n} => $${i + 5}`).join('')})`,
      [tenantId, daysBefore(29), to, ZONE, ...Object.values(args)],
    ];
  };
  await measure('history: first page, 30 days', ...history({ p_limit: 50 }));
  await measure(
    'history: resolved, rated 5',
    ...history({ p_status: 'resolved', p_csat_min: 5, p_csat_max: 5 }),
  );
  await measure(
    'history: an assignee, page 10',
    ...history({ p_assignee: agentId, p_offset: 450 }),
  );
  await measure('history: a common word', ...history({ p_query: 'refund' }));
  await measure('history: a rare word', ...history({ p_query: 'ticket4242' }));
  await measure('history: export page of 1,000 rows', ...history({ p_limit: 1000 }));
} finally {
  await local.close();
}
