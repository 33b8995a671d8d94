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
//
// A statement with parameters is also prepared once per instance, under a name of its own, and
// afterwards only bound and executed: one call instead of two, and Postgres no longer parses,
// analyses and plans the same text on every use (the transaction's setup included). Prepared
// statements are how a server-side driver with a statement cache works; the hosted path
// (postgres.js behind the pooler) keeps unnamed statements, which a pooler requires.
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

/**
 * The statements one PGlite instance holds prepared: by text, the name and the parameter types
 * Postgres inferred when it was prepared. Least recently used first, bounded, so texts built per
 * call cannot fill the session; an evicted or failed statement is closed with the next batch.
 */
export class PreparedStatements {
  readonly #byText = new Map<string, { name: string; oids: number[] }>();
  #closing: string[] = [];
  #counter = 0;

  constructor(readonly capacity = 256) {}

  get size() {
    return this.#byText.size;
  }

  get(text: string) {
    const entry = this.#byText.get(text);
    if (entry) {
      // Most recently used goes last: Map keeps insertion order.
      this.#byText.delete(text);
      this.#byText.set(text, entry);
    }
    return entry;
  }

  /** A fresh name for text (never one used before, so a half-made statement can't collide). */
  add(text: string, oids: number[]) {
    const entry = { name: `parley_stmt_${++this.#counter}`, oids };
    this.#byText.set(text, entry);
    for (const [oldest, old] of this.#byText) {
      if (this.#byText.size <= this.capacity) break;
      this.#byText.delete(oldest);
      this.#closing.push(old.name);
    }
    return entry;
  }

  /**
   * Forgets text's statement after an error it may be part of (a changed schema, a statement
   * something else deallocated): the next use prepares it again. Closing a name Postgres does not
   * know is not an error.
   */
  forget(text: string, name: string) {
    if (this.#byText.get(text)?.name === name) this.#byText.delete(text);
    this.#closing.push(name);
  }

  /** Close messages for the statements let go since the last batch. */
  takeCloses(): Uint8Array[] {
    if (this.#closing.length === 0) return [];
    const names = this.#closing;
    this.#closing = [];
    return names.map((name) => serialize.close({ type: 'S', name }));
  }
}

const preparedByInstance = new WeakMap<object, PreparedStatements>();

function preparedOf(pg: PipelinedPglite): PreparedStatements {
  let prepared = preparedByInstance.get(pg);
  if (!prepared) {
    prepared = new PreparedStatements();
    preparedByInstance.set(pg, prepared);
  }
  return prepared;
}

/** A statement whose failure says nothing about the statement: the transaction failed before. */
const IN_FAILED_TRANSACTION = '25P02';

/**
 * What a prepared statement can fail with after the schema changed under it, where the same text
 * prepared again may succeed: its result's columns changed (0A000, "cached plan must not change
 * result type"), something deallocated it, or what it names is gone or now wants other types.
 */
const OUTDATED_STATEMENT = new Set(['0A000', '26000', '42883', '42P01', '42703', '42804', '42725']);

/** One transaction's statements, sent as few protocol calls as PGlite allows. */
function pipelinedSession(pg: PipelinedPglite, setup: TransactionSetup | null) {
  const prepared = preparedOf(pg);
  // execProtocolStream, as PGlite's own statements use: it collects the replies for this call
  // alone, where execProtocol would also hand them to a raw-data listener the socket server left.
  const call = (parts: Uint8Array[], syncToFs = false) =>
    pg.execProtocolStream(concat(parts), { syncToFs });
  // The setup's statement, and whether it was kept from an earlier transaction (else it is
  // prepared in the first batch, and forgotten if that batch fails).
  let setupStatement: { name: string; kept: boolean } | null = null;
  /** BEGIN and the setup: they wait for the first statement and go with it. */
  const opening = (): Uint8Array[] => {
    const parts = [serialize.query('BEGIN')];
    if (!setup) return parts;
    let statement = prepared.get(setup.text);
    setupStatement = { name: statement?.name ?? '', kept: statement !== undefined };
    if (!statement) {
      // Its parameters are strings, which need no type to be sent: prepared along with its use.
      statement = prepared.add(setup.text, []);
      setupStatement.name = statement.name;
      parts.push(serialize.parse({ name: statement.name, text: setup.text }));
    }
    parts.push(
      serialize.bind({ statement: statement.name, values: [...setup.params] }),
      serialize.execute({}),
    );
    return parts;
  };
  let pending: Uint8Array[] | null = opening();
  let closed = false;
  // A transaction's statements run one after another even when the caller does not wait.
  let queue: Promise<unknown> = Promise.resolve();

  const send = async (parts: Uint8Array[]) => {
    const first = pending !== null;
    const batch = [...prepared.takeCloses(), ...(pending ?? []), ...parts];
    pending = null;
    try {
      return await call([...batch, serialize.sync()]);
    } catch (error) {
      if (first && setup && setupStatement && !setupStatement.kept)
        prepared.forget(setup.text, setupStatement.name);
      throw error;
    }
  };

  /** The statement prepared under its name, with its parameters' types as Postgres inferred them. */
  async function statementFor(text: string) {
    const known = prepared.get(text);
    if (known) return known;
    const statement = prepared.add(text, []);
    try {
      statement.oids = parseDescribeStatementResults(
        await send([
          serialize.parse({ name: statement.name, text }),
          serialize.describe({ type: 'S', name: statement.name }),
        ]),
      );
    } catch (error) {
      prepared.forget(text, statement.name);
      throw error;
    }
    return statement;
  }

  /** The statement's rows; prepared statements are forgotten when they fail. */
  async function execute<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    if (params.length === 0) {
      // Mostly one-off statements (DDL, fixtures): parsed unnamed, in one call.
      const messages = await send([
        serialize.parse({ text }),
        serialize.bind({ values: [] }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
      ]);
      return rowsOf<R>(messages, pg.parsers);
    }
    const statement = await statementFor(text);
    try {
      const messages = await send([
        serialize.bind({
          statement: statement.name,
          values: serialized(pg, params, statement.oids),
        }),
        serialize.describe({ type: 'P' }),
        serialize.execute({}),
      ]);
      return rowsOf<R>(messages, pg.parsers);
    } catch (error) {
      if ((error as { code?: unknown })?.code !== IN_FAILED_TRANSACTION)
        prepared.forget(text, statement.name);
      throw error;
    }
  }

  async function run<R>(text: string, params: readonly unknown[], again = false): Promise<R[]> {
    if (closed) throw new Error('Transaction is closed');
    const first = pending !== null;
    const kept = params.length > 0 && prepared.get(text) !== undefined;
    const setupKept = setupStatement?.kept === true;
    try {
      return await execute<R>(text, params);
    } catch (error) {
      const code = (error as { code?: unknown })?.code;
      if (
        first &&
        !again &&
        (kept || setupKept) &&
        typeof code === 'string' &&
        OUTDATED_STATEMENT.has(code)
      ) {
        // A statement kept from before a schema change (or deallocated by someone else) failed
        // in the transaction's first batch: nothing of the caller's has run, so the transaction
        // begins again with both prepared afresh, as unnamed statements would have been.
        if (setup && setupStatement?.kept) prepared.forget(setup.text, setupStatement.name);
        await call([serialize.query('ROLLBACK')]);
        pending = opening();
        return run<R>(text, params, true);
      }
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
