import type { PGlite } from '@electric-sql/pglite';
import type { Caller } from './auth.ts';
import type { ApiConfig } from './config.ts';
import { ApiError } from './errors.ts';
import {
  type Accepted,
  appliedPreferences,
  CONTENT_TYPES,
  negotiate,
  type Preferences,
  parsePrefer,
  parseRange,
  type StrictPreferences,
} from './negotiate.ts';
import { openApiDocument } from './openapi.ts';
import { attachQuery, parseQuery } from './query.ts';
import { type Rows, rangeOf, readRows, singleBody } from './read.ts';
import { callSql, chooseRoutine, findRoutines, inParams, resultTable, shapeOf } from './rpc.ts';
import { qualified, type SchemaCache, type Table } from './schema-cache.ts';
import { Aliases, buildTree, ident, Params } from './sql.ts';
import { inRequestTransaction, type Tx } from './transaction.ts';
import {
  deleteSql,
  INSERTED_FLAG,
  insertSql,
  type Payload,
  payloadColumns,
  type Returning,
  readPayload,
  updateSql,
} from './write.ts';

// One request, start to finish: the resource and schema it names, the media type and
// preferences it asks for, then the read, write or call in a single transaction as the caller.

export interface HandlerContext {
  pg: Pick<PGlite, 'transaction'>;
  cache: SchemaCache;
  config: ApiConfig;
  caller: Caller;
  publicUrl: string;
}

/** The schema a request works in: Accept-Profile / Content-Profile, else the first exposed one. */
function profile(request: Request, config: ApiConfig): string {
  const readLike = request.method === 'GET' || request.method === 'HEAD';
  const header = request.headers.get(readLike ? 'accept-profile' : 'content-profile');
  const schema = header ?? config.schemas[0] ?? 'public';
  if (!config.schemas.includes(schema)) {
    throw new ApiError(
      406,
      'PGRST106',
      `Invalid schema: ${schema}`,
      null,
      `Only the following schemas are exposed: ${config.schemas.join(', ')}`,
    );
  }
  return schema;
}

function respond(
  status: number,
  body: string | null,
  headers: Record<string, string>,
  head: boolean,
): Response {
  return new Response(head || body === null ? null : body, { status, headers });
}

/** A path segment as a name; malformed percent-encoding names nothing. */
function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(404, 'PGRST125', 'Invalid path specified in request URL');
  }
}

function findTable(cache: SchemaCache, schema: string, name: string): Table {
  const table = cache.tables.get(qualified(schema, name));
  if (!table) {
    throw new ApiError(
      404,
      'PGRST205',
      `Could not find the table '${schema}.${name}' in the schema cache`,
    );
  }
  return table;
}

export async function handle(
  ctx: HandlerContext,
  request: Request,
  path: string,
): Promise<Response> {
  const url = new URL(request.url);
  const schema = profile(request, ctx.config);
  const method = request.method;
  const head = method === 'HEAD';
  const prefs = parsePrefer(request.headers);
  const searchPath = [schema, ...ctx.config.extraSearchPath.filter((s) => s !== schema)];
  const transaction = <T>(readOnly: boolean, fn: (tx: Tx) => Promise<T>) =>
    inRequestTransaction(
      ctx.pg,
      {
        role: ctx.caller.role,
        claims: ctx.caller.claims,
        method,
        // The gateway strips /rest/v1, so PostgREST sees the path below it.
        path: path === '' ? '/' : path,
        headers: request.headers,
        searchPath,
        roleSettings: ctx.cache.roleSettings.get(ctx.caller.role) ?? [],
        readOnly,
      },
      fn,
    );

  if (path === '' || path === '/') {
    if (method !== 'GET' && method !== 'HEAD')
      throw new ApiError(405, 'PGRST101', 'Only GET and HEAD are allowed here');
    negotiate(request.headers, { openapi: true });
    const document = await transaction(true, (tx) =>
      openApiDocument(tx, ctx.cache, schema, ctx.publicUrl),
    );
    return respond(200, JSON.stringify(document), { 'Content-Type': CONTENT_TYPES.openapi }, head);
  }

  const rpc = /^\/rpc\/([^/]+)\/?$/.exec(path);
  if (rpc)
    return callRoutine(ctx, request, url, schema, decodeName(rpc[1] as string), prefs, transaction);

  const resource = /^\/([^/]+)\/?$/.exec(path);
  if (!resource) throw new ApiError(404, 'PGRST125', `Invalid path specified in request URL`);
  const table = findTable(ctx.cache, schema, decodeName(resource[1] as string));

  switch (method) {
    case 'GET':
    case 'HEAD':
      return readTable(ctx, request, url, table, prefs, transaction);
    case 'POST':
    case 'PATCH':
    case 'DELETE':
      return writeTable(ctx, request, url, table, prefs, transaction);
    default:
      throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
  }
}

