import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createHealthApp } from '../../functions/health/app.ts';
import { type LocalDatabase, openLocalDatabase } from './database.ts';

// The local stack as one object: the database, its Postgres wire endpoint (for psql, Studio or
// postgres.js), and an HTTP handler serving the functions under /functions/v1/<name>. The caller
// (start.ts on Deno, or a test) owns the HTTP listener.

export interface LocalStackOptions {
  /** Persist here; omit for an in-memory database. */
  dataDir?: string;
  /** Serve the database over the Postgres protocol on this port (0 = any free port). */
  dbPort?: number;
  host?: string;
  version?: string;
  log?: (message: string, error?: unknown) => void;
}

export interface LocalStack {
  database: LocalDatabase;
  db: Db;
  /** postgres://… URL of the wire endpoint, when one was asked for. */
  dbUrl?: string;
  fetch(request: Request): Promise<Response>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((message, error) => console.error(message, error ?? ''));
  const database = await openLocalDatabase(options.dataDir ? { dataDir: options.dataDir } : {});
  const db = createPgliteDb(database.pg);

  let socketServer: PGLiteSocketServer | undefined;
  let dbUrl: string | undefined;
  if (options.dbPort !== undefined) {
    // One connection at a time: PGlite is a single Postgres session, and two clients sharing it
    // would see each other's open transactions.
    socketServer = new PGLiteSocketServer({
      db: database.pg,
      host,
      port: options.dbPort,
      maxConnections: 1,
    });
    await socketServer.start();
    const port = socketServer.getServerConn().split(':').pop();
    dbUrl = `postgresql://postgres:postgres@${host}:${port}/postgres?sslmode=disable`;
  }

  const functions: Record<string, { fetch(request: Request): Response | Promise<Response> }> = {
    health: createHealthApp({ db, version: options.version ?? 'dev', log }),
  };

  return {
    database,
    db,
    dbUrl,
    async fetch(request) {
      const url = new URL(request.url);
      const match = /^\/functions\/v1\/([^/]+)(\/.*)?$/.exec(url.pathname);
      const app = match?.[1] ? functions[match[1]] : undefined;
      if (!app) {
        return new Response('Function not found', { status: 404 });
      }
      // Functions see their path without the /functions/v1 prefix, as on Supabase.
      url.pathname = url.pathname.slice('/functions/v1'.length);
      return app.fetch(new Request(url, request));
    },
    async stop() {
      await socketServer?.stop();
      await database.close();
    },
  };
}
