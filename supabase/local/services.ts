import type { PGlite } from '@electric-sql/pglite';
import type { Db } from '../../functions/_shared/db/port.ts';
import type { LocalKeys } from './keys.ts';

export type Logger = (message: string, error?: unknown) => void;

/** What every local service is built from. */
export interface LocalServices {
  /** The single PGlite instance: use it for LISTEN and for work that needs raw SQL as superuser. */
  pg: PGlite;
  /** The same database through the Db port (asUser / asService). */
  db: Db;
  keys: LocalKeys;
  /** Base URL clients use, e.g. http://127.0.0.1:54321 (no trailing slash). */
  publicUrl: string;
  /** The repository root (holds supabase/, functions/, widget/, admin/). */
  projectDir: string;
  log: Logger;
}

/** What the listener knows about the caller beyond its request. */
export interface ClientInfo {
  /** The connection's peer address. */
  address: string;
}

/** An HTTP service mounted under a path prefix of the stack. */
export interface HttpService {
  fetch(request: Request, client?: ClientInfo): Promise<Response>;
}

/** A background service (scheduler, drainer) that the stack stops on shutdown. */
export interface BackgroundService {
  stop(): Promise<void>;
}
