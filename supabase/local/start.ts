// `npm start`: the local Parley stack on Deno, on one port.
//   --port N      HTTP port (default $PORT or 54321)
//   --db-port N   Postgres protocol port (default $DB_PORT or 54322)
//   --data DIR    where the database lives (default .data)
//   --memory      keep the database in memory (nothing persisted)
//   --reset       start from an empty database
// JWT_SECRET (≥ 32 characters) replaces the well-known local secret; every other environment
// variable is passed to the functions.
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
    memory: { type: 'boolean', default: false },
    reset: { type: 'boolean', default: false },
  },
});

const port = Number(values.port ?? Deno.env.get('PORT') ?? 54321);
const dbPort = Number(values['db-port'] ?? Deno.env.get('DB_PORT') ?? 54322);
const dataDir = values.memory ? undefined : join(values.data ?? '.data', 'db');

if (values.reset && dataDir) {
  await rm(dataDir, { recursive: true, force: true });
  // Object bytes without their database rows would be unreachable.
  await rm(join(dataDir, '..', 'storage'), { recursive: true, force: true });
}

const started = performance.now();
const stack = await startLocalStack({
  port,
  dbPort,
  ...(dataDir ? { dataDir } : {}),
  ...(Deno.env.get('JWT_SECRET') ? { jwtSecret: Deno.env.get('JWT_SECRET') } : {}),
  functionEnv: Deno.env.toObject(),
});

const server = Deno.serve({ port, hostname: '127.0.0.1', onListen: () => {} }, (request, info) => {
  const url = new URL(request.url);
  if (url.pathname === '/realtime/v1/websocket') {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') {
      return new Response('Expected a WebSocket upgrade', { status: 426 });
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    stack.handleSocket(socket, url);
    return response;
  }
  return stack.fetch(request, { address: info.remoteAddr.hostname });
});

const base = stack.publicUrl;
console.log(`
Parley local stack ready in ${Math.round(performance.now() - started)} ms

  API URL          ${base}            (Supabase URL for supabase-js)
  Publishable key  ${stack.keys.anonKey}
  Service key      ${stack.keys.serviceRoleKey}
  Functions        ${base}/functions/v1/<name>   health: ${base}/functions/v1/health
  Demo shop        ${base}/
  Admin            ${base}/admin/
  Database         ${stack.dbUrl}
  Data             ${dataDir ?? 'in memory'}${stack.database.applied.length ? `  (applied ${stack.database.applied.length} migrations)` : ''}

  Demo logins      owner@trailhead.example / parley-demo-1   (tenant owner)
                   agent@trailhead.example / parley-demo-1   (support agent)
                   ops@parley.example      / parley-demo-1   (platform operator)
  Widget key       pk_demo_trailhead

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
