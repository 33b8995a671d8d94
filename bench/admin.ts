// `npm run bench:admin`: the admin SPA's weight, and how fast the inbox answers on a big tenant.
// Printed, never asserted. Builds first so the figures match the sources.
//   - gzip sizes of what the first load fetches (index.html's script with the chunks it imports
//     statically, and its stylesheet) against the 80 KB budget for the shell and the inbox; of
//     each page's lazily loaded chunk; and of everything against the 150 KB budget for the whole
//     admin
//   - public.search_conversations on an in-memory database (the real migrations) holding one
//     tenant with 10,000 conversations and 100,000 messages, called as one of its agents under
//     RLS: p50/p95 of the first inbox page, of a filter, of a full-text search, of one row
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import { seedConversations } from './seed-conversations.ts';
import { ms, percentile, projectDir } from './support.ts';

const dist = join(projectDir, 'admin', 'dist');
const BUDGET = 80 * 1024;

async function build() {
  const { code } = await new Deno.Command('node', {
    args: [join(projectDir, 'admin', 'build.mjs')],
    stdout: 'inherit',
    stderr: 'inherit',
  }).output();
  if (code !== 0) throw new Error('admin build failed');
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;

/** A module and every chunk it imports statically, transitively. */
async function staticGraph(entry: string, seen = new Set<string>()): Promise<Set<string>> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const code = await readFile(join(dist, entry), 'utf8');
  // esbuild's output: static imports are `import … from"./x.js"` / `import"./x.js"`, dynamic
  // ones are `import("./x.js")` and are left for later.
  for (const match of code.matchAll(/\bimport\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g)) {
    if (match[1]) await staticGraph(match[1], seen);
  }
  return seen;
}

const TOTAL_BUDGET = 150 * 1024;

async function sizes() {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const script = /<script[^>]+src="\.\/([^"]+)"/.exec(html)?.[1];
  const style = /<link[^>]+href="\.\/([^"]+\.css)"/.exec(html)?.[1];
  if (!script) throw new Error('index.html loads no script');
  const gzOf = new Map<string, number>();
  const rawOf = new Map<string, number>();
  for await (const entry of Deno.readDir(dist)) {
    if (!entry.name.endsWith('.js')) continue;
    const bytes = await readFile(join(dist, entry.name));
    gzOf.set(entry.name, gz(bytes));
    rawOf.set(entry.name, bytes.length);
  }
  const sum = (files: Iterable<string>, of = gzOf) =>
    [...files].reduce((total, f) => total + (of.get(f) ?? 0), 0);
  const initial = await staticGraph(script);
  const js = sum(initial);
  const css = style ? await readFile(join(dist, style)) : new Uint8Array();
  const main = js + gz(css);
  console.log('size of the first load: shell + inbox (minified → gzip)');
  console.log(`  script  ${initial.size} file(s)   ${kb(sum(initial, rawOf))} → ${kb(js)}`);
  console.log(`  style   ${style ?? '(none)'}   ${kb(css.length)} → ${kb(gz(css))}`);
  console.log(
    `  main    ${kb(main)} of the ${kb(BUDGET)} budget (${((100 * main) / BUDGET).toFixed(0)} %)`,
  );

  // Each page's chunk, read from the page table in the first load: {id:"…",…,load:()=>import("./x.js")}.
  // A page costs its chunk and whatever that chunk imports that the first load did not bring.
  const pages: [string, string][] = [];
  for (const file of initial) {
    const code = await readFile(join(dist, file), 'utf8');
    for (const match of code.matchAll(
      /\{id:"([\w-]+)"[^{}]*?load:\(\)=>import\("\.\/([^"]+\.js)"\)/g,
    )) {
      pages.push([match[1] as string, match[2] as string]);
    }
  }
  console.log(
    "\npages loaded on demand (gzip: the page's chunk + what it shares with others, not in the first load)",
  );
  for (const [id, chunk] of pages) {
    const graph = [...(await staticGraph(chunk))].filter((f) => !initial.has(f));
    const own = gzOf.get(chunk) ?? 0;
    const shared = sum(graph) - own;
    console.log(
      `  ${id.padEnd(12)} ${kb(own).padStart(9)}${shared ? `  + ${kb(shared)} shared (${graph.length - 1} chunk(s))` : ''}`,
    );
  }
  const everything = sum(gzOf.keys()) + gz(css);
  console.log(
    `\n  total   ${kb(everything)} (every script once, and the style) of the ${kb(TOTAL_BUDGET)} budget (${((100 * everything) / TOTAL_BUDGET).toFixed(0)} %)`,
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
await inboxQueries();
