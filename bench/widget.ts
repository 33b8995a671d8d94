// `npm run bench:widget`: the widget's weight and, when Chromium is there, how soon it shows.
// Printed, never asserted. Builds first so the figures match the sources.
//   - gzip sizes: the loader alone (what every page view pays) and loader + app
//   - Chromium (/usr/bin/chromium): launcher painted after navigation start, app chunk loaded
//     after the launcher is clicked (median of 5, a static page with no backend behind it)
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
    for (let run = 0; run < 5; run++) {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#parley-root >> button[data-parley="launcher"]');
      painted.push(await page.evaluate(() => performance.now()));
      const start = await page.evaluate(() => performance.now());
      await page.click('#parley-root >> button[data-parley="launcher"]');
      await page.waitForSelector('#parley-root >> [data-parley="window"]', { state: 'visible' });
      opened.push((await page.evaluate(() => performance.now())) - start);
      await page.close();
    }
  } finally {
    await server.close();
    await browser.close();
  }
  console.log('chromium (median of 5, local server)');
  console.log(`  launcher painted after navigation start  ${median(painted).toFixed(0)} ms`);
  console.log(`  window visible after launcher click      ${median(opened).toFixed(0)} ms`);
}

await build();
await sizes();
await timings();
