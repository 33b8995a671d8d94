import { ApiError } from './errors.ts';
import type { Accepted, Preferences } from './negotiate.ts';
import { type Params, type ReadNode, selectSql } from './sql.ts';
import type { Tx } from './transaction.ts';

// Runs a planned read (a table, a function's result, or the rows a mutation returned) and
// shapes it as PostgREST does: a JSON array, one object, or CSV, plus the counts behind
// Content-Range.

export interface Rows {
  body: string;
  rows: number;
  total: number | null;
  /** For a write's representation: how many of the rows it inserted. */
  inserted?: number;
}

export type Shape = 'rows' | 'scalar' | 'scalar-set' | 'single-composite';

function bodyExpression(accepted: Accepted, shape: Shape): string {
  if (accepted.media === 'csv') {
    return `coalesce((select string_agg(k, ',') from (select json_object_keys(row_to_json(h)) as k from (select * from pgrst_rows limit 1) as h) as ks), '')
      || E'\\n' || coalesce(string_agg(substr(_t::text, 2, length(_t::text) - 2), E'\\n'), '')`;
  }
  const strip = (sql: string) => (accepted.stripNulls ? `json_strip_nulls(${sql})` : sql);
  switch (shape) {
    case 'scalar':
      return `coalesce(json_agg(_t.pgrst_scalar)->0, 'null')`;
    case 'scalar-set':
      return `coalesce(json_agg(_t.pgrst_scalar), '[]')`;
    case 'single-composite':
      return `coalesce(${strip('json_agg(_t)')}->0, 'null')`;
    default:
      return `coalesce(${strip('json_agg(_t)')}, '[]')`;
  }
}

interface ReadOptions {
  accepted: Accepted;
  count: Preferences['count'];
  maxRows: number | null;
  shape?: Shape;
  /** FROM target replacing the root's table (a CTE or a function call). */
  from?: string;
  /** SQL put before the final select, e.g. a data-modifying CTE. */
  prefix?: string;
  /** A scalar SQL expression for Rows.inserted, evaluated beside the body. */
  inserted?: string;
}

async function plannedRows(tx: Tx, sql: string, params: Params): Promise<number> {
  const { rows } = await tx.query<{ 'QUERY PLAN': unknown }>(
    `explain (format json) ${sql}`,
    params.values,
  );
  const raw = rows[0]?.['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {
    Plan?: { 'Plan Rows'?: number };
  }[];
  return Math.round(plan[0]?.Plan?.['Plan Rows'] ?? 0);
}

export async function readRows(
  tx: Tx,
  root: ReadNode,
  params: Params,
  options: ReadOptions,
): Promise<Rows> {
  const fromOption = options.from ? { from: options.from } : {};
  const shape = options.shape ?? 'rows';

  let total: number | null = null;
  if (options.count) {
    const countParams = params.fork();
    const countSql = selectSql(root, countParams, { ...fromOption, countOnly: true });
    const prefix = options.prefix ? `${options.prefix} ` : '';
    if (options.count === 'exact' || options.count === 'estimated') {
      const cap =
        options.count === 'estimated' && options.maxRows !== null
          ? ` limit ${options.maxRows + 1}`
          : '';
      const { rows } = await tx.query<{ total: number }>(
        `${prefix}select count(*)::int as total from (${countSql}${cap}) as pgrst_count`,
        countParams.values,
      );
      total = rows[0]?.total ?? 0;
      if (options.count === 'estimated' && options.maxRows !== null && total > options.maxRows) {
        total = Math.max(total, await plannedRows(tx, `${prefix}${countSql}`, countParams));
      }
    } else {
      total = await plannedRows(tx, `${prefix}${countSql}`, countParams);
    }
  }

  if (options.maxRows !== null && (root.limit === null || root.limit > options.maxRows)) {
    root.limit = options.maxRows;
  }
  const mainParams = params.fork();
  const sql = selectSql(root, mainParams, fromOption);
  const prefix = options.prefix ? `${options.prefix}, ` : 'with ';
  const { rows } = await tx.query<{ body: string; n: number; inserted?: number }>(
    `${prefix}pgrst_rows as (${sql})
     select (${bodyExpression(options.accepted, shape)})::text as body, count(*)::int as n${
       options.inserted ? `, (${options.inserted})::int as inserted` : ''
     }
       from pgrst_rows as _t`,
    mainParams.values,
  );
  const row = rows[0] ?? { body: '[]', n: 0 };
  return {
    body: row.body,
    rows: row.n,
    total,
    ...(row.inserted === undefined ? {} : { inserted: row.inserted }),
  };
}

/** Content-Range and status for a read, or 416 when the offset is past the end. */
export function rangeOf(offset: number, rows: Rows): { status: number; contentRange: string } {
  const total = rows.total === null ? '*' : String(rows.total);
  const contentRange =
    rows.rows === 0 ? `*/${total}` : `${offset}-${offset + rows.rows - 1}/${total}`;
  if (rows.total === null) return { status: 200, contentRange };
  if (offset > rows.total) {
    throw new ApiError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      `An offset of ${offset} was requested, but there are only ${rows.total} rows.`,
      null,
      { 'Content-Range': `*/${rows.total}` },
    );
  }
  return { status: rows.rows < rows.total ? 206 : 200, contentRange };
}

/** The singular media type's check: exactly one row, else 406 PGRST116. */
export function singleBody(rows: Rows): string {
  if (rows.rows !== 1) {
    throw new ApiError(
      406,
      'PGRST116',
      'Cannot coerce the result to a single JSON object',
      `The result contains ${rows.rows} rows`,
    );
  }
  // json_agg prints an array of one element as "[<element>]".
  return rows.body.slice(1, -1);
}
