import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loggable } from '../../functions/_shared/db/loggable.ts';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import { createAuth } from './auth.ts';
import { startAutovacuum } from './autovacuum.ts';
import { startCron } from './cron.ts';
import { type LocalDatabase, openLocalDatabase } from './database.ts';
import { serveDatabase } from './database-socket.ts';
import { createDemoN8n } from './demo/n8n.ts';
import { createFunctionsRouter } from './functions.ts';
import { createLocalKeys, type LocalKeys } from './keys.ts';
import { startNetDrainer } from './net.ts';
import { createRealtime } from './realtime/server.ts';
import { createRest } from './rest/index.ts';
import type { ClientInfo, LocalServices, Logger } from './services.ts';
import { createStaticFiles } from './static.ts';
import { createStorage } from './storage/server.ts';

// The local stack as one object: the database, Auth, Realtime, the functions, pg_cron and pg_net,
// static files, and the database's Postgres wire endpoint. The caller (start.ts on Deno) owns the
// HTTP listener and hands WebSocket upgrades to handleSocket.

export interface LocalStackOptions {
  /** Persist here; omit for an in-memory database. */
  dataDir?: string;
  /** HTTP port clients use (for URLs handed out: SUPABASE_URL, vault's worker URL). */
  port: number;
  /** Serve the database over the Postgres protocol on this port; omit for none. */
  dbPort?: number;
  host?: string;
  jwtSecret?: string;
  /** Extra environment for the functions (LLM keys and the like). */
  functionEnv?: Record<string, string | undefined>;
  log?: Logger;
}

export interface LocalStack {
  database: LocalDatabase;
  keys: LocalKeys;
  publicUrl: string;
  /** postgres://… URL of the wire endpoint, when one was asked for. */
  dbUrl?: string;
  /** `client` is what the listener knows of the caller: Auth limits requests per address. */
  fetch(request: Request, client?: ClientInfo): Promise<Response>;
  handleSocket(socket: WebSocket, url: URL): void;
  stop(): Promise<void>;
}

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  // As in production: a Postgres error is logged by its code and statement, never its values.
  const log: Logger =
    options.log ?? ((message, error) => console.error(message, loggable(error) ?? ''));
  const publicUrl = `http://${host}:${options.port}`;
  const keys = await createLocalKeys(options.jwtSecret);
  const database = await openLocalDatabase({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    // pg_cron's worker call reaches this stack's worker function.
    vaultSecrets: {
      parley_worker_url: `${publicUrl}/functions/v1/worker`,
      parley_service_role_key: keys.serviceRoleKey,
      parley_demo_n8n_url: `${publicUrl}/demo/n8n`,
    },
  });
  const services: LocalServices = {
    pg: database.pg,
    db: createPgliteDb(database.pg),
    keys,
    publicUrl,
    projectDir,
    log,
  };

  const socket =
    options.dbPort === undefined
      ? undefined
      : await serveDatabase(database.pg, { host, port: options.dbPort });
  const dbUrl = socket?.url;

  const auth = createAuth(services);
  const realtime = createRealtime(services);
  const rest = createRest(services);
  const functions = await createFunctionsRouter(services, {
    // The demo n8n service and developers' own tools listen on this machine. Only the local stack
    // turns this on, and its environment can still turn it off; deployed functions never see it.
    PARLEY_ALLOW_LOOPBACK_OUTBOUND: 'true',
    ...options.functionEnv,
    SUPABASE_DB_URL: dbUrl,
  });
  // Object bytes live beside the database folder, or in memory with it.
  const onDisk = options.dataDir && !options.dataDir.startsWith('memory://');
  const storage = await createStorage(services, {
    ...(onDisk ? { dir: join(dirname(options.dataDir as string), 'storage') } : {}),
  });
  const staticFiles = createStaticFiles(services);
  const demoN8n = createDemoN8n(services);
  const cron = startCron(services);
  const net = startNetDrainer(services);
  const autovacuum = startAutovacuum(database.pg, log);

  return {
    database,
    keys,
    publicUrl,
    dbUrl,
    fetch(request, client) {
      const { pathname } = new URL(request.url);
      if (pathname.startsWith('/auth/v1/')) return auth.fetch(request, client);
      if (pathname.startsWith('/realtime/v1/api/')) return realtime.fetch(request);
      if (pathname.startsWith('/rest/v1/') || pathname === '/rest/v1') return rest.fetch(request);
      if (pathname.startsWith('/functions/v1/')) return functions.fetch(request);
      if (pathname.startsWith('/storage/v1/')) return storage.fetch(request);
      if (pathname.startsWith('/demo/n8n/')) return demoN8n.fetch(request);
      return staticFiles.fetch(request);
    },
    handleSocket: (socket, url) => realtime.handleSocket(socket, url),
    async stop() {
      await cron.stop();
      await net.stop();
      await autovacuum.stop();
      await realtime.stop();
      await rest.stop();
      await functions.drain();
      await socket?.stop();
      await database.close();
    },
  };
}
