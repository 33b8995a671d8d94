import postgres from 'postgres';
import type { Db, Sql } from './port.ts';
import { sessionDb } from './session.ts';

export type PostgresDbOptions = {
  /** Connections this client may hold at once (per isolate on Supabase). */
  max?: number;
  idleTimeoutSeconds?: number;
  connectTimeoutSeconds?: number;
};

/**
 * Settings for Supabase's pooler in transaction mode (port 6543), which is what a deployed function
 * should connect through: every isolate of every function opens its own client, and only the
 * pooler turns those many short-lived clients into the few backends Postgres can afford.
 */
export function poolerSettings(options: PostgresDbOptions = {}) {
  return {
    // The pooler hands each transaction to whichever backend is free, so a statement prepared
    // on one backend is unknown to the next: named prepared statements must never be used.
    prepare: false,
    // An isolate serves requests concurrently, but each request holds a connection only for its
    // transaction; three keep a busy isolate from queueing while every client of every isolate
    // still counts against the pooler's client limit (docs/scaling.md).
    max: options.max ?? 3,
    // Long enough to span the gaps between the requests a warm isolate serves, so they reuse the
    // connection; short enough that an idle isolate stops counting against the client limit.
    idle_timeout: options.idleTimeoutSeconds ?? 20,
    // Well inside the platform's 150 s request limit: a pooler that does not answer in 10 s is
    // better reported than waited for.
    connect_timeout: options.connectTimeoutSeconds ?? 10,
  } as const;
}

// postgres.js returns int8 as string and bytea as Buffer; the port promises what PGlite returns.
const int8 = {
  to: 20,
  from: [20],
  serialize: (x: number | bigint | string) => String(x),
  parse: (x: string): number | bigint => {
    const n = Number(x);
    return Number.isSafeInteger(n) ? n : BigInt(x);
  },
};

const bytea = {
  to: 17,
  from: [17],
  serialize: (x: Uint8Array) =>
    `\\x${Array.from(x, (b) => b.toString(16).padStart(2, '0')).join('')}`,
  parse: (x: string) => {
    const out = new Uint8Array((x.length - 2) / 2);
    for (let i = 0; i < out.length; i++)
      out[i] = Number.parseInt(x.slice(2 + 2 * i, 4 + 2 * i), 16);
    return out;
  },
};

export function createPostgresDb(url: string, options: PostgresDbOptions = {}): Db {
  // Connections open on first use, not here, so a client made at startup costs nothing.
  const sql = postgres(url, { ...poolerSettings(options), types: { int8, bytea } });

  return sessionDb({
    transaction: async (fn, setup) => {
      // Boxed because begin() would otherwise await an array result element by element.
      const box = await sql.begin(async (tx) => {
        const query: Sql['query'] = async <T>(text: string, params: readonly unknown[] = []) => {
          // OID 0 lets the server infer every parameter's type, as PGlite does, instead of
          // postgres.js guessing from the JS value (true would be sent as bool, not jsonb).
          const typed = params.map((p) => sql.typed(p, 0));
          return [...(await tx.unsafe(text, typed))] as T[];
        };
        if (setup) await query(setup.text, setup.params);
        return { value: await fn({ query }) };
      });
      return box.value;
    },
    close: () => sql.end({ timeout: 5 }),
  });
}
