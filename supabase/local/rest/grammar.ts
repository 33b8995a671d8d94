import { ApiError, parseError } from './errors.ts';

// PostgREST's query-string grammar (select, filters, logic trees, order), parsed into plain
// data. Nothing here knows the schema: names are checked against the schema cache when the
// request is planned, and values only ever travel as bound parameters.

export interface JsonStep {
  arrow: '->' | '->>';
  key: string;
  /** A key that is an integer is an array index, as in PostgREST. */
  index: boolean;
}

export interface Field {
  name: string;
  path: JsonStep[];
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'column'; field: Field; alias: string | null; cast: string | null }
  | {
      kind: 'embed';
      /** `...rel(cols)`: the related row's columns are spread into the parent. */
      spread: boolean;
      name: string;
      alias: string | null;
      hint: string | null;
      join: 'inner' | 'left';
      select: SelectItem[];
    };

export const OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'match',
  'imatch',
  'in',
  'is',
  'isdistinct',
  'cs',
  'cd',
  'ov',
  'sl',
  'sr',
  'nxl',
  'nxr',
  'adj',
  'fts',
  'plfts',
  'phfts',
  'wfts',
] as const;
export type Operator = (typeof OPERATORS)[number];

const QUANTIFIABLE = new Set(['eq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);
const FTS = new Set(['fts', 'plfts', 'phfts', 'wfts']);
export const IS_VALUES = ['null', 'not_null', 'true', 'false', 'unknown'] as const;

export interface Operation {
  negate: boolean;
  op: Operator;
  quantifier: 'any' | 'all' | null;
  /** Text search configuration, for the fts operators. */
  config: string | null;
  /** A list for `in` and quantified operators, a single value otherwise. */
  value: string | string[];
}

export interface Filter {
  /** Embedded resources the filter belongs to (empty for the top level). */
  embed: string[];
  field: Field;
  operation: Operation;
}

export type LogicTree =
  | { kind: 'expr'; op: 'and' | 'or'; negate: boolean; children: LogicTree[] }
  | { kind: 'filter'; filter: Filter };

export interface OrderTerm {
  /** `rel(col)`: order by a column of an embedded to-one resource. */
  relation: string | null;
  field: Field;
  direction: 'asc' | 'desc' | null;
  nulls: 'first' | 'last' | null;
}

const IDENTIFIER_PART = /^[^.,:()!"]+$/;

/** `name->a->>b` (or `"quoted name"->…`) into a field. */
export function parseField(text: string): Field {
  const source = text.trim();
  let name: string;
  let rest: string;
  if (source.startsWith('"')) {
    const end = source.indexOf('"', 1);
    if (end < 0) throw parseError(`failed to parse field (${text})`);
    name = source.slice(1, end);
    rest = source.slice(end + 1);
  } else {
    const arrow = source.indexOf('->');
    name = arrow < 0 ? source : source.slice(0, arrow);
    rest = arrow < 0 ? '' : source.slice(arrow);
  }
  if (!name) throw parseError(`failed to parse field (${text})`);
  const path: JsonStep[] = [];
  const step = /^(->>|->)([^-]+(?:-(?!>)[^-]*)*)/;
  while (rest) {
    const m = step.exec(rest);
    if (!m?.[1] || m[2] === undefined) throw parseError(`failed to parse json path (${text})`);
    const key = m[2].replace(/^"(.*)"$/, '$1');
    path.push({ arrow: m[1] as JsonStep['arrow'], key, index: /^-?\d+$/.test(key) });
    rest = rest.slice(m[0].length);
  }
  return { name, path };
}

/** Splits on commas that are outside parentheses, braces and double quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      current += ch;
      if (ch === '\\' && i + 1 < text.length) current += text[++i];
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '(' || ch === '{') depth++;
    else if (ch === ')' || ch === '}') depth--;
    if (depth < 0) throw parseError(`unbalanced parentheses in (${text})`);
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0 || quoted) throw parseError(`unbalanced parentheses or quotes in (${text})`);
  parts.push(current);
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

// --- select ------------------------------------------------------------------------------------

const CAST = /^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?$/;

function parseSelectItem(raw: string, depth: number): SelectItem {
  const text = raw.trim();
  if (text === '*') return { kind: 'star' };
  if (text.startsWith('...')) {
    const inner = parseSelectItem(text.slice(3), depth);
    if (inner.kind !== 'embed' || inner.alias !== null) {
      throw parseError(`failed to parse select (${text})`, 'a spread takes an embedded resource');
    }
    return { ...inner, spread: true };
  }
  // alias: the part before a single colon that is not inside quotes, parentheses or a cast.
  let alias: string | null = null;
  let body = text;
  const aliasMatch = /^("(?:[^"\\]|\\.)*"|[^:("]+):(?!:)/.exec(text);
  if (aliasMatch?.[1] !== undefined) {
    alias = unquote(aliasMatch[1].trim());
    body = text.slice(aliasMatch[0].length).trim();
  }
  const paren = body.indexOf('(');
  if (paren >= 0 && !body.startsWith('"')) {
    if (!body.endsWith(')')) throw parseError(`failed to parse select (${text})`);
    const head = body.slice(0, paren);
    const inner = body.slice(paren + 1, -1);
    if ((head === 'count' && inner === '') || /\.(count|sum|avg|min|max)$/.test(head)) {
      throw new ApiError(400, 'PGRST123', 'Use of aggregate functions is not allowed');
    }
    const [name = '', ...modifiers] = head.split('!');
    if (!name || !IDENTIFIER_PART.test(name)) throw parseError(`failed to parse select (${text})`);
    let hint: string | null = null;
    let join: 'inner' | 'left' = 'left';
    for (const modifier of modifiers) {
      if (modifier === 'inner') join = 'inner';
      else if (modifier === 'left') join = 'left';
      else if (modifier && hint === null) hint = modifier;
      else throw parseError(`failed to parse select (${text})`);
    }
    return {
      kind: 'embed',
      spread: false,
      name,
      alias,
      hint,
      join,
      select: parseSelect(inner, depth + 1),
    };
  }
  let cast: string | null = null;
  const castAt = body.lastIndexOf('::');
  if (castAt > 0) {
    cast = body.slice(castAt + 2).trim();
    body = body.slice(0, castAt);
    if (!CAST.test(cast)) throw parseError(`invalid cast (${cast})`);
  }
  return { kind: 'column', field: parseField(body), alias, cast };
}

/** Deeper nesting than any real request needs would only exhaust Postgres' stack. */
export const MAX_DEPTH = 16;

function checkDepth(depth: number, what: string) {
  if (depth > MAX_DEPTH) throw parseError(`${what} nested deeper than ${MAX_DEPTH} levels`);
}

export function parseSelect(text: string, depth = 0): SelectItem[] {
  checkDepth(depth, 'select');
  if (text.trim() === '') return [];
  return splitTopLevel(text).map((item) => parseSelectItem(item, depth));
}

// --- filters -----------------------------------------------------------------------------------

function parseInList(text: string, whole: string): string[] {
  if (!text.startsWith('(') || !text.endsWith(')')) {
    throw parseError(`failed to parse filter (${whole})`);
  }
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  const values: string[] = [];
  let i = 0;
  while (i <= inner.length) {
    if (inner[i] === '"') {
      let value = '';
      i++;
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === '\\' && i + 1 < inner.length) i++;
        value += inner[i];
        i++;
      }
      if (inner[i] !== '"') throw parseError(`unterminated quote in (${whole})`);
      i++;
      values.push(value);
      if (i < inner.length && inner[i] !== ',')
        throw parseError(`failed to parse filter (${whole})`);
      i++;
    } else {
      const comma = inner.indexOf(',', i);
      const end = comma < 0 ? inner.length : comma;
      values.push(inner.slice(i, end));
      i = end + 1;
    }
  }
  return values;
}

/** `[not.]op[(any|all)|(config)].value`; inTree: values may be quoted (logic trees). */
export function parseOperation(text: string, inTree: boolean): Operation {
  let rest = text;
  let negate = false;
  if (rest.startsWith('not.')) {
    negate = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+)(?:\(([^)]*)\))?\./.exec(rest);
  const op = m?.[1] as Operator | undefined;
  if (!m || !op || !(OPERATORS as readonly string[]).includes(op)) {
    // PostgREST reads a bare value as a parse failure of the whole filter.
    throw parseError(`failed to parse filter (${text})`, 'unknown or missing operator');
  }
  let value = rest.slice(m[0].length);
  const modifier = m[2] ?? null;
  let quantifier: Operation['quantifier'] = null;
  let config: string | null = null;
  if (modifier !== null) {
    if (FTS.has(op)) {
      if (!/^[A-Za-z0-9_.]+$/.test(modifier)) throw parseError(`failed to parse filter (${text})`);
      config = modifier;
    } else if (QUANTIFIABLE.has(op) && (modifier === 'any' || modifier === 'all')) {
      quantifier = modifier;
    } else {
      throw parseError(`failed to parse filter (${text})`);
    }
  }
  if (op === 'in') return { negate, op, quantifier, config, value: parseInList(value, text) };
  if (quantifier) {
    if (!value.startsWith('{') || !value.endsWith('}')) {
      throw parseError(`failed to parse filter (${text})`, 'expected a list like {a,b}');
    }
    return { negate, op, quantifier, config, value: parseInList(`(${value.slice(1, -1)})`, text) };
  }
  if (op === 'is') {
    const normalised = value.toLowerCase();
    if (!(IS_VALUES as readonly string[]).includes(normalised)) {
      throw parseError(
        `failed to parse filter (${text})`,
        'is takes null, not_null, true, false or unknown',
      );
    }
    value = normalised;
  } else if (inTree) {
    value = unquote(value);
  }
  return { negate, op, quantifier, config, value };
}

