import { type Relationship, resolveEmbed } from './embed.ts';
import { ApiError, columnNotFound, parseError } from './errors.ts';
import type { Field, Filter, LogicTree, OrderTerm, SelectItem } from './grammar.ts';
import type { Column, SchemaCache, Table } from './schema-cache.ts';

// Turns a parsed read request into one SQL statement: the resource, its embedded resources as
// correlated LATERAL subqueries aggregated to JSON, filters, order and ranges. Every identifier
// has been found in the schema cache and is quoted; every value is a bound parameter.

export class Params {
  constructor(readonly values: unknown[] = []) {}
  /** A copy to build one more statement on: each statement must use every value it is sent. */
  fork(): Params {
    return new Params([...this.values]);
  }
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export const ident = (name: string) => {
  // A NUL would end the statement text early; no catalog name contains one.
  if (name.includes('\u0000')) throw parseError('identifiers cannot contain NUL characters');
  return `"${name.replaceAll('"', '""')}"`;
};
export const tableRef = (table: Pick<Table, 'schema' | 'name'>) =>
  `${ident(table.schema)}.${ident(table.name)}`;

export interface ChildNode {
  /** The key in the output object: the alias, else the embedded resource's name. */
  key: string;
  node: ReadNode;
  relationship: Relationship;
  join: 'inner' | 'left';
  spread: boolean;
  lateral: string;
}

type Output =
  | { kind: 'star' }
  | { kind: 'column'; item: SelectItem & { kind: 'column' } }
  | { kind: 'child'; child: ChildNode };

export interface ReadNode {
  table: Table;
  alias: string;
  /** `rel(count)`: the embed is the number of related rows, [{"count": n}]. */
  countAggregate: boolean;
  outputs: Output[];
  children: Map<string, ChildNode>;
  where: LogicTree[];
  order: OrderTerm[];
  limit: number | null;
  offset: number | null;
}

export class Aliases {
  private n = 0;
  next(prefix: string) {
    return `pgrst_${prefix}${this.n++}`;
  }
}

export function buildTree(
  cache: SchemaCache,
  table: Table,
  select: SelectItem[],
  aliases: Aliases,
): ReadNode {
  const node: ReadNode = {
    table,
    alias: aliases.next('t'),
    countAggregate: false,
    outputs: [],
    children: new Map(),
    where: [],
    order: [],
    limit: null,
    offset: null,
  };
  for (const item of select) {
    if (item.kind === 'star') node.outputs.push({ kind: 'star' });
    else if (item.kind === 'column') {
      column(node, item.field.name);
      node.outputs.push({ kind: 'column', item });
    } else {
      const { target, relationship } = resolveEmbed(cache, table, item.name, item.hint);
      const key = item.alias ?? item.name;
      if (node.children.has(key)) {
        throw parseError(`'${key}' is embedded twice`, 'Give one of them an alias');
      }
      const legacyCount =
        item.select.length === 1 &&
        item.select[0]?.kind === 'column' &&
        item.select[0].field.name === 'count' &&
        item.select[0].field.path.length === 0 &&
        item.select[0].alias === null &&
        item.select[0].cast === null &&
        !target.columns.has('count');
      const childNode = buildTree(cache, target, legacyCount ? [] : item.select, aliases);
      childNode.countAggregate = legacyCount;
      if (item.spread && !relationship.toOne) {
        throw new ApiError(
          400,
          'PGRST119',
          `A spread operation on '${item.name}' is not possible`,
          `'${table.name}' and '${target.name}' do not form a many-to-one or one-to-one relationship`,
        );
      }
      const child: ChildNode = {
        key,
        spread: item.spread,
        node: childNode,
        relationship,
        join: item.join,
        lateral: aliases.next('l'),
      };
      node.children.set(key, child);
      node.outputs.push({ kind: 'child', child });
    }
  }
  return node;
}

export function column(node: Pick<ReadNode, 'table'>, name: string): Column {
  const found = node.table.columns.get(name);
  if (!found) throw columnNotFound(node.table.name, name);
  return found;
}

const notEmbedded = (key: string) =>
  new ApiError(
    400,
    'PGRST108',
    `'${key}' is not an embedded resource in this request`,
    null,
    `Verify that '${key}' is included in the 'select' query parameter.`,
  );

/** The node an `embed.path` parameter refers to, or PGRST108 as PostgREST answers. */
export function nodeAt(root: ReadNode, path: string[]): ReadNode {
  let node = root;
  for (const key of path) {
    const child = node.children.get(key);
    if (!child) throw notEmbedded(key);
    node = child.node;
  }
  return node;
}

function fieldSql(node: ReadNode, field: Field, params: Params): string {
  column(node, field.name);
  let sql = `${ident(node.alias)}.${ident(field.name)}`;
  for (const step of field.path) {
    sql += step.index
      ? `${step.arrow}${params.add(step.key)}::int`
      : `${step.arrow}${params.add(step.key)}::text`;
  }
  return sql;
}

const outputName = (field: Field) => field.path.at(-1)?.key ?? field.name;

// An array literal Postgres reads back as the listed values, whatever the element type.
export const arrayLiteral = (values: string[]) =>
  `{${values.map((v) => `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;

const SIMPLE: Record<string, string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'like',
  ilike: 'ilike',
  match: '~',
  imatch: '~*',
  cs: '@>',
  cd: '<@',
  ov: '&&',
  sl: '<<',
  sr: '>>',
  nxr: '&<',
  nxl: '&>',
  adj: '-|-',
};
const FTS: Record<string, string> = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
};
const IS_SQL: Record<string, string> = {
  null: 'is null',
  not_null: 'is not null',
  true: 'is true',
  false: 'is false',
  unknown: 'is unknown',
};