type Transaction = <T>(readOnly: boolean, fn: (tx: Tx) => Promise<T>) => Promise<T>;

function readHeaders(accepted: Accepted, range: { contentRange: string }, prefs: Preferences) {
  const headers: Record<string, string> = {
    'Content-Type': CONTENT_TYPES[accepted.media],
    'Content-Range': range.contentRange,
  };
  const applied = appliedPreferences({ ...prefs, return: null, resolution: null, missing: null });
  if (applied) headers['Preference-Applied'] = applied;
  return headers;
}

function shapeBody(accepted: Accepted, rows: Rows): string {
  return accepted.media === 'object' ? singleBody(rows) : rows.body;
}

/** The query string read against a table: its parts, and the tree of the resource and embeds. */
function planRead(cache: SchemaCache, url: URL, table: Table) {
  const query = parseQuery(url);
  const root = buildTree(cache, table, query.select, new Aliases());
  attachQuery(root, query);
  return { query, root };
}

async function readTable(
  ctx: HandlerContext,
  request: Request,
  url: URL,
  table: Table,
  prefs: Preferences,
  transaction: Transaction,
): Promise<Response> {
  const accepted = negotiate(request.headers);
  const { root } = planRead(ctx.cache, url, table);
  applyRangeHeader(request, root);
  const offset = root.offset ?? 0;
  const rows = await transaction(true, (tx) =>
    readRows(tx, root, new Params(), {
      accepted,
      count: prefs.count,
      maxRows: ctx.config.maxRows,
    }),
  );
  const range = rangeOf(offset, rows);
  const body = shapeBody(accepted, rows);
  return respond(
    range.status,
    body,
    readHeaders(accepted, range, prefs),
    request.method === 'HEAD',
  );
}

function applyRangeHeader(request: Request, root: { limit: number | null; offset: number | null }) {
  const range = parseRange(request.headers);
  if (!range) return;
  // Query-string limit/offset and the Range header narrow each other.
  const offset = Math.max(root.offset ?? 0, range.offset);
  const ends = [
    root.limit === null ? null : (root.offset ?? 0) + root.limit,
    range.limit === null ? null : range.offset + range.limit,
  ].filter((e): e is number => e !== null);
  root.offset = offset;
  root.limit = ends.length ? Math.max(0, Math.min(...ends) - offset) : null;
}

/** Prefer: handling=strict, max-affected=N — more rows than that undoes the whole write. */
function checkMaxAffected(prefs: StrictPreferences, affected: number) {
  if (prefs.maxAffected !== null && affected > prefs.maxAffected) {
    throw new ApiError(
      400,
      'PGRST124',
      'Query result exceeds max-affected preference constraint',
      `The query affects ${affected} rows`,
    );
  }
}

