import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/stack.ts';

// A real n8n for the end-to-end test: the pinned release installed once into a cache folder
// (PARLEY_N8N_CACHE, default ~/.cache/parley/n8n/<version>), the Parley node package packed with
// npm and installed where n8n looks for community nodes, the templates and credentials imported
// with n8n's own CLI and activated, then `n8n start` in a fresh user folder.

export const N8N_VERSION = '1.123.81';
const run = promisify(execFile);
const root = join(import.meta.dirname, '../../..');
const SECRET_PLACEHOLDER = 'whsec_REPLACE_WITH_YOUR_SECRET';
const PARLEY_CREDENTIAL_ID = 'parleyE2eCred01';
const OPENAI_CREDENTIAL_ID = 'openAiE2eCred01';

export interface N8nInstance {
  url: string;
  webhookUrl(path: string): string;
  output(): string;
  stop(): Promise<void>;
}

export interface N8nOptions {
  /** Every Parley signing secret the credentials hold (tools and relay share one in the test). */
  secret: string;
  parleyUrl: string;
  openAiUrl: string;
  openAiKey: string;
  log?: (line: string) => void;
}

export function cacheDir(): string {
  return process.env.PARLEY_N8N_CACHE ?? join(homedir(), '.cache', 'parley', 'n8n', N8N_VERSION);
}

/** The n8n executable, installing the pinned release first when the cache lacks it. */
export async function installN8n(log: (line: string) => void = console.log): Promise<string> {
  const dir = cacheDir();
  const bin = join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // n8n-nodes-base takes `xlsx` from cdn.sheetjs.com rather than the npm registry, which networks
  // that only reach the registry cannot fetch; the registry's last release stands in. Only the
  // spreadsheet nodes use it, and no template does.
  const manifest = {
    name: 'parley-n8n-e2e',
    private: true,
    dependencies: { n8n: N8N_VERSION },
    overrides: { xlsx: '0.18.5' },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`installing n8n@${N8N_VERSION} into ${dir} (once; this takes a while)`);
  // Without install scripts: n8n's native extras (isolated-vm for its opt-in "vm" expression
  // engine, among others) do not all build on every Node it supports, and none is loaded unless
  // its feature is used. SQLite, n8n's database here, is built on its own afterwards.
  const npm = (...args: string[]) =>
    run('npm', args, { cwd: dir, maxBuffer: 64 * 1024 * 1024, timeout: 3_000_000 });
  await npm('install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error');
  await npm('rebuild', 'sqlite3');
  if (!existsSync(bin)) throw new Error(`npm installed no ${bin}`);
  return bin;
}

/** Builds and packs n8n-nodes-parley and installs the tarball as n8n installs community nodes. */
async function installParleyNode(userFolder: string) {
  await run(process.execPath, [join(root, 'n8n/scripts/build.mjs')]);
  const packDir = mkdtempSync(join(tmpdir(), 'parley-pack-'));
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', packDir], {
    cwd: join(root, 'n8n'),
  });
  const tarball = join(packDir, stdout.trim().split('\n').pop() ?? '');
  const nodesDir = join(userFolder, '.n8n', 'nodes');
  mkdirSync(nodesDir, { recursive: true });
  writeFileSync(join(nodesDir, 'package.json'), '{"name":"installed-nodes","private":true}\n');
  await run('npm', ['install', tarball, '--prefix', nodesDir, '--no-audit', '--no-fund']);
  rmSync(packDir, { recursive: true, force: true });
}

