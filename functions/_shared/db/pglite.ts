import { type PGliteInterface, parse, protocol, types } from '@electric-sql/pglite';
import type { Db, Sql } from './port.ts';
import { sessionDb, type TransactionSetup } from './session.ts';

// PGlite passes strings through to json/jsonb untouched while postgres.js JSON-encodes them;
// always encoding is the rule the port promises.
const serializers = { 114: JSON.stringify, 3802: JSON.stringify };

// PGlite's own query() makes six calls into the database for one statement (parse, describe,
// bind, describe, execute, sync) and a transaction three more (BEGIN, the session's setup,
// COMMIT), each with a fixed cost of its own that was most of what a short statement cost. Here a
// statement is two protocol batches (parse and describe, for its parameters' types; then bind and
// execute), one when it has no parameters, and BEGIN with the setup rides along with the
// transaction's first statement: n statements take at most 2n + 1 calls instead of 6n + 3. The
// messages, results, type parsers and errors are PGlite's own.
const { serialize } = protocol;
const { parseResults, parseDescribeStatementResults } = parse;

type BackendMessage = Parameters<typeof parseResults>[0][number];

/** What the pipelined path uses of a PGlite instance (all public but the transaction lock). */
interface PipelinedPglite {
  execProtocolStream(
    message: Uint8Array,
    options?: { syncToFs?: boolean },
  ): Promise<BackendMessage[]>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  serializers: Record<number | string, (value: unknown) => string>;
  parsers: Parameters<typeof parseResults>[1];
}

type PgliteLike = Pick<PGliteInterface, 'transaction'> & Partial<PipelinedPglite>;

function pipelined(pg: PgliteLike): PipelinedPglite | null {
  return typeof pg.execProtocolStream === 'function' &&
    typeof pg._runExclusiveTransaction === 'function' &&
    typeof pg.runExclusive === 'function' &&
    pg.serializers &&
    pg.parsers
    ? (pg as PipelinedPglite)
    : null;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * The statement's rows: what follows its Bind (the batch may begin with BEGIN and the setup).
 * Parsed here with PGlite's own type parsers rather than through parseResults, which copies every
 * one of the instance's parsers (hundreds) into a new object on each call: about 0.1 ms a
 * statement, a tenth of the local stack's CPU under chat load.
 */
function rowsOf<T>(messages: BackendMessage[], parsers: PipelinedPglite['parsers']): T[] {
  let start = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.name === 'bindComplete') {
      start = i + 1;
      break;
    }
  }
  let fields: readonly { name: string; dataTypeID: number }[] = [];
  const rows: Record<string, unknown>[] = [];
  for (let i = start; i < messages.length; i++) {
    const message = messages[i] as BackendMessage;
    if (message.name === 'rowDescription') {
      fields = (message as InstanceType<typeof protocol.messages.RowDescriptionMessage>).fields;
    } else if (message.name === 'dataRow') {
      const values = (message as InstanceType<typeof protocol.messages.DataRowMessage>).fields;
      const row: Record<string, unknown> = {};
      for (let f = 0; f < fields.length; f++) {
        const field = fields[f] as { name: string; dataTypeID: number };
        row[field.name] = types.parseType(values[f] ?? null, field.dataTypeID, parsers);
      }
      rows.push(row);
    } else if (message.name === 'commandComplete') {
      // The first result is the statement's; anything after it is not.
      break;
    }
  }
  return rows as T[];
}

function withQuery(error: unknown, text: string, params: readonly unknown[]): never {
  // As PGlite's query() does, the failing statement travels with its error.
  if (error && typeof error === 'object' && 'severity' in error)
    Object.assign(error, { query: text, params });
  throw error;
}

/** Text parameters as PGlite's query() makes them: by the type Postgres inferred for each. */
function serialized(pg: PipelinedPglite, params: readonly unknown[], oids: readonly number[]) {
  return params.map((value, i) => {
    if (value === null || value === undefined) return null;
    const oid = oids[i] ?? 0;
    const serializer =
      (serializers as Record<number, (v: unknown) => string>)[oid] ?? pg.serializers[oid];
    return serializer ? serializer(value) : String(value);
  });
}

