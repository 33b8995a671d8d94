import { type PGlite, protocol } from '@electric-sql/pglite';

// PGlite is one Postgres session, shared by the in-process services and the wire endpoint's
// client. Background work that answers nobody (the pg_cron and pg_net stand-ins) must neither
// slip into a transaction someone else has open nor let anyone slip into its own, and a job's
// command may itself contain BEGIN/COMMIT, CALL a procedure that commits, or be a VACUUM. So a
// unit of work holds both of PGlite's locks: the transaction lock, which in-process transactions
// hold throughout and the wire endpoint holds across a client's transaction
// (database-socket.ts), and the query lock, which every statement takes. Inside them
// pg.query/exec/transaction would deadlock, hence SQL text over the simple query protocol, which
// is also how pg_cron sends a job's command (libpq's PQsendQuery).

export interface Statement {
  /** The command tag ('SELECT 1', 'INSERT 0 1', 'VACUUM'), '' for an empty query string. */
  tag: string;
  /** The rows as text when the statement returned a row set, even an empty one; else null. */
  rows: (string | null)[][] | null;
}

/** The fields of an ErrorResponse. */
export interface ServerError {
  severity?: string;
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
  internalQuery?: string;
  where?: string;
}

export interface Outcome {
  /** Statements that completed, in order; on an error, the ones before it. */
  statements: Statement[];
  error: ServerError | null;
}

export interface IdleSession {
  /** Runs SQL text, possibly several statements (one implicit transaction unless it says otherwise). */
  run(sql: string): Promise<Outcome>;
  /** run() that throws on an error and returns the last statement's rows. */
  rows(sql: string): Promise<(string | null)[][]>;
  inTransaction(): boolean;
}

export class SqlError extends Error {
  override readonly name = 'SqlError';
  constructor(readonly error: ServerError) {
    super(error.message);
  }
}

const RETRY_MS = 5;

/** Runs fn alone on the session, once no transaction is open there. */
export async function whenIdle<T>(
  pg: PGlite,
  fn: (session: IdleSession) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const session = idleSession(pg);
  for (;;) {
    signal?.throwIfAborted();
    const done = await pg._runExclusiveTransaction(() =>
      pg.runExclusive(async () => (pg.isInTransaction() ? null : { value: await fn(session) })),
    );
    if (done) return done.value;
    // Only a wire client that bypasses database-socket.ts's locking gets here.
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

type Message = { name: string; text?: string; fields?: (string | null)[] } & Partial<ServerError>;

function idleSession(pg: PGlite): IdleSession {
  const run = async (sql: string): Promise<Outcome> => {
    // Not execProtocol: that also copies the raw output to the wire endpoint's last client.
    const messages = await pg.execProtocolStream(protocol.serialize.query(sql), {
      throwOnError: false,
    });
    const statements: Statement[] = [];
    let rows: (string | null)[][] | null = null;
    for (const m of messages as Message[]) {
      if (m.name === 'rowDescription') rows = [];
      else if (m.name === 'dataRow') rows?.push(m.fields ?? []);
      else if (m.name === 'commandComplete') {
        statements.push({ tag: m.text ?? '', rows });
        rows = null;
      } else if (m.name === 'emptyQuery') statements.push({ tag: '', rows: null });
      else if (m.name === 'error') {
        const { severity, code, message = '', detail, hint, internalQuery, where } = m;
        return {
          statements,
          error: { severity, code, message, detail, hint, internalQuery, where },
        };
      }
    }
    return { statements, error: null };
  };
  return {
    run,
    async rows(sql) {
      const outcome = await run(sql);
      if (outcome.error) throw new SqlError(outcome.error);
      return outcome.statements.at(-1)?.rows ?? [];
    },
    inTransaction: () => pg.isInTransaction(),
  };
}

/** A SQL literal (standard_conforming_strings is on, so only quotes need doubling). */
export function literal(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`not a SQL number: ${value}`);
    return String(value);
  }
  if (value.includes('\0')) throw new RangeError('Postgres text cannot hold a NUL character');
  return `'${value.replaceAll("'", "''")}'`;
}

export const identifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