/** The templates as a tenant would import them, with the secret pasted and credentials chosen. */
function prepareWorkflows(dir: string, secret: string): string[] {
  const templates = join(root, 'n8n', 'templates');
  const ids: string[] = [];
  for (const [index, file] of readdirSync(templates)
    .filter((f) => f.endsWith('.json'))
    .entries()) {
    const text = readFileSync(join(templates, file), 'utf8').replaceAll(SECRET_PLACEHOLDER, secret);
    const workflow = JSON.parse(text) as {
      id?: string;
      active?: boolean;
      nodes: { credentials?: Record<string, { id: string; name: string }> }[];
    };
    workflow.id = `parleyE2eFlow${String(index).padStart(3, '0')}`;
    workflow.active = false;
    for (const node of workflow.nodes) {
      if (node.credentials?.parleyApi) {
        node.credentials.parleyApi = { id: PARLEY_CREDENTIAL_ID, name: 'Parley' };
      }
      if (node.credentials?.openAiApi) {
        node.credentials.openAiApi = { id: OPENAI_CREDENTIAL_ID, name: 'OpenAI' };
      }
    }
    writeFileSync(join(dir, file), JSON.stringify(workflow));
    ids.push(workflow.id);
  }
  return ids;
}

export async function startN8n(options: N8nOptions): Promise<N8nInstance> {
  const log = options.log ?? (() => {});
  const bin = await installN8n(log);
  const home = mkdtempSync(join(tmpdir(), 'parley-n8n-home-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // Not vitest's own: NODE_ENV=test makes n8n silence its logger and take test-only paths.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(VITEST|NODE_ENV$|NODE_OPTIONS$)/.test(key)),
  );
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    NODE_ENV: 'production',
    N8N_USER_FOLDER: home,
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_HOST: '127.0.0.1',
    WEBHOOK_URL: `${url}/`,
    N8N_ENCRYPTION_KEY: 'parley-e2e-encryption-key',
    N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_TEMPLATES_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
    N8N_SECURE_COOKIE: 'false',
    N8N_LOG_LEVEL: process.env.N8N_LOG_LEVEL ?? 'warn',
    // What the Webhook + Code templates need; the Parley node variants do not.
    NODE_FUNCTION_ALLOW_BUILTIN: 'crypto',
    EXECUTIONS_MODE: 'regular',
    // The default "vm" engine needs isolated-vm, which the install above does not build (it does
    // not compile on Node 20); what the templates do does not depend on the engine.
    N8N_EXPRESSION_ENGINE: 'legacy',
  };
  const cli = (...args: string[]) =>
    run(process.execPath, [bin, ...args], { env, maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });

  log('installing n8n-nodes-parley into the n8n user folder');
  await installParleyNode(home);

  const importDir = mkdtempSync(join(tmpdir(), 'parley-n8n-import-'));
  const workflowsDir = join(importDir, 'workflows');
  mkdirSync(workflowsDir);
  prepareWorkflows(workflowsDir, options.secret);
  const credentialsFile = join(importDir, 'credentials.json');
  writeFileSync(
    credentialsFile,
    JSON.stringify([
      {
        id: PARLEY_CREDENTIAL_ID,
        name: 'Parley',
        type: 'parleyApi',
        data: { signingSecret: options.secret, parleyUrl: options.parleyUrl },
      },
      {
        id: OPENAI_CREDENTIAL_ID,
        name: 'OpenAI',
        type: 'openAiApi',
        data: { apiKey: options.openAiKey, url: options.openAiUrl },
      },
    ]),
  );
  log('importing credentials and templates');
  await cli('import:credentials', `--input=${credentialsFile}`);
  await cli('import:workflow', '--separate', `--input=${workflowsDir}`);
  await cli('update:workflow', '--all', '--active=true');
  rmSync(importDir, { recursive: true, force: true });

  log(`starting n8n on ${url}`);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [bin, 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const deadline = Date.now() + 300_000;
  while (true) {
    if (child.exitCode !== null) {
      throw new Error(`n8n exited with ${child.exitCode}:\n${output}`);
    }
    const ready = await fetch(`${url}/healthz/readiness`).then(
      (res) => res.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`n8n did not become ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }

  return {
    url,
    webhookUrl: (path) => `${url}/webhook/${path}`,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
