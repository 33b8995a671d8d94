// `npm run bench:admin`: the admin SPA's weight, and how fast the inbox answers on a big tenant.
// Printed, never asserted. Builds first so the figures match the sources.
//   - gzip sizes of what the first load fetches (index.html's script with the chunks it imports
//     statically, and its stylesheet) against the 80 KB budget for the shell and the inbox; of
//     each page's lazily loaded chunk; of every chunk with what it holds (from its source map);
//     and of everything against the 150 KB budget for the whole admin. `--sizes` stops there.
//   - public.search_conversations on an in-memory database (the real migrations) holding one
//     tenant with 10,000 conversations and 100,000 messages, called as one of its agents under
//     RLS: p50/p95 of the first inbox page, of a filter, of a full-text search, of one row
import { join } from 'node:path';
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import {
  contents,
  FIRST_LOAD_BUDGET,
  readAdminBundle,
  TOTAL_BUDGET,
} from '../tests/support/admin-bundle.ts';
import { seedConversations } from './seed-conversations.ts';
import { ms, percentile, projectDir } from './support.ts';

const dist = join(projectDir, 'admin', 'dist');

async function build() {
  const { code } = await new Deno.Command('node', {
    args: [join(projectDir, 'admin', 'build.mjs')],
    stdout: 'inherit',
    stderr: 'inherit',
  }).output();
  if (code !== 0) throw new Error('admin build failed');
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

const verdict = (bytes: number, budget: number) =>
  `${kb(bytes)} of the ${kb(budget)} budget (${((100 * bytes) / budget).toFixed(0)} %): ${
    bytes <= budget ? `${kb(budget - bytes)} to spare` : `OVER by ${kb(bytes - budget)}`
  }`;

async function sizes() {
  const bundle = await readAdminBundle(dist);
  const { chunks, initial, style } = bundle;
  const sum = (names: Iterable<string>, of: 'raw' | 'gz' = 'gz') =>
    [...names].reduce((total, name) => total + (chunks.get(name)?.[of] ?? 0), 0);
  console.log('size of the first load: shell + inbox (minified → gzip -9)');
  console.log(
    `  script  ${initial.size} file(s)   ${kb(sum(initial, 'raw'))} → ${kb(sum(initial))}`,
  );
  console.log(
    `  style   ${style?.name ?? '(none)'}   ${kb(style?.raw ?? 0)} → ${kb(style?.gz ?? 0)}`,
  );
  console.log(`  main    ${verdict(bundle.firstLoad, FIRST_LOAD_BUDGET)}`);

  // A page costs its chunk and whatever that chunk imports that the first load did not bring.
  console.log(
    "\npages loaded on demand (gzip: the page's chunk + what it shares with others, not in the first load)",
  );
  for (const { id, chunk } of bundle.pages) {
    const graph = [...bundle.graph(chunk)].filter((f) => !initial.has(f));
    const own = chunks.get(chunk)?.gz ?? 0;
    const shared = sum(graph) - own;
    console.log(
      `  ${id.padEnd(12)} ${kb(own).padStart(9)}${shared ? `  + ${kb(shared)} shared (${graph.length - 1} chunk(s))` : ''}  = ${kb(own + shared)} on opening it`,
    );
  }

  console.log('\nevery chunk (minified → gzip -9), biggest first: * = in the first load');
  for (const chunk of [...chunks.values()].sort((a, b) => b.gz - a.gz)) {
    console.log(
      `  ${initial.has(chunk.name) ? '*' : ' '} ${chunk.name.padEnd(20)} ${kb(chunk.raw).padStart(9)} → ${kb(chunk.gz).padStart(8)}  ${contents(chunk)}`,
    );
  }
  if (style) {
    console.log(
      `  * ${style.name.padEnd(20)} ${kb(style.raw).padStart(9)} → ${kb(style.gz).padStart(8)}  styles.css`,
    );
  }
  console.log(
    `\n  total   ${chunks.size + (style ? 1 : 0)} files, every script once and the style: ${verdict(bundle.total, TOTAL_BUDGET)}`,
  );
}

const CONVERSATIONS = 10_000;
const MESSAGES_PER_CONVERSATION = 10;
const RUNS = 30;

async function inboxQueries() {
  console.log(
    `\ninbox queries: ${CONVERSATIONS.toLocaleString('en')} conversations, ${(CONVERSATIONS * MESSAGES_PER_CONVERSATION).toLocaleString('en')} messages, as an agent under RLS (${RUNS} runs each)`,
  );
  const started = performance.now();
  const local = await openLocalDatabase({ seed: false, embedder: null });
  const db = createPgliteDb(local.pg);
  try {
    const { tenantId, agentId, someId } = await seedConversations(db, {
      conversations: CONVERSATIONS,
      messagesPerConversation: MESSAGES_PER_CONVERSATION,
    });
    console.log(`  seeded in ${ms(performance.now() - started)}`);
    const claims = {
      sub: agentId,
      role: 'authenticated',
      aud: 'authenticated',
      is_anonymous: false,
    };
    const measure = async (label: string, args: Record<string, unknown>) => {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const result = await db.asUser(claims, (sql) =>
          sql.query(
            `select * from public.search_conversations(p_tenant_id => $1, p_query => $2, p_filter => $3, p_limit => 50, p_conversation_id => $4)`,
            [tenantId, args.query ?? null, args.filter ?? 'all', args.id ?? null],
          ),
        );
        times.push(performance.now() - t0);
        rows = result.length;
      }
      console.log(
        `  ${label.padEnd(34)} p50 ${ms(percentile(times, 50)).padStart(9)}  p95 ${ms(percentile(times, 95)).padStart(9)}  (${rows} rows)`,
      );
    };
    await measure('first page (all)', {});
    await measure('filter: waiting for a person', { filter: 'waiting' });
    await measure('filter: mine', { filter: 'mine' });
    await measure('search: a common word', { query: 'refund' });
    await measure('search: a rare word', { query: 'ticket4242' });
    await measure('one row (after an inbox event)', { id: someId });
  } finally {
    await local.close();
  }
}

await build();
await sizes();
// `--sizes`: the bundle figures alone, without seeding the inbox database.
if (!Deno.args.includes('--sizes')) await inboxQueries();
