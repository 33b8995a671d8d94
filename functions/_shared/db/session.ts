import {
  type Db,
  DbRoleError,
  type JwtClaims,
  type RequestInfo,
  type Sql,
  USER_ROLES,
  type UserRole,
} from './port.ts';

/** The statement that opens every transaction: the role, the claims and the request. */
export interface TransactionSetup {
  text: string;
  params: readonly string[];
}

/**
 * What an adapter supplies: setup then fn inside one transaction, committed on success, rolled
 * back on throw. An adapter may send setup together with the first statement fn sends.
 */
export interface Transactor {
  transaction<T>(fn: (sql: Sql) => Promise<T>, setup?: TransactionSetup): Promise<T>;
  close(): Promise<void>;
}

// All four settings are written in every transaction, transaction-locally, so nothing from a
// previous unit of work on the same connection can show through.
const SETUP = `select set_config('role', $1, true),
  set_config('request.jwt.claims', $2, true),
  set_config('request.method', $3, true),
  set_config('request.path', $4, true)`;

const isUserRole = (role: unknown): role is UserRole =>
  (USER_ROLES as readonly unknown[]).includes(role);

/** Builds the PostgREST-style role/claims session on top of an adapter's transactions. */
export function sessionDb(t: Transactor): Db {
  const run = <T>(
    role: string,
    claims: JwtClaims,
    fn: (sql: Sql) => Promise<T>,
    request: RequestInfo | undefined,
  ): Promise<T> =>
    t.transaction((sql) => fn(refuseUndefined(sql)), {
      text: SETUP,
      params: [role, JSON.stringify(claims), request?.method ?? '', request?.path ?? ''],
    });

  return {
    asUser(claims, fn, request) {
      const role = claims?.role;
      if (!isUserRole(role)) return Promise.reject(new DbRoleError(role));
      return run(role, claims, fn, request);
    },
    asService: (fn, request) => run('service_role', { role: 'service_role' }, fn, request),
    close: () => t.close(),
  };
}

// Adapters disagree on undefined (one sends NULL, one throws), and it is nearly always a bug.
function refuseUndefined(sql: Sql): Sql {
  return {
    query(text, params = []) {
      const i = params.indexOf(undefined);
      if (i >= 0) return Promise.reject(new TypeError(`SQL parameter $${i + 1} is undefined`));
      return sql.query(text, params);
    },
  };
}
