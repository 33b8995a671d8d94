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
