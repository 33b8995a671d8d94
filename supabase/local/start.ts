// `npm start`: the local Parley stack on Deno. Flags: --port N (HTTP, default 54321 or $PORT),
// --db-port N (Postgres protocol, default 54322 or $DB_PORT), --reset (start from an empty
// database), --data DIR (default .data/).

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from './stack.ts';

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: 'string' },
    'db-port': { type: 'string' },
    data: { type: 'string' },
    reset: { type: 'boolean', default: false },
  },
});

const port = Number(values.port ?? Deno.env.get('PORT') ?? 54321);
const dbPort = Number(values['db-port'] ?? Deno.env.get('DB_PORT') ?? 54322);
const dataDir = join(values.data ?? '.data', 'db');

if (values.reset) {
  await rm(dataDir, { recursive: true, force: true });
}

const started = performance.now();
const stack = await startLocalStack({ dataDir, dbPort, version: 'local' });
const server = Deno.serve({ port, hostname: '127.0.0.1', onListen: () => {} }, stack.fetch);
const base = `http://127.0.0.1:${port}`;

console.log(`
Parley local stack ready in ${Math.round(performance.now() - started)} ms

  Functions     ${base}/functions/v1/<name>   (health: ${base}/functions/v1/health)
  Database      ${stack.dbUrl}
  Data          ${dataDir}${stack.database.applied.length ? `  (applied ${stack.database.applied.length} migrations)` : ''}

  Demo logins   owner@trailhead.example / parley-demo-1   (tenant owner)
                agent@trailhead.example / parley-demo-1   (support agent)
                ops@parley.example      / parley-demo-1   (platform operator)
  Widget key    pk_demo_trailhead

Ctrl-C to stop.`);

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping…');
  await server.shutdown();
  await stack.stop();
  Deno.exit(0);
}
Deno.addSignalListener('SIGINT', shutdown);
Deno.addSignalListener('SIGTERM', shutdown);