const stars = (value: string) => value.replaceAll('*', '%');

function filterSql(node: ReadNode, filter: Filter, params: Params): string {
  if (filter.embed.length > 0) {
    throw parseError('filters on embedded resources cannot be nested in a logic tree here');
  }
  const { operation: o, field } = filter;
  const wrap = (sql: string) => (o.negate ? `not (${sql})` : sql);

  // `embed=is.null` / `embed=not.is.null`: whether the embedded resource matched anything.
  const child = field.path.length === 0 ? node.children.get(field.name) : undefined;
  if (child && !node.table.columns.has(field.name)) {
    if (o.op !== 'is' || (o.value !== 'null' && o.value !== 'not_null')) {
      throw parseError(`failed to parse filter on embedded resource '${field.name}'`);
    }
    return wrap(`${ident(child.lateral)}.${ident('j')} ${IS_SQL[o.value as string]}`);
  }

  const lhs = fieldSql(node, field, params);
  const op = o.op;
  if (op === 'is') return wrap(`${lhs} ${IS_SQL[o.value as string]}`);
  if (op === 'isdistinct') return wrap(`${lhs} is distinct from ${params.add(o.value)}`);
  if (op === 'in') {
    const values = o.value as string[];
    return wrap(`${lhs} = any(${params.add(arrayLiteral(values))})`);
  }
  if (op in FTS) {
    const col = column(node, field.name);
    const config = o.config === null ? '' : `${params.add(o.config)}::regconfig, `;
    const vector =
      col.baseType === 'tsvector' && field.path.length === 0 ? lhs : `to_tsvector(${config}${lhs})`;
    return wrap(`${vector} @@ ${FTS[op]}(${config}${params.add(o.value)})`);
  }
  const sqlOp = SIMPLE[op] as string;
  const isLike = op === 'like' || op === 'ilike';
  if (o.quantifier) {
    const values = (o.value as string[]).map((v) => (isLike ? stars(v) : v));
    return wrap(`${lhs} ${sqlOp} ${o.quantifier}(${params.add(arrayLiteral(values))})`);
  }
  const value = isLike ? stars(o.value as string) : (o.value as string);
  return wrap(`${lhs} ${sqlOp} ${params.add(value)}`);
}

export function treeSql(node: ReadNode, tree: LogicTree, params: Params): string {
  if (tree.kind === 'filter') return filterSql(node, tree.filter, params);
  const parts = tree.children.map((c) => treeSql(node, c, params));
  const joined =
    parts.length === 0 ? 'true' : `(${parts.join(tree.op === 'and' ? ' and ' : ' or ')})`;
  return tree.negate ? `not ${joined}` : joined;
}

function orderSql(node: ReadNode, params: Params): string {
  if (node.order.length === 0) return '';
  const terms = node.order.map((t) => {
    const dir = t.direction ? ` ${t.direction}` : '';
    const nulls = t.nulls ? ` nulls ${t.nulls}` : '';
    return `${t.relation ? relatedOrderSql(node, t.relation, t.field, params) : fieldSql(node, t.field, params)}${dir}${nulls}`;
  });
  return ` order by ${terms.join(', ')}`;
}

/** `order=rel(col)`: the related row's column, read by a scalar subquery (to-one only). */
function relatedOrderSql(node: ReadNode, relation: string, field: Field, params: Params): string {
  const child = node.children.get(relation);
  if (!child) throw notEmbedded(relation);
  if (!child.relationship.toOne) {
    throw new ApiError(
      400,
      'PGRST118',
      `A related order on '${relation}' is not possible`,
      `'${node.table.name}' and '${child.node.table.name}' do not form a many-to-one or one-to-one relationship`,
    );
  }
  const value = fieldSql(child.node, field, params);
  return `(select ${value} from ${tableRef(child.node.table)} as ${ident(child.node.alias)} where ${joinCondition(child, node.alias)})`;
}