async function writeTable(
  ctx: HandlerContext,
  request: Request,
  url: URL,
  table: Table,
  prefs: Preferences & StrictPreferences,
  transaction: Transaction,
): Promise<Response> {
  const method = request.method;
  const verb = method === 'POST' ? 'insert' : method === 'PATCH' ? 'update' : 'delete';
  if (!table.writable[verb]) {
    // What Postgres itself answers for a view it cannot write through, as a 405 rather than a
    // server error: the request, not the server, is at fault.
    throw new ApiError(
      405,
      '55000',
      `cannot ${verb} ${table.kind === 'table' ? 'table' : 'view'} "${table.name}"`,
      'Views that do not select from a single table or view are not automatically updatable.',
      `To enable ${verb === 'insert' ? 'inserting into' : verb === 'update' ? 'updating' : 'deleting from'} the view, provide an INSTEAD OF ${verb.toUpperCase()} trigger or an unconditional ON ${verb.toUpperCase()} DO INSTEAD rule.`,
    );
  }
  const accepted = negotiate(request.headers);
  const { query, root } = planRead(ctx.cache, url, table);
  const representation = prefs.return === 'representation';
  const headersOnly = prefs.return === 'headers-only';
  const returning: Returning = representation ? 'all' : headersOnly ? 'keys' : 'count';
  // Only a merge-upsert's representation needs to know which rows were inserted (201 or 200).
  const flagged = representation && method === 'POST' && prefs.resolution === 'merge-duplicates';

  let payload: Payload = {};
  if (method !== 'DELETE') payload = await readPayload(request);

  const result = await transaction(false, async (tx) => {
    const params = new Params();
    let mutation: string;
    if (method === 'POST') {
      const columns = payloadColumns(table, payload, query.columns);
      mutation = insertSql(
        table,
        root.alias,
        payload,
        columns,
        prefs,
        query.onConflict,
        params,
        flagged ? 'all-flagged' : returning,
      );
    } else if (method === 'PATCH') {
      const columns = payloadColumns(
        table,
        Array.isArray(payload) ? (payload[0] ?? {}) : payload,
        query.columns,
      );
      mutation = updateSql(root, payload, columns, prefs, params, returning);
    } else {
      mutation = deleteSql(root, params, returning);
    }
    const prefix = `with pgrst_source as (${mutation})`;
    if (representation) {
      // The returned rows are read back through the select, embeds included.
      const shaped = { ...root, where: [], order: root.order, limit: null, offset: null };
      // With the inserted flag, read the table's own columns only.
      const columns = [...table.columns.values()]
        .sort((a, b) => a.position - b.position)
        .map((c) => ident(c.name))
        .join(', ');
      const rows = await readRows(tx, shaped, params, {
        accepted,
        count: null,
        maxRows: null,
        from: flagged ? `(select ${columns} from pgrst_source)` : 'pgrst_source',
        prefix,
        ...(flagged
          ? { inserted: `select count(*) from pgrst_source where ${ident(INSERTED_FLAG)}` }
          : {}),
      });
      if (accepted.media === 'object') singleBody(rows);
      checkMaxAffected(prefs, rows.rows);
      return { rows, location: null as string | null };
    }
    const { rows } = await tx.query<Record<string, unknown>>(
      `${prefix} select * from pgrst_source`,
      params.values,
    );
    if (accepted.media === 'object' && rows.length !== 1) {
      singleBody({ body: '', rows: rows.length, total: null });
    }
    checkMaxAffected(prefs, rows.length);
    let location: string | null = null;
    if (headersOnly && method === 'POST' && rows[0] && table.primaryKey.length > 0) {
      const first = rows[0];
      const filters = table.primaryKey.map((k) => {
        const v = first[k];
        return `${encodeURIComponent(k)}=${v === null || v === undefined ? 'is.null' : `eq.${encodeURIComponent(v instanceof Date ? v.toISOString() : String(v))}`}`;
      });
      location = `/${encodeURIComponent(table.name)}?${filters.join('&')}`;
    }
    return { rows: { body: '', rows: rows.length, total: rows.length } as Rows, location };
  });

  const n = result.rows.rows;
  const headers: Record<string, string> = {
    'Content-Range': method === 'PATCH' ? (n === 0 ? '*/0' : `0-${n - 1}/${n}`) : `*/${n}`,
  };
  const applied = appliedPreferences(prefs);
  if (applied) headers['Preference-Applied'] = applied;
  if (result.location) headers.Location = result.location;
  if (representation) {
    headers['Content-Type'] = CONTENT_TYPES[accepted.media];
    const body = shapeBody(accepted, result.rows);
    // PostgREST answers 200 when a merge-upsert only updated rows.
    const created =
      method === 'POST' &&
      !(prefs.resolution === 'merge-duplicates' && result.rows.inserted === 0 && n > 0);
    return respond(created ? 201 : 200, body, headers, false);
  }
  return respond(method === 'POST' ? 201 : 204, null, headers, false);
}

