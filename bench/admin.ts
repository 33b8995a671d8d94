// `npm run bench:admin`: the admin SPA's weight, and how fast the inbox answers on a big tenant.
// Printed, never asserted. Builds first so the figures match the sources.
//   - gzip sizes of what the first load fetches (index.html's script with the chunks it imports
//     statically, and its stylesheet) against the 80 KB budget for the shell and the inbox; of
//     each page's lazily loaded chunk; of every chunk with what it holds (from its source map);
//     and of everything against the 150 KB budget for the whole admin. `--sizes` stops there.
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

/** What a chunk holds, from its source map: the packages and the admin's folders, biggest first. */
async function contents(file: string): Promise<string> {
  const map = JSON.parse(await readFile(join(dist, `${file}.map`), 'utf8')) as {
    sources: string[];
    sourcesContent?: (string | null)[];
  };
  const weight = new Map<string, number>();
  map.sources.forEach((source, i) => {
    const path = source.replace(/^(\.\.\/)+/, '');
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const name = pkg ?? path.replace(/^(admin\/)?src\//, '').replace(/\/[^/]+$/, '/');
    weight.set(name, (weight.get(name) ?? 0) + (map.sourcesContent?.[i]?.length ?? 0));
  });
  const names = [...weight].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  return names.length > 4
    ? `${names.slice(0, 4).join(', ')} +${names.length - 4}`
    : names.join(', ');
}

const verdict = (bytes: number, budget: number) =>
  `${kb(bytes)} of the ${kb(budget)} budget (${((100 * bytes) / budget).toFixed(0)} %): ${
    bytes <= budget ? `${kb(budget - bytes)} to spare` : `OVER by ${kb(bytes - budget)}`
  }`;

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
  console.log('size of the first load: shell + inbox (minified → gzip -9)');
  console.log(`  script  ${initial.size} file(s)   ${kb(sum(initial, rawOf))} → ${kb(js)}`);
  console.log(`  style   ${style ?? '(none)'}   ${kb(css.length)} → ${kb(gz(css))}`);
  console.log(`  main    ${verdict(main, BUDGET)}`);

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
      `  ${id.padEnd(12)} ${kb(own).padStart(9)}${shared ? `  + ${kb(shared)} shared (${graph.length - 1} chunk(s))` : ''}  = ${kb(own + shared)} on opening it`,
    );
  }

  console.log('\nevery chunk (minified → gzip -9), biggest first: * = in the first load');
  const files = [...gzOf.keys()].sort((a, b) => (gzOf.get(b) ?? 0) - (gzOf.get(a) ?? 0));
  for (const file of files) {
    console.log(
      `  ${initial.has(file) ? '*' : ' '} ${file.padEnd(20)} ${kb(rawOf.get(file) ?? 0).padStart(9)} → ${kb(gzOf.get(file) ?? 0).padStart(8)}  ${await contents(file)}`,
    );
  }
  if (style) {
    console.log(
      `  * ${style.padEnd(20)} ${kb(css.length).padStart(9)} → ${kb(gz(css)).padStart(8)}  styles.css`,
    );
  }
  const everything = sum(gzOf.keys()) + gz(css);
  console.log(
    `\n  total   ${gzOf.size + (style ? 1 : 0)} files, every script once and the style: ${verdict(everything, TOTAL_BUDGET)}`,
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
