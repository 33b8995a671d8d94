import { parseError } from './errors.ts';
import {
  type Filter,
  type LogicTree,
  type OrderTerm,
  parseFilter,
  parseLogic,
  parseNameList,
  parseNonNegative,
  parseOrder,
  parseSelect,
  type SelectItem,
} from './grammar.ts';
import { nodeAt, type ReadNode } from './sql.ts';

// Sorts the query string into PostgREST's parameter kinds: reserved names (select, columns,
// on_conflict), modifiers (order, limit, offset, and/or, each optionally scoped to an embedded
// resource as `embed.order`) and filters; then hangs each on the node of the read tree it
// belongs to.

export interface QueryParts {
  select: SelectItem[];
  filters: Filter[];
  logic: { embed: string[]; tree: LogicTree }[];
  order: { embed: string[]; terms: OrderTerm[] }[];
  limits: { embed: string[]; limit: number | null; offset: number | null }[];
  columns: string[] | null;
  onConflict: string[] | null;
  /** Parameters left for the caller (RPC arguments by GET). */
  rest: [string, string][];
}

const RESERVED = new Set(['select', 'columns', 'on_conflict']);

export function parseQuery(url: URL, isArgument: (key: string) => boolean = () => false) {
  const parts: QueryParts = {
    select: [{ kind: 'star' }],
    filters: [],
    logic: [],
    order: [],
    limits: [],
    columns: null,
    onConflict: null,
    rest: [],
  };
  const limitFor = (embed: string[]) => {
    const key = embed.join('.');
    let entry = parts.limits.find((l) => l.embed.join('.') === key);
    if (!entry) {
      entry = { embed, limit: null, offset: null };
      parts.limits.push(entry);
    }
    return entry;
  };
  for (const [key, value] of url.searchParams) {
    // The gateway's credential parameter never reaches PostgREST.
    if (key === 'apikey') continue;
    if (isArgument(key)) {
      parts.rest.push([key, value]);
      continue;
    }
    if (key === 'select') parts.select = parseSelect(value);
    else if (key === 'columns') parts.columns = parseNameList(value);
    else if (key === 'on_conflict') parts.onConflict = parseNameList(value);
    else if (RESERVED.has(key)) continue;
    else {
      const segments = key.split('.');
      const last = segments.at(-1) as string;
      const scope = segments.slice(0, -1);
      if (last === 'order') parts.order.push({ embed: scope, terms: parseOrder(value) });
      else if (last === 'limit') limitFor(scope).limit = parseNonNegative(value, 'limit');
      else if (last === 'offset') limitFor(scope).offset = parseNonNegative(value, 'offset');
      else if (last === 'or' || last === 'and') {
        const negate = scope.at(-1) === 'not';
        const embed = negate ? scope.slice(0, -1) : scope;
        parts.logic.push({ embed, tree: parseLogic(last, negate, value) });
      } else {
        if (value === '') throw parseError(`failed to parse filter (${key}=)`);
        parts.filters.push(parseFilter(key, value));
      }
    }
  }
  return parts;
}

/** Attaches filters, logic trees, order and ranges to the nodes they name. */
export function attachQuery(root: ReadNode, parts: QueryParts) {
  for (const filter of parts.filters) {
    nodeAt(root, filter.embed).where.push({ kind: 'filter', filter: { ...filter, embed: [] } });
  }
  for (const { embed, tree } of parts.logic) nodeAt(root, embed).where.push(tree);
  for (const { embed, terms } of parts.order) nodeAt(root, embed).order = terms;
  for (const { embed, limit, offset } of parts.limits) {
    const node = nodeAt(root, embed);
    node.limit = limit;
    node.offset = offset;
  }
}