async function readArgs(
  request: Request,
  url: URL,
  names: Set<string>,
): Promise<{ args: unknown; keys: string[]; rest: URL }> {
  if (request.method === 'GET' || request.method === 'HEAD') {
    const args: Record<string, string> = {};
    const rest = new URL(url);
    for (const [key, value] of url.searchParams) {
      if (names.has(key)) {
        args[key] = value;
        rest.searchParams.delete(key);
      }
    }
    return { args, keys: Object.keys(args), rest };
  }
  const text = await request.text();
  let args: unknown = {};
  if (text.trim() !== '') {
    try {
      args = JSON.parse(text);
    } catch {
      throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
    }
  }
  const keys = args && typeof args === 'object' && !Array.isArray(args) ? Object.keys(args) : [];
  return { args, keys, rest: url };
}

async function callRoutine(
  ctx: HandlerContext,
  request: Request,
  url: URL,
  schema: string,
  name: string,
  prefs: Preferences,
  transaction: Transaction,
): Promise<Response> {
  const method = request.method;
  if (!['GET', 'HEAD', 'POST'].includes(method)) {
    throw new ApiError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
  }
  const accepted = negotiate(request.headers);
  const candidates = findRoutines(ctx.cache, schema, name);
  const names = new Set(candidates.flatMap((r) => inParams(r).map((p) => p.name)));
  const { args, keys, rest } = await readArgs(request, url, names);
  const bodyIsObject = method === 'POST' || keys.length === 0;
  const call = chooseRoutine(candidates, schema, name, keys, bodyIsObject);
  const { routine } = call;
  // Reads never write; a POST may, when the function says it is volatile.
  const readOnly = method !== 'POST' || routine.volatility !== 'v';

  if (routine.returnsVoid) {
    await transaction(readOnly, async (tx) => {
      const params = new Params();
      await tx.query(`select 1 from ${callSql(call, args, params)} as pgrst_void`, params.values);
    });
    return respond(204, null, {}, true);
  }

  const query = parseQuery(rest);
  const table = resultTable(ctx.cache, routine);
  const scalar = !routine.returnsComposite;
  const root = buildTree(
    ctx.cache,
    table,
    scalar ? [{ kind: 'star' }] : query.select,
    new Aliases(),
  );
  attachQuery(root, { ...query, select: [] });
  applyRangeHeader(request, root);
  const offset = root.offset ?? 0;
  const rows = await transaction(readOnly, async (tx) => {
    const params = new Params();
    const from = callSql(call, args, params);
    return readRows(tx, root, params, {
      accepted,
      count: prefs.count,
      maxRows: routine.returnsSet ? ctx.config.maxRows : null,
      shape: shapeOf(routine),
      from,
    });
  });
  const range = rangeOf(offset, rows);
  let body = rows.body;
  if (accepted.media === 'object') {
    body = routine.returnsSet || routine.returnsComposite ? singleBody(rows) : rows.body;
  }
  // postgrest-js asks for a head-only call with object arguments as POST + return=minimal.
  const bodiless = method === 'HEAD' || prefs.return === 'minimal';
  return respond(range.status, body, readHeaders(accepted, range, prefs), bodiless);
}
