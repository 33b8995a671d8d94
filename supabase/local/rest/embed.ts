import { ApiError } from './errors.ts';
import { type ForeignKey, qualified, type SchemaCache, type Table } from './schema-cache.ts';

// Resource embedding: which foreign key joins a table to the resource named in `select`, found
// the way PostgREST looks for it (both directions, and through junction tables), narrowed by a
// `!hint` (a constraint, column or junction name), and refused when still ambiguous.

export type Relationship =
  | { kind: 'to-parent'; fk: ForeignKey; toOne: true }
  | { kind: 'to-children'; fk: ForeignKey; toOne: boolean }
  | {
      kind: 'many-to-many';
      junction: Table;
      toParent: ForeignKey;
      toChild: ForeignKey;
      toOne: false;
    };

export interface Resolved {
  target: Table;
  relationship: Relationship;
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && a.every((x) => b.includes(x));

const isUnique = (table: Table, columns: string[]) =>
  table.uniqueKeys.some((key) => sameSet(key, columns));

function cardinalityName(r: Relationship): string {
  if (r.kind === 'many-to-many') return 'many-to-many';
  if (r.kind === 'to-parent') return 'many-to-one';
  return r.toOne ? 'one-to-one' : 'one-to-many';
}

function describe(parent: Table, target: Table, r: Relationship) {
  const relationship =
    r.kind === 'many-to-many'
      ? `${r.junction.name} using ${r.toParent.name}(${r.toParent.columns.join(', ')}) and ${r.toChild.name}(${r.toChild.columns.join(', ')})`
      : `${r.fk.name} using ${r.fk.table}(${r.fk.columns.join(', ')}) and ${r.fk.refTable}(${r.fk.refColumns.join(', ')})`;
  return {
    cardinality: cardinalityName(r),
    embedding: `${parent.name} with ${target.name}`,
    relationship,
  };
}

function matchesHint(r: Relationship, hint: string): boolean {
  if (r.kind === 'many-to-many') {
    return (
      r.junction.name === hint ||
      r.toParent.name === hint ||
      r.toChild.name === hint ||
      (r.toChild.columns.length === 1 && r.toChild.columns[0] === hint)
    );
  }
  return (
    r.fk.name === hint ||
    (r.fk.columns.length === 1 && r.fk.columns[0] === hint) ||
    (r.fk.refColumns.length === 1 && r.fk.refColumns[0] === hint)
  );
}

export function resolveEmbed(
  cache: SchemaCache,
  parent: Table,
  name: string,
  hint: string | null,
): Resolved {
  const candidates: Resolved[] = [];
  const tableNamed = cache.tables.get(qualified(parent.schema, name));
  const fks = cache.foreignKeys;

  if (tableNamed) {
    for (const fk of fks) {
      const fromParent = fk.schema === parent.schema && fk.table === parent.name;
      const toTarget = fk.refSchema === tableNamed.schema && fk.refTable === tableNamed.name;
      if (fromParent && toTarget) {
        candidates.push({
          target: tableNamed,
          relationship: { kind: 'to-parent', fk, toOne: true },
        });
      }
      const fromTarget = fk.schema === tableNamed.schema && fk.table === tableNamed.name;
      const toParent = fk.refSchema === parent.schema && fk.refTable === parent.name;
      // A self-reference shows up once as each direction, as in PostgREST.
      if (fromTarget && toParent) {
        candidates.push({
          target: tableNamed,
          relationship: { kind: 'to-children', fk, toOne: isUnique(tableNamed, fk.columns) },
        });
      }
    }
    // Junctions: a table with one key to each side, both part of one of its unique keys.
    for (const junction of cache.tables.values()) {
      if (junction.schema !== parent.schema) continue;
      const own = fks.filter((fk) => fk.schema === junction.schema && fk.table === junction.name);
      for (const a of own) {
        if (a.refTable !== parent.name || a.refSchema !== parent.schema) continue;
        for (const b of own) {
          if (a === b || b.refTable !== tableNamed.name || b.refSchema !== tableNamed.schema)
            continue;
          const both = [...a.columns, ...b.columns];
          const keyed = junction.uniqueKeys.some((key) => both.every((c) => key.includes(c)));
          if (keyed) {
            candidates.push({
              target: tableNamed,
              relationship: {
                kind: 'many-to-many',
                junction,
                toParent: a,
                toChild: b,
                toOne: false,
              },
            });
          }
        }
      }
    }
  } else {
    // Embedding through a foreign key column or constraint name of the parent.
    for (const fk of fks) {
      if (fk.schema !== parent.schema || fk.table !== parent.name) continue;
      if (fk.name !== name && !(fk.columns.length === 1 && fk.columns[0] === name)) continue;
      const target = cache.tables.get(qualified(fk.refSchema, fk.refTable));
      if (target) candidates.push({ target, relationship: { kind: 'to-parent', fk, toOne: true } });
    }
  }

  const narrowed = hint ? candidates.filter((c) => matchesHint(c.relationship, hint)) : candidates;
  // Without a hint, a direct key wins over junctions, as PostgREST prefers it.
  const direct = narrowed.filter((c) => c.relationship.kind !== 'many-to-many');
  const chosen = hint || direct.length === 0 ? narrowed : direct;
  if (chosen.length === 1) return chosen[0] as Resolved;
  if (chosen.length === 0) {
    throw new ApiError(
      400,
      'PGRST200',
      `Could not find a relationship between '${parent.name}' and '${name}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent.name}' and '${name}'${hint ? ` using the hint '${hint}'` : ''} in the schema '${parent.schema}', but no matches were found.`,
      null,
    );
  }
  const details = chosen.map((c) => describe(parent, c.target, c.relationship));
  const named = (c: Resolved) =>
    c.relationship.kind === 'many-to-many' ? c.relationship.junction.name : c.relationship.fk.name;
  throw new ApiError(
    300,
    'PGRST201',
    `Could not embed because more than one relationship was found for '${parent.name}' and '${name}'`,
    details,
    `Try changing '${name}' to one of the following: ${chosen
      .map((c) => `'${name}!${named(c)}'`)
      .join(', ')}. Find the desired relationship in the 'details' key.`,
  );
}
