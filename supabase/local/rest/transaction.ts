import type { PGlite, Transaction } from '@electric-sql/pglite';
import { ident } from './sql.ts';

// One transaction per request, as PostgREST runs it: read-only for GET and HEAD, then a single
// set_config round that puts the schema search path, the role and the request.* settings in
// place, transaction-locally, so nothing outlives the request. PGlite's transaction() queues
// behind every other unit of work of the stack and always ends in COMMIT or ROLLBACK.

export type Tx = Pick<Transaction, 'query'>;

export interface RequestContext {
  role: string;
  claims: Record<string, unknown>;
  method: string;
  path: string;
  headers: Headers;
  searchPath: string[];
  /** The role's ALTER ROLE … SET values, applied before switching to it, as PostgREST does. */
  roleSettings: [string, string][];
  readOnly: boolean;
}

// Placeholders $1..$7 are fixed; the role's own settings follow as name/value pairs.
function setupSql(roleSettings: number): string {
  const own = Array.from(
    { length: roleSettings },
    (_, i) => `set_config($${8 + 2 * i}, $${9 + 2 * i}, true)`,
  );
  return `select ${[
    `set_config('search_path', $1, true)`,
    ...own,
    `set_config('role', $2, true)`,
    `set_config('request.jwt.claims', $3, true)`,
    `set_config('request.method', $4, true)`,
    `set_config('request.path', $5, true)`,
    `set_config('request.headers', $6, true)`,
    `set_config('request.cookies', $7, true)`,
  ].join(', ')}`;
}

function headersJson(headers: Headers): string {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name !== 'cookie') out[name.toLowerCase()] = value;
  });
  return JSON.stringify(out);
}

function cookiesJson(headers: Headers): string {
  const out: Record<string, string> = {};
  for (const part of (headers.get('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return JSON.stringify(out);
}

export function inRequestTransaction<T>(
  pg: Pick<PGlite, 'transaction'>,
  ctx: RequestContext,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return pg.transaction(async (tx) => {
    if (ctx.readOnly) await tx.query('set transaction read only');
    await tx.query(setupSql(ctx.roleSettings.length), [
      ctx.searchPath.map(ident).join(', '),
      ctx.role,
      JSON.stringify(ctx.claims),
      ctx.method,
      ctx.path,
      headersJson(ctx.headers),
      cookiesJson(ctx.headers),
      ...ctx.roleSettings.flat(),
    ]);
    return fn(tx);
  });
}
