import postgres from 'postgres';
import type { Db } from './port.ts';
import { sessionDb } from './session.ts';

export type PostgresDbOptions = {
  /** Pool size per process. */
  max?: number;
  idleTimeoutSeconds?: number;
  connectTimeoutSeconds?: number;
};

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
  const sql = postgres(url, {
    // Transaction-mode poolers (Supabase's) hand each transaction to any backend, so named
    // prepared statements cannot be relied on.
    prepare: false,
    max: options.max ?? 3,
    idle_timeout: options.idleTimeoutSeconds ?? 20,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    types: { int8, bytea },
  });

  return sessionDb({
    transaction: async (fn) => {
      // Boxed because begin() would otherwise await an array result element by element.
      const box = await sql.begin(async (tx) => ({
        value: await fn({
          query: async <T>(text: string, params: readonly unknown[] = []) => {
            // OID 0 lets the server infer every parameter's type, as PGlite does, instead of
            // postgres.js guessing from the JS value (true would be sent as bool, not jsonb).
            const typed = params.map((p) => sql.typed(p, 0));
            return [...(await tx.unsafe(text, typed))] as T[];
          },
        }),
      }));
      return box.value;
    },
    close: () => sql.end({ timeout: 5 }),
  });
}
