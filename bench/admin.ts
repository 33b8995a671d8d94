// `npm run bench:admin`: the admin SPA's weight, and how fast the inbox answers on a big tenant.
// Printed, never asserted. Builds first so the figures match the sources.
//   - gzip sizes of what the first load fetches (index.html's script with the chunks it imports
//     statically, and its stylesheet) against the 80 KB budget for the shell and the inbox, and
//     of the chunks loaded later on demand
//   - public.search_conversations on an in-memory database (the real migrations) holding one
//     tenant with 10,000 conversations and 100,000 messages, called as one of its agents under
//     RLS: p50/p95 of the first inbox page, of a filter, of a full-text search, of one row
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
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

async function sizes() {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const script = /<script[^>]+src="\.\/([^"]+)"/.exec(html)?.[1];
  const style = /<link[^>]+href="\.\/([^"]+\.css)"/.exec(html)?.[1];
  if (!script) throw new Error('index.html loads no script');
  const initial = await staticGraph(script);
  let js = 0;
  let jsMin = 0;
  for (const file of initial) {
    const bytes = await readFile(join(dist, file));
    js += gz(bytes);
    jsMin += bytes.length;
  }
  const css = style ? await readFile(join(dist, style)) : new Uint8Array();
  const lazy: string[] = [];
  let lazyGz = 0;
  for await (const entry of Deno.readDir(dist)) {
    if (entry.name.endsWith('.js') && !initial.has(entry.name)) {
      lazy.push(entry.name);
      lazyGz += gz(await readFile(join(dist, entry.name)));
    }
  }
  const total = js + gz(css);
  console.log('size of the first load: shell + inbox (minified → gzip)');
  console.log(`  script  ${initial.size} file(s)   ${kb(jsMin)} → ${kb(js)}`);
  console.log(`  style   ${style ?? '(none)'}   ${kb(css.length)} → ${kb(gz(css))}`);
  console.log(
    `  total   ${kb(total)} of the ${kb(BUDGET)} budget (${((100 * total) / BUDGET).toFixed(0)} %)`,
  );
  console.log(`  later   ${lazy.length} chunk(s) loaded on demand, ${kb(lazyGz)}`);
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
    const { tenantId, agentId, someId } = await db.asService(async (sql) => {
      await sql.query(`select set_config('role', 'none', true)`);
      const [agent] = await sql.query<{ id: string }>(
        `insert into auth.users (email) values ('bench-agent@example.test') returning id`,
      );
      const [tenant] = await sql.query<{ id: string }>(
        `insert into public.tenants (name, slug) values ('Bench', 'bench') returning id`,
      );
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
        [tenant?.id, agent?.id],
      );
      await sql.query(
        `insert into public.conversations (tenant_id, status, assignee_id, channel, created_at)
         select $1,
                (array['bot','handoff','open','resolved'])[1 + i % 4],
                case when i % 3 = 0 then $2::uuid end,
                case when i % 10 = 0 then 'whatsapp' else 'web' end,
                now() - (i || ' minutes')::interval
           from generate_series(1, $3::int) i`,
        [tenant?.id, agent?.id, CONVERSATIONS],
      );
      // Bulk data, not live traffic: triggers (broadcasts, reply jobs, counters) stay off while
      // the messages go in, and the counters they would keep are set once afterwards.
      await sql.query(`select set_config('session_replication_role', 'replica', true)`);
      // Words from a small vocabulary plus one rare word per conversation, so searches have
      // both common and selective terms.
      await sql.query(
        `insert into public.messages (conversation_id, tenant_id, role, content, created_at)
         select c.id, c.tenant_id,
                case when m % 2 = 0 then 'user' else 'assistant' end,
                (array['order','refund','shipping','boots','jacket','tent','size','return'])[1 + (m + n) % 8]
                  || ' question about my ' ||
                (array['delivery','exchange','warranty','payment'])[1 + m % 4]
                  || ' ticket' || n,
                c.created_at + (m || ' seconds')::interval
           from (select id, tenant_id, created_at, row_number() over () as n from public.conversations) c,
                generate_series(1, $1::int) m`,
        [MESSAGES_PER_CONVERSATION],
      );
      await sql.query(
        `update public.conversations c
            set message_count = m.n, last_message_at = m.last
           from (select conversation_id, count(*)::int as n, max(created_at) as last
                   from public.messages group by conversation_id) m
          where m.conversation_id = c.id`,
      );
      await sql.query(`select set_config('session_replication_role', 'origin', true)`);
      await sql.query('analyze');
      const [some] = await sql.query<{ id: string }>(
        'select id from public.conversations order by created_at desc offset 500 limit 1',
      );
      return { tenantId: tenant?.id as string, agentId: agent?.id as string, someId: some?.id };
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