/** A `key=value` filter from the query string: key `[embed.]*field`. */
export function parseFilter(key: string, value: string): Filter {
  const parts = key.split('.');
  const fieldText = parts.pop() as string;
  return { embed: parts, field: parseField(fieldText), operation: parseOperation(value, false) };
}

function parseTreeItem(text: string, depth: number): LogicTree {
  checkDepth(depth, 'logic tree');
  const logic = /^(not\.)?(and|or)\((.*)\)$/s.exec(text);
  if (logic) {
    return {
      kind: 'expr',
      op: logic[2] as 'and' | 'or',
      negate: Boolean(logic[1]),
      children: splitTopLevel(logic[3] as string).map((item) => parseTreeItem(item, depth + 1)),
    };
  }
  // field segments until the first operator (possibly preceded by not.)
  const segments = text.split('.');
  let i = 0;
  for (; i < segments.length; i++) {
    const segment = segments[i] as string;
    const bare = segment.replace(/\(.*$/, '');
    if (i > 0 && (segment === 'not' || (OPERATORS as readonly string[]).includes(bare))) break;
  }
  if (i === 0 || i >= segments.length) throw parseError(`failed to parse logic tree (${text})`);
  const path = segments.slice(0, i);
  const fieldText = path.pop() as string;
  return {
    kind: 'filter',
    filter: {
      embed: path,
      field: parseField(fieldText),
      operation: parseOperation(segments.slice(i).join('.'), true),
    },
  };
}

/** The value of an `or`/`and` parameter: `(item,item,…)`. */
export function parseLogic(op: 'and' | 'or', negate: boolean, value: string): LogicTree {
  if (!value.startsWith('(') || !value.endsWith(')')) {
    throw parseError(`failed to parse logic tree (${value})`, 'expected (…)');
  }
  return {
    kind: 'expr',
    op,
    negate,
    children: splitTopLevel(value.slice(1, -1)).map((item) => parseTreeItem(item, 1)),
  };
}

// --- order -------------------------------------------------------------------------------------

export function parseOrder(value: string): OrderTerm[] {
  return splitTopLevel(value).map((term) => {
    const parts = term.split('.');
    let nulls: OrderTerm['nulls'] = null;
    let direction: OrderTerm['direction'] = null;
    if (parts.at(-1) === 'nullsfirst' || parts.at(-1) === 'nullslast') {
      nulls = parts.pop() === 'nullsfirst' ? 'first' : 'last';
    }
    if (parts.at(-1) === 'asc' || parts.at(-1) === 'desc') {
      direction = parts.pop() as 'asc' | 'desc';
    }
    const fieldText = parts.join('.');
    const related = /^([^()]+)\(([^()]+)\)$/.exec(fieldText);
    if (related) {
      return {
        relation: related[1] as string,
        field: parseField(related[2] as string),
        direction,
        nulls,
      };
    }
    if (!fieldText || fieldText.includes('(')) {
      throw parseError(`failed to parse order (${value})`);
    }
    return { relation: null, field: parseField(fieldText), direction, nulls };
  });
}

/** `columns=` and `on_conflict=`: a comma list of (optionally quoted) names. */
export function parseNameList(value: string): string[] {
  return splitTopLevel(value)
    .map((name) => unquote(name.trim()))
    .filter((name) => name !== '');
}

export function parseNonNegative(value: string, what: string): number {
  if (!/^\d+$/.test(value)) throw parseError(`failed to parse ${what} (${value})`);
  return Number(value);
}