function joinCondition(child: ChildNode, parentAlias: string): string {
  const c = ident(child.node.alias);
  const p = ident(parentAlias);
  const r = child.relationship;
  const pairs = (left: string, lcols: string[], right: string, rcols: string[]) =>
    lcols.map((col, i) => `${left}.${ident(col)} = ${right}.${ident(rcols[i] as string)}`);
  if (r.kind === 'to-parent') {
    return pairs(c, r.fk.refColumns, p, r.fk.columns).join(' and ');
  }
  if (r.kind === 'to-children') {
    return pairs(c, r.fk.columns, p, r.fk.refColumns).join(' and ');
  }
  const j = ident(`${child.node.alias}_j`);
  const conditions = [
    ...pairs(j, r.toChild.columns, c, r.toChild.refColumns),
    ...pairs(j, r.toParent.columns, p, r.toParent.refColumns),
  ];
  return `exists (select 1 from ${tableRef(r.junction)} as ${j} where ${conditions.join(' and ')})`;
}

export interface RenderOptions {
  /** FROM target; defaults to the node's table. */
  from?: string;
  /** Only count rows: no output columns, no order, no range. */
  countOnly?: boolean;
  /** Extra conditions (the join to the parent). */
  conditions?: string[];
}

export function selectSql(node: ReadNode, params: Params, options: RenderOptions = {}): string {
  const a = ident(node.alias);
  const columns: string[] = [];
  const joins: string[] = [];
  for (const output of node.outputs) {
    if (output.kind === 'star') {
      if (!options.countOnly) columns.push(`${a}.*`);
      continue;
    }
    if (output.kind === 'column') {
      if (options.countOnly) continue;
      const { field, alias, cast } = output.item;
      const expr = fieldSql(node, field, params);
      const value = cast ? `cast(${expr} as ${cast})` : expr;
      columns.push(`${value} as ${ident(alias ?? outputName(field))}`);
      continue;
    }
    const child = output.child;
    const l = ident(child.lateral);
    const inner = selectSql(child.node, params, {
      conditions: [joinCondition(child, node.alias)],
    });
    if (child.spread) {
      // The related row's own columns sit beside the parent's: null when there is none.
      joins.push(
        `${child.join === 'inner' ? 'inner' : 'left'} join lateral (${inner}) as ${l} on true`,
      );
      if (!options.countOnly) columns.push(`${l}.*`);
    } else if (child.relationship.toOne) {
      joins.push(
        `${child.join === 'inner' ? 'inner' : 'left'} join lateral (select row_to_json(${ident('c')}.*) as ${ident('j')} from (${inner}) as ${ident('c')}) as ${l} on true`,
      );
      if (!options.countOnly) columns.push(`${l}.${ident('j')} as ${ident(child.key)}`);
    } else {
      joins.push(
        `${child.join === 'inner' ? 'inner' : 'left'} join lateral (select json_agg(${ident('c')}) as ${ident('j')} from (${inner}) as ${ident('c')}) as ${l} on ${child.join === 'inner' ? `${l}.${ident('j')} is not null` : 'true'}`,
      );
      if (!options.countOnly) {
        columns.push(`coalesce(${l}.${ident('j')}, '[]'::json) as ${ident(child.key)}`);
      }
    }
  }
  const conditions = [
    ...node.where.map((tree) => treeSql(node, tree, params)),
    ...(options.conditions ?? []),
  ];
  const from = `${options.from ?? tableRef(node.table)} as ${a}`;
  if (node.countAggregate && !options.countOnly) {
    const where = conditions.length ? ` where ${conditions.join(' and ')}` : '';
    return `select count(*) as ${ident('count')} from ${from}${joins.length ? ` ${joins.join(' ')}` : ''}${where}`;
  }
  let sql = `select ${options.countOnly ? '1' : columns.join(', ')} from ${from}`;
  if (joins.length) sql += ` ${joins.join(' ')}`;
  if (conditions.length) sql += ` where ${conditions.join(' and ')}`;
  if (options.countOnly) return sql;
  sql += orderSql(node, params);
  if (node.limit !== null) sql += ` limit ${params.add(node.limit)}::bigint`;
  if (node.offset !== null && node.offset > 0) sql += ` offset ${params.add(node.offset)}::bigint`;
  return sql;
}
