// What the benchmark scripts share: free ports, percentiles, and the local stack as a child process.
import { createServer } from 'node:net';
import { join } from 'node:path';

export const projectDir = join(import.meta.dirname ?? '.', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

export const ms = (n: number) => `${n.toFixed(1)} ms`;

// A benchmark signs up far more visitors from 127.0.0.1 than Auth's per-address limits allow.
const LIFTED_AUTH_RATE_LIMITS = {
  GOTRUE_RATE_LIMIT_ANONYMOUS_USERS: '1000000000',
  GOTRUE_RATE_LIMIT_OTP: '1000000000',
  GOTRUE_RATE_LIMIT_TOKEN_REFRESH: '1000000000',
};

/**
 * Starts `supabase/local/start.ts`; resolves once it printed that it is ready. Ports are free ones
 * unless given (a restarted stack keeps the URLs its clients hold).
 */
export async function startStack(
  args: string[],
  env: Record<string, string> = {},
  ports: { port?: number; dbPort?: number } = {},
) {
  const port = ports.port ?? (await freePort());
  const dbPort = ports.dbPort ?? (await freePort());
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      'run',
      '--allow-all',
      'supabase/local/start.ts',
      '--port',
      `${port}`,
      '--db-port',
      `${dbPort}`,
      ...args,
    ],
    cwd: projectDir,
    env: { ...LIFTED_AUTH_RATE_LIMITS, ...env },
    stdout: 'piped',
    stderr: 'null',
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = '';
  while (!output.includes('Parley local stack ready')) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stack exited:\n${output}`);
    output += value;
  }
  const readyMs = performance.now() - started;
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done);
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    dbUrl: `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres?sslmode=disable`,
    port,
    dbPort,
    readyMs,
    /** The stack's process, for benchmarks that read its CPU time. */
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await child.status;
    },
    /** `kill -9`: no shutdown, whatever was in flight is simply gone. */
    async kill() {
      child.kill('SIGKILL');
      await child.status;
    },
  };
}
