import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, projectDir } from '../support/stack.ts';

// `npm start` in a clean clone of the repository (its committed state), with the dependencies
// this checkout already installed: the demo page is served, health is green, and a restart on the
// same data directory applies nothing again.

let clone: string;

beforeAll(async () => {
  clone = await mkdtemp(join(tmpdir(), 'parley-clone-'));
  execFileSync('git', ['clone', '-q', projectDir, clone]);
  await symlink(join(projectDir, 'node_modules'), join(clone, 'node_modules'), 'dir');
});
afterAll(() => rm(clone, { recursive: true, force: true }));

async function npmStart(port: number, dbPort: number) {
  const child = spawn('npm', ['start', '--', '--port', String(port), '--db-port', String(dbPort)], {
    cwd: clone,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Parley local stack ready')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`npm start failed:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: () => output,
    async stop() {
      // npm runs the stack as a child: signal the whole group, as Ctrl-C in a terminal does.
      process.kill(-(child.pid as number), 'SIGINT');
      await exited;
    },
  };
}

/** The demo tools' webhook URLs, read over the stack's Postgres port. */
async function demoToolUrls(dbPort: number): Promise<string[]> {
  const sql = postgres(`postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`, {
    max: 1,
    onnotice: () => {},
  });
  try {
    const rows = await sql<{ webhook_url: string }[]>`
      select webhook_url from public.tenant_tools order by name`;
    return rows.map((r) => r.webhook_url);
  } finally {
    await sql.end();
  }
}

describe('npm start in a clean clone', () => {
  it('serves the demo page and a green health check, and restarts idempotently', async () => {
    const port = await freePort();
    const dbPort = await freePort();
    const first = await npmStart(port, dbPort);
    try {
      expect(first.output()).toContain('owner@trailhead.example');
      expect(first.output()).toContain('pk_demo_trailhead');
      expect(first.output()).toMatch(/applied \d+ migrations/);

      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Trailhead Outfitters');
      expect(html).toContain('data-key="pk_demo_trailhead"');
      expect(html).toContain(`data-supabase-url="http://127.0.0.1:${port}"`);

      // npm start builds the widget, so the demo page's script is there on a fresh clone.
      const script = await fetch(`http://127.0.0.1:${port}/widget/widget.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toContain('javascript');
      expect((await fetch(`http://127.0.0.1:${port}/widget/parley-app.js`)).status).toBe(200);
      // A local build bakes no address: the widget talks to whatever origin served it.
      expect(await script.text()).not.toContain('127.0.0.1:54321');
      // It builds the admin SPA as well, served at /admin/ with its hashed script.
      const admin = await fetch(`http://127.0.0.1:${port}/admin/`);
      expect(admin.status).toBe(200);
      const adminScript = /src="\.\/(main-[\w-]+\.js)"/.exec(await admin.text())?.[1];
      expect(adminScript).toBeTruthy();
      expect((await fetch(`http://127.0.0.1:${port}/admin/${adminScript}`)).status).toBe(200);

      const tools = await demoToolUrls(dbPort);
      expect(tools.length).toBeGreaterThan(0);
      for (const url of tools)
        expect(url).toMatch(new RegExp(`^http://127.0.0.1:${port}/demo/n8n/`));

      const health = await fetch(`http://127.0.0.1:${port}/functions/v1/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', database: { status: 'ok' } });
    } finally {
      await first.stop();
    }
    expect(first.output()).toContain('Stopping');

    // The same data folder on other ports: the demo tools follow the stack.
    const port2 = await freePort();
    const dbPort2 = await freePort();
    const second = await npmStart(port2, dbPort2);
    try {
      expect(second.output()).not.toMatch(/applied \d+ migrations/);
      const health = await fetch(`http://127.0.0.1:${port2}/functions/v1/health`);
      expect(health.status).toBe(200);
      for (const url of await demoToolUrls(dbPort2)) {
        expect(url).toMatch(new RegExp(`^http://127.0.0.1:${port2}/demo/n8n/`));
      }
    } finally {
      await second.stop();
    }
    // Two full starts of a fresh clone (install-free, but migrations, seed and builds each time).
  }, 180_000);
});
