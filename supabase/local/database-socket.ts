import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

// Serves the local database over the Postgres wire protocol (psql, Studio, postgres.js).
//
// PGlite is one Postgres session. The socket server only locks it for one protocol message at a
// time, so an in-process transaction (Auth, cron, a function) could otherwise run its statements
// in the middle of a socket client's transaction, or commit it. Here the socket client holds
// PGlite's transaction lock from its first message until Postgres reports the session idle again
// (ReadyForQuery 'I'): a client transaction is then as isolated from in-process work as a real
// second connection would make it, at the price of serialising them.

type Release = () => void;

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I'
const TERMINATE = 0x58; // 'X'

interface ExclusivePglite {
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
}

function queryMessage(sql: string): Uint8Array {
  const text = new TextEncoder().encode(`${sql}\0`);
  const message = new Uint8Array(5 + text.length);
  message[0] = 0x51; // 'Q'
  new DataView(message.buffer).setInt32(1, 4 + text.length);
  message.set(text, 5);
  return message;
}

/** A view of pg for the socket server that holds the transaction lock across a client's transaction. */
export function exclusiveSessionView(pg: PGlite): PGlite {
  let release: Release | null = null;

  const acquire = async () => {
    if (release) return;
    await new Promise<void>((locked) => {
      void (pg as unknown as ExclusivePglite)._runExclusiveTransaction(
        () =>
          new Promise<void>((unlock) => {
            release = () => {
              release = null;
              unlock();
            };
            locked();
          }),
      );
    });
  };

  const overrides: Partial<Record<keyof PGlite, unknown>> = {
    // The socket server wraps every message in runExclusive: take the transaction lock first (the
    // in-process order), so the two locks can never be taken in opposite orders.
    runExclusive: async <T>(fn: () => Promise<T>) => {
      await acquire();
      return pg.runExclusive(fn);
    },
    execProtocolRawStream: async (
      message: Uint8Array,
      options: { onRawData: (data: Uint8Array) => void; syncToFs?: boolean },
    ) => {
      let tail = new Uint8Array(0);
      await pg.execProtocolRawStream(message, {
        ...options,
        onRawData: (data: Uint8Array) => {
          tail = data.length >= 6 ? data.slice(-6) : Uint8Array.from([...tail, ...data]).slice(-6);
          options.onRawData(data);
        },
      });
      const idle = tail.length === 6 && tail[0] === READY_FOR_QUERY && tail[5] === IDLE;
      // Terminate gets no ReadyForQuery: the client is leaving, and any transaction of its was
      // already rolled back by the server (or will be, through exec below).
      if (idle || (message[0] === TERMINATE && !pg.isInTransaction())) release?.();
    },
    // Used by the server to roll back after a client vanished mid-transaction; the lock is ours
    // then, so run it directly instead of queueing behind ourselves.
    exec: async (sql: string) => {
      if (!release) return pg.exec(sql);
      await pg.execProtocolRaw(queryMessage(sql));
      release?.();
      return [];
    },
  };

  return new Proxy(pg, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property as keyof PGlite];
      const value = Reflect.get(target, property, receiver);
      // PGlite keeps its state in private fields, so its methods must run with the real instance.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export async function serveDatabase(pg: PGlite, options: { host: string; port: number }) {
  // One connection at a time: a second client would share the same session.
  const server = new PGLiteSocketServer({
    db: exclusiveSessionView(pg),
    host: options.host,
    port: options.port,
    maxConnections: 1,
  });
  await server.start();
  const port = server.getServerConn().split(':').pop();
  return {
    url: `postgresql://postgres:postgres@${options.host}:${port}/postgres?sslmode=disable`,
    stop: () => server.stop(),
  };
}
