import { z } from 'zod';
import { ApiError, bodyError } from './errors.ts';
import type { Preferences } from './negotiate.ts';
import type { Column, Table } from './schema-cache.ts';
import { ident, type Params, type ReadNode, tableRef, treeSql } from './sql.ts';

// The data-modifying statement of a POST, PATCH or DELETE, written as PostgREST writes it: the
// JSON body is turned into typed rows by json_to_recordset (so Postgres does every conversion),
// filters become the WHERE clause, and RETURNING gives back only what the response needs.

const row = z.record(z.string(), z.unknown());
export const payloadSchema = z.union([row, z.array(row)]);
export type Payload = z.infer<typeof payloadSchema>;

export async function readPayload(request: Request): Promise<Payload> {
  const text = await request.text();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bodyError('Empty or invalid json');
  }
  const parsed = payloadSchema.safeParse(raw);
  if (!parsed.success)
    throw bodyError('Empty or invalid json', 'Expected a JSON object or an array of objects');
  return parsed.data;
}

/** The columns the payload writes: `columns=` when given, else the keys of the body. */
export function payloadColumns(table: Table, payload: Payload, columns: string[] | null): Column[] {
  const rows = Array.isArray(payload) ? payload : [payload];
  let names: string[];
  if (columns) {
    names = columns;
  } else {
    names = Object.keys(rows[0] ?? {});
    if (Array.isArray(payload)) {
      const key = [...names].sort().join('\u0000');
      if (rows.some((r) => Object.keys(r).sort().join('\u0000') !== key)) {
        throw bodyError('All object keys must match');
      }
    }
  }
  return names.map((name) => {
    const column = table.columns.get(name);
    if (!column) {
      throw new ApiError(
        400,
        'PGRST204',
        `Could not find the '${name}' column of '${table.name}' in the schema cache`,
      );
    }
    return column;
  });
}

/** json_to_recordset over the body (with defaults merged in for missing=default). */
function recordsetSql(columns: Column[], params: Params, body: string, applyDefaults: boolean) {
  const definition = columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
  const withDefaults = applyDefaults ? columns.filter((c) => c.defaultExpr !== null) : [];
  if (withDefaults.length === 0) {
    return `json_to_recordset(${params.add(body)}::json) as pgrst_body(${definition})`;
  }
  const defaults = withDefaults
    .map((c) => `${params.add(c.name)}::text, ${c.defaultExpr}`)
    .join(', ');
  return `jsonb_to_recordset((select jsonb_agg(jsonb_build_object(${defaults}) || pgrst_elem)
      from jsonb_array_elements(${params.add(body)}::jsonb) as pgrst_elem)) as pgrst_body(${definition})`;
}

/** What a write returns: its rows (flagged when an upsert may have only updated), keys, or a count. */
export type Returning = 'all' | 'all-flagged' | 'keys' | 'count';

/** The flag a representation of an upsert carries per row: inserted, rather than updated. */
export const INSERTED_FLAG = 'pgrst_inserted';

function returningSql(table: Table, alias: string, returning: Returning): string {
  // A row an upsert inserted has no deleting transaction yet; one it updated does.
  if (returning === 'all-flagged') {
    return `returning ${ident(alias)}.*, (${ident(alias)}.xmax = 0) as ${ident(INSERTED_FLAG)}`;
  }
  if (returning === 'all') return `returning ${ident(alias)}.*`;
  if (returning === 'keys' && table.primaryKey.length > 0) {
    return `returning ${table.primaryKey.map((k) => `${ident(alias)}.${ident(k)}`).join(', ')}`;
  }
  return 'returning 1';
}

export function insertSql(
  table: Table,
  alias: string,
  payload: Payload,
  columns: Column[],
  prefs: Preferences,
  onConflict: string[] | null,
  params: Params,
  returning: Returning,
): string {
  const rows = Array.isArray(payload) ? payload : [payload];
  const target = `${tableRef(table)} as ${ident(alias)}`;
  let sql: string;
  if (columns.length === 0) {
    // `{}` or `[{}, {}]`: one row of defaults per object.
    sql = `insert into ${target} select from json_array_elements(${params.add(JSON.stringify(rows))}::json)`;
  } else {
    const names = columns.map((c) => ident(c.name)).join(', ');
    const source = recordsetSql(columns, params, JSON.stringify(rows), prefs.missing === 'default');
    sql = `insert into ${target} (${names}) select ${columns.map((c) => `pgrst_body.${ident(c.name)}`).join(', ')} from ${source}`;
  }
  if (prefs.resolution) {
    const keys = onConflict ?? table.primaryKey;
    for (const key of keys) {
      if (!table.columns.has(key)) {
        throw new ApiError(400, '42703', `column ${table.name}.${key} does not exist`);
      }
    }
    if (keys.length === 0) {
      throw new ApiError(
        400,
        '42P10',
        'there is no unique or exclusion constraint matching the ON CONFLICT specification',
      );
    }
    const conflict = `on conflict (${keys.map(ident).join(', ')})`;
    if (prefs.resolution === 'ignore-duplicates' || columns.length === 0) {
      sql += ` ${conflict} do nothing`;
    } else {
      sql += ` ${conflict} do update set ${columns.map((c) => `${ident(c.name)} = excluded.${ident(c.name)}`).join(', ')}`;
    }
  }
  return `${sql} ${returningSql(table, alias, returning)}`;
}

function whereSql(node: ReadNode, params: Params, verb: 'UPDATE' | 'DELETE'): string {
  const conditions = node.where.map((tree) => treeSql(node, tree, params));
  // Supabase loads safeupdate for the API: a bulk write without a filter is refused.
  if (conditions.length === 0) {
    throw new ApiError(400, '21000', `${verb} requires a WHERE clause`);
  }
  return conditions.join(' and ');
}

export function updateSql(
  node: ReadNode,
  payload: Payload,
  columns: Column[],
  prefs: Preferences,
  params: Params,
  returning: Returning,
): string {
  const where = whereSql(node, params, 'UPDATE');
  const target = `${tableRef(node.table)} as ${ident(node.alias)}`;
  if (columns.length === 0) {
    // Nothing to set: PostgREST answers as if no row matched.
    return `select ${ident(node.alias)}.* from ${target} where false`;
  }
  const rows = Array.isArray(payload) ? payload : [payload];
  const source = recordsetSql(
    columns,
    params,
    JSON.stringify(rows.slice(0, 1)),
    prefs.missing === 'default',
  );
  const assignments = columns
    .map((c) => `${ident(c.name)} = pgrst_body.${ident(c.name)}`)
    .join(', ');
  return `update ${target} set ${assignments} from (select * from ${source}) as pgrst_body where ${where} ${returningSql(node.table, node.alias, returning)}`;
}

export function deleteSql(node: ReadNode, params: Params, returning: Returning): string {
  const where = whereSql(node, params, 'DELETE');
  return `delete from ${tableRef(node.table)} as ${ident(node.alias)} where ${where} ${returningSql(node.table, node.alias, returning)}`;
}