/** One transaction's statements, sent as few protocol calls as PGlite allows. */
function pipelinedSession(pg: PipelinedPglite, setup: TransactionSetup | null) {
  // execProtocolStream, as PGlite's own statements use: it collects the replies for this call
  // alone, where execProtocol would also hand them to a raw-data listener the socket server left.
  const call = (parts: Uint8Array[], syncToFs = false) =>
    pg.execProtocolStream(concat(parts), { syncToFs });
  // BEGIN and the setup wait for the first statement and go with it. The setup's parameters are
  // strings, which need no type to be sent.
  let pending: Uint8Array[] | null = [serialize.query('BEGIN')];
  if (setup) {
    pending.push(
      serialize.parse({ text: setup.text }),
      serialize.bind({ values: [...setup.params] }),
      serialize.describe({ type: 'P' }),
      serialize.execute({}),
    );
  }
  let closed = false;
  // A transaction's statements run one after another even when the caller does not wait.
  let queue: Promise<unknown> = Promise.resolve();

  const send = (parts: Uint8Array[]) => {
    const batch = pending ? [...pending, ...parts] : parts;
    pending = null;
    return call([...batch, serialize.sync()]);
  };

  async function run<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    if (closed) throw new Error('Transaction is closed');
    try {
      // The parameters' types come from Postgres (one call to describe the statement), as with
      // PGlite's query(); the unnamed statement then stays for the bind, since no other client
      // can run between the two calls.
      let oids: number[] = [];
      if (params.length > 0) {
        oids = parseDescribeStatementResults(
          await send([serialize.parse({ text }), serialize.describe({ type: 'S' })]),
        );
      }
      const execute = [
        serialize.bind({ values: serialized(pg, params, oids) }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
      ];
      const messages = await send(
        params.length > 0 ? execute : [serialize.parse({ text }), ...execute],
      );
      return rowsOf<R>(messages, pg.parsers);
    } catch (error) {
      return withQuery(error, text, params);
    }
  }

  return {
    sql: {
      query<R>(text: string, params: readonly unknown[] = []) {
        const result = queue.then(() => run<R>(text, params));
        queue = result.catch(() => {});
        return result;
      },
    } as Sql,
    /** Waits for the statements sent, then commits (or rolls back) what was begun. */
    async end(commit: boolean) {
      await queue;
      closed = true;
      // Nothing was sent, so nothing was begun.
      if (pending) return;
      await call([serialize.query(commit ? 'COMMIT' : 'ROLLBACK')], true);
    },
  };
}

function pipelinedTransaction<T>(
  pg: PipelinedPglite,
  setup: TransactionSetup | null,
  fn: (sql: Sql) => Promise<T>,
): Promise<T> {
  // The transaction holds both of PGlite's locks throughout: its own (no other transaction or
  // statement of this process starts) and the one the socket server's clients take for each of
  // their messages (none of theirs runs inside this transaction or between its protocol calls).
  return pg._runExclusiveTransaction(() =>
    pg.runExclusive(async () => {
      const session = pipelinedSession(pg, setup);
      let result: T;
      try {
        result = await fn(session.sql);
      } catch (error) {
        await session.end(false);
        throw error;
      }
      await session.end(true);
      return result;
    }),
  );
}

/** The instance stays the caller's: close() leaves it open. */
export function createPgliteDb(pg: PgliteLike): Db {
  const fast = pipelined(pg);
  return sessionDb({
    transaction: (fn, setup) =>
      fast
        ? pipelinedTransaction(fast, setup ?? null, fn)
        : pg.transaction(async (tx) => {
            const sql: Sql = {
              query: async <T>(text: string, params: readonly unknown[] = []) =>
                (await tx.query<T>(text, [...params], { serializers })).rows,
            };
            if (setup) await sql.query(setup.text, setup.params);
            return fn(sql);
          }),
    close: async () => {},
  });
}
