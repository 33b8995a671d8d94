/// <reference lib="dom" />
// `npm run bench:widget`: the widget's weight and, when Chromium is there, how soon it shows and
// what it costs in memory. Printed, never asserted. Builds first so the figures match the sources.
//   - gzip sizes: the loader alone (what every page view pays), loader + app, each lazily loaded
//     chunk, and the ratio to n8n's chat widget (about 530 KB gzipped)
//   - Chromium (/usr/bin/chromium), median of 20 loads of a static page: launcher painted after
//     the script arrived, window ready after the launcher is clicked
//   - JS heap and DOM size after a 200-message conversation against the local stack
//     (a zero-delay fake LLM answers)
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const projectDir = join(import.meta.dirname ?? '.', '..');
const dist = join(projectDir, 'widget', 'dist');

async function build() {
  const { code } = await new Deno.Command('node', {
    args: [join(projectDir, 'widget', 'build.mjs')],
    stdout: 'inherit',
    stderr: 'inherit',
  }).output();
  if (code !== 0) throw new Error('widget build failed');
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function sizes() {
  const loader = await readFile(join(dist, 'widget.js'));
  const app = await readFile(join(dist, 'parley-app.js'));
  const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
  console.log('size (minified → gzip)');
  console.log(`  loader  widget.js        ${kb(loader.length)} → ${kb(gz(loader))}`);
  console.log(`  app     parley-app.js    ${kb(app.length)} → ${kb(gz(app))}`);
  console.log(
    `  full    loader + app     ${kb(loader.length + app.length)} → ${kb(gz(loader) + gz(app))}`,
  );
  // Chunks fetched only when used (languages' words, the extras, the rarer parts of the window).
  for (const name of (await readdir(dist)).filter((f) => /^parley-.+\.js$/.test(f)).sort()) {
    if (name === 'parley-app.js') continue;
    const chunk = await readFile(join(dist, name));
    console.log(`  chunk   ${name.padEnd(24)} ${kb(chunk.length)} → ${kb(gz(chunk))}`);
  }
  const n8nWidget = 530 * 1024;
  console.log(
    `  vs n8n's chat widget (~530 KB gz): loader ${(n8nWidget / gz(loader)).toFixed(0)}× smaller, full ${(n8nWidget / (gz(loader) + gz(app))).toFixed(1)}× smaller`,
  );
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>bench</title></head><body>
<script src="/widget/widget.js" data-key="pk_bench" data-supabase-url="http://127.0.0.1:9" async></script>
</body></html>`;

function serve(): { url: string; close(): Promise<void> } {
  const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, async (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === '/') return new Response(PAGE, { headers: { 'content-type': 'text/html' } });
    if (pathname.startsWith('/widget/')) {
      try {
        const body = await readFile(join(dist, pathname.slice('/widget/'.length)));
        return new Response(body, { headers: { 'content-type': 'text/javascript' } });
      } catch {
        return new Response('not found', { status: 404 });
      }
    }
    return new Response('not found', { status: 404 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

async function timings() {
  if (!existsSync('/usr/bin/chromium')) {
    console.log('chromium: /usr/bin/chromium missing, timings skipped');
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  const server = serve();
  const painted: number[] = [];
  const opened: number[] = [];
  try {
    for (let run = 0; run < 20; run++) {
      const page = await browser.newPage();
      // Frame-accurate: note the first animation frame in which the launcher exists.
      await page.addInitScript(() => {
        const look = () => {
          const root = document.getElementById('parley-root')?.shadowRoot;
          if (root?.querySelector('[data-parley="launcher"]')) {
            (window as unknown as { __launcherAt: number }).__launcherAt = performance.now();
          } else requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
      });
      await page.goto(server.url);
      await page.waitForFunction(
        () => (window as unknown as { __launcherAt?: number }).__launcherAt !== undefined,
      );
      painted.push(
        await page.evaluate(() => {
          const script = performance
            .getEntriesByType('resource')
            .find((e) => e.name.endsWith('/widget.js'));
          const at = (window as unknown as { __launcherAt: number }).__launcherAt;
          return at - (script ? (script as PerformanceResourceTiming).responseEnd : 0);
        }),
      );
      const start = await page.evaluate(() => performance.now());
      await page.click('#parley-root >> button[data-parley="launcher"]');
      await page.waitForSelector('#parley-root >> textarea[data-parley="input"]', {
        state: 'visible',
      });
      opened.push((await page.evaluate(() => performance.now())) - start);
      await page.close();
    }
  } finally {
    await server.close();
    await browser.close();
  }
  console.log('chromium (median of 20 loads, local server)');
  console.log(`  launcher painted after the script arrived  ${median(painted).toFixed(0)} ms`);
  console.log(`  window ready after the launcher click      ${median(opened).toFixed(0)} ms`);
}

async function memory() {
  if (!existsSync('/usr/bin/chromium')) return;
  const { chromium } = await import('playwright-core');
  const { startStack } = await import('./support.ts');
  const { createPostgresDb } = await import('../functions/_shared/db/postgres.ts');
  const { startFakeLlm, FAKE_API_KEY, FAKE_MODEL } = await import('../tests/support/fake-llm.ts');
  const { createLocalKeys } = await import('../supabase/local/keys.ts');
  const llm = await startFakeLlm({ defaultReply: { text: 'Noted: **thanks** for your message.' } });
  const stack = await startStack(['--memory'], {
    CHAT_VISITOR_MESSAGES_PER_MINUTE: '100000',
    CHAT_TENANT_MESSAGES_PER_MINUTE: '100000',
  });
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  const [tenant] = await db.asService((sql) =>
    sql.query<{ id: string; widget_key: string }>(
      `insert into public.tenants (name, slug, llm_config) values ('Memory', 'memory', $1::jsonb) returning id, widget_key`,
      [{ provider: 'openai', base_url: llm.url.openai, model: FAKE_MODEL }],
    ),
  );
  await db.asService((sql) =>
    sql.query('update public.tenant_secrets set llm_api_key = $2 where tenant_id = $1', [
      tenant?.id,
      FAKE_API_KEY,
    ]),
  );
  await db.close();
  const keys = await createLocalKeys();
  const page$ = `<!doctype html><html><head><meta charset="utf-8"></head><body>
<script src="${stack.url}/widget/widget.js" data-key="${tenant?.widget_key}" data-supabase-url="${stack.url}" data-supabase-key="${keys.anonKey}" data-open="true" async></script></body></html>`;
  const server = Deno.serve(
    { port: 0, hostname: '127.0.0.1', onListen() {} },
    () => new Response(page$, { headers: { 'content-type': 'text/html' } }),
  );
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.addr.port}/`);
    const input = page.locator('#parley-root >> textarea[data-parley="input"]');
    await input.waitFor({ state: 'visible' });
    const messages = page.locator('#parley-root >> [data-parley="message"][data-role="assistant"]');
    for (let i = 0; i < 100; i++) {
      await input.fill(`Message number ${i}`);
      await input.press('Enter');
      await messages.nth(i).waitFor({ timeout: 20_000 });
    }
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name: string) =>
      metrics.find((m: { name: string }) => m.name === name)?.value ?? 0;
    await cdp.send('Performance.enable');
    const after = (await cdp.send('Performance.getMetrics')).metrics;
    const heap =
      after.find((m: { name: string }) => m.name === 'JSHeapUsedSize')?.value ??
      metric('JSHeapUsedSize');
    const nodes = after.find((m: { name: string }) => m.name === 'Nodes')?.value ?? metric('Nodes');
    const shown = await page.locator('#parley-root >> [data-parley="message"]').count();
    console.log(`after a ${shown}-message conversation (100 sent, 100 replies)`);
    console.log(`  JS heap used  ${(heap / 1024 / 1024).toFixed(1)} MB   DOM nodes  ${nodes}`);
  } finally {
    await browser.close();
    await server.shutdown();
    await stack.stop();
    await llm.close();
  }
}

await build();
await sizes();
await timings();
await memory();
Deno.exit(0);
