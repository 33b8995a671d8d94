import { ApiError } from './errors.ts';
import type { Shape } from './read.ts';
import type { Column, RoutineDef, SchemaCache, Table } from './schema-cache.ts';
import { qualified } from './schema-cache.ts';
import { ident, type Params, tableRef } from './sql.ts';

// /rpc/<fn>: which overload a call means (by its argument names, or one unnamed json/jsonb
// parameter taking the whole body), and the FROM item that calls it with the arguments typed by
// json_to_record, so the result can be filtered, ordered and selected like a table.

const IN_MODES = new Set(['i', 'b', 'v']);
const OUT_MODES = new Set(['o', 'b', 't']);

export const inParams = (r: RoutineDef) => r.params.filter((p) => IN_MODES.has(p.mode));

const isJsonType = (type: string) => type === 'json' || type === 'jsonb';

export interface Call {
  routine: RoutineDef;
  /** The whole body goes to the single unnamed json/jsonb parameter. */
  wholeBody: boolean;
}

export function findRoutines(cache: SchemaCache, schema: string, name: string): RoutineDef[] {
  return cache.routines.get(qualified(schema, name)) ?? [];
}

/** Picks the overload for these argument names, or 404 PGRST202 / 300 PGRST203. */
export function chooseRoutine(
  candidates: RoutineDef[],
  schema: string,
  name: string,
  argNames: string[],
  bodyIsObject: boolean,
): Call {
  const matching = candidates.filter((r) => {
    const params = inParams(r);
    if (params.some((p) => p.name === '')) return false;
    const names = params.map((p) => p.name);
    const required = names.slice(0, params.length - r.defaults);
    return argNames.every((a) => names.includes(a)) && required.every((n) => argNames.includes(n));
  });
  if (matching.length === 1) return { routine: matching[0] as RoutineDef, wholeBody: false };
  if (matching.length > 1) {
    // The overload naming the most of the given arguments is the one meant.
    const best = [...matching].sort((a, b) => inParams(a).length - inParams(b).length);
    const exact = best.filter((r) => inParams(r).length === argNames.length);
    if (exact.length === 1) return { routine: exact[0] as RoutineDef, wholeBody: false };
    throw new ApiError(
      300,
      'PGRST203',
      `Could not choose the best candidate function between: ${matching
        .map(
          (r) =>
            `${r.schema}.${r.name}(${inParams(r)
              .map((p) => `${p.name} => ${p.type}`)
              .join(', ')})`,
        )
        .join(', ')}`,
      null,
      'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    );
  }
  const single = candidates.find((r) => {
    const params = inParams(r);
    return params.length === 1 && params[0]?.name === '' && isJsonType(params[0].type);
  });
  if (single && bodyIsObject) return { routine: single, wholeBody: true };
  const list = [...argNames].sort().join(', ');
  throw new ApiError(
    404,
    'PGRST202',
    `Could not find the function ${schema}.${name}${argNames.length ? `(${list})` : ' without parameters'} in the schema cache`,
    `Searched for the function ${schema}.${name}${argNames.length ? ` with parameters ${list}` : ' without parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
    null,
  );
}

export function shapeOf(routine: RoutineDef): Shape {
  if (routine.returnsComposite) return routine.returnsSet ? 'rows' : 'single-composite';
  return routine.returnsSet ? 'scalar-set' : 'scalar';
}

/** The table a result is read as: the returned table, or one made of the OUT columns. */
export function resultTable(cache: SchemaCache, routine: RoutineDef): Table {
  if (routine.returnTable) {
    const table = cache.tables.get(qualified(routine.returnTable.schema, routine.returnTable.name));
    if (table) return table;
  }
  const columns = new Map<string, Column>();
  const outs = routine.params.filter((p) => OUT_MODES.has(p.mode));
  const named = routine.returnsComposite
    ? outs
    : [{ name: 'pgrst_scalar', type: routine.returnType }];
  named.forEach((p, i) => {
    columns.set(p.name, {
      name: p.name,
      type: p.type,
      baseType: p.type,
      nullable: true,
      defaultExpr: null,
      generated: false,
      identity: false,
      comment: null,
      enumValues: null,
      maxLength: null,
      position: i + 1,
    });
  });
  return {
    schema: routine.schema,
    name: routine.name,
    kind: 'table',
    writable: { insert: false, update: false, delete: false },
    comment: null,
    columns,
    primaryKey: [],
    uniqueKeys: [],
  };
}

/** A subquery that calls the function once with the given arguments. */
export function callSql(call: Call, args: unknown, params: Params): string {
  const { routine } = call;
  const fn = tableRef(routine);
  const scalar = !routine.returnsComposite;
  const as = scalar ? 'pgrst_call(pgrst_scalar)' : 'pgrst_call';
  if (call.wholeBody) {
    const type = inParams(routine)[0]?.type ?? 'json';
    return `(select pgrst_call.* from ${fn}(${params.add(JSON.stringify(args))}::${type}) as ${as})`;
  }
  const given = Object.keys((args ?? {}) as Record<string, unknown>);
  const used = inParams(routine).filter((p) => given.includes(p.name));
  if (used.length === 0) return `(select pgrst_call.* from ${fn}() as ${as})`;
  const definition = used.map((p) => `${ident(p.name)} ${p.type}`).join(', ');
  const named = used
    .map(
      (p) => `${p.mode === 'v' ? 'variadic ' : ''}${ident(p.name)} := pgrst_args.${ident(p.name)}`,
    )
    .join(', ');
  return `(select pgrst_call.* from json_to_record(${params.add(JSON.stringify(args))}::json) as pgrst_args(${definition}), lateral ${fn}(${named}) as ${as})`;
}
