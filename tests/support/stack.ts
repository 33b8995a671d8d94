import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createLocalKeys, DEFAULT_JWT_SECRET, type LocalKeys } from '../../supabase/local/keys.ts';

// Starts `supabase/local/start.ts` on Deno as a child process, on free ports with an in-memory
// database: the tests talk to it exactly as supabase-js talks to a Supabase project.

export const projectDir = join(import.meta.dirname, '..', '..');

export interface StackProcess {
  url: string;
  dbUrl: string;
  port: number;
  keys: LocalKeys;
  /** Everything the stack printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface StartStackOptions {
  /** Persist here instead of in memory. */
  dataDir?: string;
  env?: Record<string, string>;
  /** Defaults to this repository; a clean clone can be started instead. */
  cwd?: string;
  timeoutMs?: number;
  /** Keep Auth's per-IP limits at config.toml's values (by default they are lifted). */
  authRateLimits?: 'config';
}

// Every test visitor signs up from 127.0.0.1, far beyond the 30 anonymous sign-ins an hour that
// config.toml allows one address. Tests lift the limits; tests/local/auth-rate-limits.test.ts
// keeps them and proves they hold.
export const LIFTED_AUTH_RATE_LIMITS = {
  GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '1000000000',
  GOTRUE_RATE_LIMIT_OTP: '1000000000',
  GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000000',
};

export async function startStack(options: StartStackOptions = {}): Promise<StackProcess> {
  const cwd = options.cwd ?? projectDir;
  const port = await freePort();
  const dbPort = await freePort();
  const args = [
    'run',
    '--allow-all',
    // Baseline WebAssembly code only: a test's stack lives seconds, and optimising Postgres'
    // hot functions in the background cost it more CPU than it won back (a quarter of the
    // browser and chat tests' time on two cores).
    '--v8-flags=--liftoff-only',
    'supabase/local/start.ts',
    '--port',
    String(port),
    '--db-port',
    String(dbPort),
  ];
  args.push(...(options.dataDir ? ['--data', options.dataDir] : ['--memory']));
  const child: ChildProcess = spawn(join(cwd, 'node_modules', '.bin', 'deno'), args, {
    cwd,
    env: {
      ...process.env,
      NO_COLOR: '1',
      ...(options.authRateLimits === 'config' ? {} : LIFTED_AUTH_RATE_LIMITS),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );

  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!output.includes('Parley local stack ready')) {
    if (child.exitCode !== null) throw new Error(`local stack exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`local stack did not start in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url: `http://127.0.0.1:${port}`,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres?sslmode=disable`,
    port,
    keys: await createLocalKeys(options.env?.JWT_SECRET ?? DEFAULT_JWT_SECRET),
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
