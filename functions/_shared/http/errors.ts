import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** Every error a Parley function returns has this shape, whatever went wrong. */
export type ErrorBody = { error: { code: string; message: string } };

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
) {
  return c.json<ErrorBody>({ error: { code, message } }, status);
}

/** For app.notFound: unknown routes answer in the same JSON shape as everything else. */
export function notFound(c: Context) {
  return errorResponse(
    c,
    404,
    'not_found',
    `No route for ${c.req.method} ${new URL(c.req.url).pathname}`,
  );
}

/**
 * For app.onError: known errors keep their status; anything else is logged and answered with a
 * generic 500 that reveals nothing of the internals.
 */
export function onError(log: (message: string, error: unknown) => void = console.error) {
  return (error: Error, c: Context) => {
    if (error instanceof HttpError)
      return errorResponse(c, error.status, error.code, error.message);
    log('unhandled error', loggable(error));
    return errorResponse(c, 500, 'internal_error', 'Something went wrong on our side.');
  };
}

/**
 * What of an error may go to the logs. A Postgres error carries the statement's parameters (a
 * visitor's message, an identity) and often values in its message and detail too; only its code
 * and which statement failed are kept.
 */
export function loggable(error: unknown): unknown {
  const e = error as { code?: unknown; query?: unknown; severity?: unknown } | null;
  if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return error;
  if (!('severity' in e) && !('query' in e)) return error;
  return { name: 'PostgresError', code: e.code, statement: statementName(e.query) };
}

/** "insert into public.messages", "select … from public.tenants": enough to find it, no values. */
function statementName(query: unknown): string | undefined {
  if (typeof query !== 'string') return undefined;
  const sql = query.replace(/\s+/g, ' ').trim().toLowerCase();
  const write = /^(?:with .*?\) )?(insert into|update|delete from) ([\w."]+)/.exec(sql);
  if (write) return `${write[1]} ${write[2]}`;
  const read = /^(select|with)\b.*? from ([\w."]+)/.exec(sql);
  if (read) return `${read[1]} … from ${read[2]}`;
  return /^\w+/.exec(sql)?.[0];
}
