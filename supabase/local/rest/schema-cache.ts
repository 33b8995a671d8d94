import type { PGlite } from '@electric-sql/pglite';

// What PostgREST learns from pg_catalog before serving anything: the relations, columns, keys,
// foreign keys and functions of the exposed schemas, with their comments. Type names are read
// with an empty search path so they come out schema-qualified and stay valid under whatever
// search_path a request runs with.

export interface Column {
  name: string;
  /** format_type() text, qualified unless it lives in pg_catalog. */
  type: string;
  /** The type's own name without modifiers, for OpenAPI formats. */
  baseType: string;
  nullable: boolean;
  /** The DEFAULT expression as SQL, or null. */
  defaultExpr: string | null;
  generated: boolean;
  identity: boolean;
  comment: string | null;
  enumValues: string[] | null;
  maxLength: number | null;
  position: number;
}

export interface Table {
  schema: string;
  name: string;
  kind: 'table' | 'view' | 'materialized view' | 'foreign table';
  /** What the relation accepts: views may take some writes, or none. */
  writable: { insert: boolean; update: boolean; delete: boolean };
  comment: string | null;
  columns: Map<string, Column>;
  primaryKey: string[];
  /** Column sets of the primary key and unique constraints (to tell one-to-one from many). */
  uniqueKeys: string[][];
}

export interface ForeignKey {
  name: string;
  schema: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

export interface FunctionParam {
  name: string;
  type: string;
  /** 'i' in, 'o' out, 'b' inout, 'v' variadic, 't' table column. */
  mode: string;
}

export interface RoutineDef {
  schema: string;
  name: string;
  params: FunctionParam[];
  /** Trailing input parameters that have defaults. */
  defaults: number;
  returnType: string;
  /** The relation a composite return type belongs to (a table's row type), if any. */
  returnTable: { schema: string; name: string } | null;
  returnsSet: boolean;
  /** True when the result has columns (a row type, RETURNS TABLE or OUT parameters). */
  returnsComposite: boolean;
  returnsVoid: boolean;
  volatility: 'i' | 's' | 'v';
  comment: string | null;
}

export interface SchemaCache {
  tables: Map<string, Table>;
  foreignKeys: ForeignKey[];
  routines: Map<string, RoutineDef[]>;
  roles: Set<string>;
  /** ALTER ROLE … SET values (statement_timeout and the like), applied to each request. */
  roleSettings: Map<string, [string, string][]>;
  loadedAt: Date;
}

export const qualified = (schema: string, name: string) => `${schema}.${name}`;

interface RelationRow {
  schema: string;
  name: string;
  kind: string;
  updatable: number;
  comment: string | null;
}
interface ColumnRow {
  schema: string;
  table: string;
  name: string;
  type: string;
  base_type: string;
  nullable: boolean;
  default_expr: string | null;
  generated: boolean;
  identity: boolean;
  comment: string | null;
  enum_values: string[] | null;
  max_length: number | null;
  position: number;
}
interface KeyRow {
  name: string;
  kind: string;
  schema: string;
  table: string;
  columns: string[];
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | null;
}
interface RoutineRow {
  schema: string;
  name: string;
  arg_names: string[] | null;
  arg_types: string[];
  arg_modes: string[] | null;
  defaults: number;
  return_type: string;
  return_schema: string | null;
  return_table: string | null;
  returns_set: boolean;
  return_is_composite: boolean;
  volatility: 'i' | 's' | 'v';
  comment: string | null;
}

const KINDS: Record<string, Table['kind']> = {
  r: 'table',
  p: 'table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

const RELATIONS = `
  select n.nspname as schema, c.relname as name, c.relkind::text as kind,
         pg_relation_is_updatable(c.oid::regclass, false) as updatable,
         obj_description(c.oid, 'pg_class') as comment
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')
     and not c.relispartition`;

const COLUMNS = `
  select n.nspname as schema, c.relname as table, a.attname as name,
         format_type(a.atttypid, a.atttypmod) as type,
         format_type(coalesce(nullif(t.typbasetype, 0), a.atttypid), null) as base_type,
         not a.attnotnull as nullable,
         pg_get_expr(d.adbin, d.adrelid) as default_expr,
         a.attgenerated <> '' as generated,
         a.attidentity <> '' as identity,
         col_description(c.oid, a.attnum) as comment,
         (select array_agg(e.enumlabel::text order by e.enumsortorder)
            from pg_enum e where e.enumtypid = a.atttypid) as enum_values,
         case when a.atttypmod > 4 and a.atttypid in ('varchar'::regtype, 'bpchar'::regtype)
              then a.atttypmod - 4 end as max_length,
         a.attnum::int as position
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_namespace n on n.oid = c.relnamespace
    join pg_type t on t.oid = a.atttypid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'v', 'm', 'f')
     and a.attnum > 0 and not a.attisdropped
   order by n.nspname, c.relname, a.attnum`;

const KEYS = `
  select con.conname as name, con.contype::text as kind,
         n.nspname as schema, c.relname as table,
         array(select a.attname::text from unnest(con.conkey) with ordinality k(num, i)
                 join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num
                order by k.i) as columns,
         fn.nspname as ref_schema, fc.relname as ref_table,
         case when con.contype = 'f' then
           array(select a.attname::text from unnest(con.confkey) with ordinality k(num, i)
                   join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num
                  order by k.i) end as ref_columns
    from pg_constraint con
    join pg_class c on c.oid = con.conrelid
    join pg_namespace n on n.oid = c.relnamespace
    left join pg_class fc on fc.oid = con.confrelid
    left join pg_namespace fn on fn.oid = fc.relnamespace
   where con.contype in ('p', 'u', 'f') and n.nspname = any($1::text[])`;

// Unique indexes count as unique keys for cardinality, as PostgREST's own query does.
const UNIQUE_INDEXES = `
  select n.nspname as schema, c.relname as table,
         array(select a.attname::text from unnest(i.indkey) with ordinality k(num, o)
                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.num
                order by k.o) as columns
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_namespace n on n.oid = c.relnamespace
   where i.indisunique and i.indpred is null and not (0 = any(i.indkey))
     and n.nspname = any($1::text[])`;

const ROUTINES = `
  select n.nspname as schema, p.proname as name,
         p.proargnames::text[] as arg_names,
         array(select format_type(t, null)
                 from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) t) as arg_types,
         p.proargmodes::text[] as arg_modes,
         p.pronargdefaults::int as defaults,
         format_type(p.prorettype, null) as return_type,
         rn.nspname as return_schema, rc.relname as return_table,
         p.proretset as returns_set,
         (rt.typtype = 'c' or (p.prorettype = 'record'::regtype and p.proargmodes is not null))
           as return_is_composite,
         p.provolatile::text as volatility,
         obj_description(p.oid, 'pg_proc') as comment
    from pg_proc p
    join pg_namespace n on n.oid = p.pronamespace
    join pg_type rt on rt.oid = p.prorettype
    left join pg_class rc on rc.oid = rt.typrelid and rc.relkind in ('r', 'p', 'v', 'm', 'f')
    left join pg_namespace rn on rn.oid = rc.relnamespace
   where n.nspname = any($1::text[]) and p.prokind = 'f'
     and p.prorettype not in ('trigger'::regtype, 'event_trigger'::regtype)`;

export async function loadSchemaCache(
  pg: Pick<PGlite, 'transaction'>,
  schemas: string[],
): Promise<SchemaCache> {
  return pg.transaction(async (tx) => {
    await tx.query('set transaction read only');
    await tx.query(`select set_config('search_path', '', true)`);
    const q = async <T>(sql: string) => (await tx.query<T>(sql, [schemas])).rows;
    const relations = await q<RelationRow>(RELATIONS);
    const columns = await q<ColumnRow>(COLUMNS);
    const keys = await q<KeyRow>(KEYS);
    const uniqueIndexes = await q<{ schema: string; table: string; columns: string[] }>(
      UNIQUE_INDEXES,
    );
    const routineRows = await q<RoutineRow>(ROUTINES);
    const roles = (await tx.query<{ rolname: string }>('select rolname from pg_roles')).rows;
    const settings = (
      await tx.query<{ role: string; setting: string }>(
        `select r.rolname as role, unnest(s.setconfig) as setting
           from pg_catalog.pg_db_role_setting s
           join pg_catalog.pg_roles r on r.oid = s.setrole
          where s.setdatabase in (0, (select oid from pg_catalog.pg_database
                                       where datname = pg_catalog.current_database()))`,
      )
    ).rows;
    const roleSettings = new Map<string, [string, string][]>();
    for (const { role, setting } of settings) {
      const at = setting.indexOf('=');
      const name = setting.slice(0, at);
      // The request's own search_path (from the profile) stays in charge.
      if (at <= 0 || name === 'search_path') continue;
      roleSettings.set(role, [...(roleSettings.get(role) ?? []), [name, setting.slice(at + 1)]]);
    }

    const tables = new Map<string, Table>();
    for (const r of relations) {
      tables.set(qualified(r.schema, r.name), {
        schema: r.schema,
        name: r.name,
        kind: KINDS[r.kind] ?? 'table',
        // Postgres reports one bit per command: 1 << CMD_UPDATE, CMD_INSERT, CMD_DELETE.
        writable: {
          update: (r.updatable & 4) !== 0,
          insert: (r.updatable & 8) !== 0,
          delete: (r.updatable & 16) !== 0,
        },
        comment: r.comment,
        columns: new Map(),
        primaryKey: [],
        uniqueKeys: [],
      });
    }
    for (const c of columns) {
      tables.get(qualified(c.schema, c.table))?.columns.set(c.name, {
        name: c.name,
        type: c.type,
        baseType: c.base_type,
        nullable: c.nullable,
        defaultExpr: c.default_expr,
        generated: c.generated,
        identity: c.identity,
        comment: c.comment,
        enumValues: c.enum_values,
        maxLength: c.max_length,
        position: c.position,
      });
    }
    const foreignKeys: ForeignKey[] = [];
    for (const k of keys) {
      const table = tables.get(qualified(k.schema, k.table));
      if (k.kind === 'p' && table) table.primaryKey = k.columns;
      if ((k.kind === 'p' || k.kind === 'u') && table) table.uniqueKeys.push(k.columns);
      if (k.kind === 'f' && k.ref_schema && k.ref_table && k.ref_columns) {
        foreignKeys.push({
          name: k.name,
          schema: k.schema,
          table: k.table,
          columns: k.columns,
          refSchema: k.ref_schema,
          refTable: k.ref_table,
          refColumns: k.ref_columns,
        });
      }
    }
    for (const u of uniqueIndexes)
      tables.get(qualified(u.schema, u.table))?.uniqueKeys.push(u.columns);

    const routines = new Map<string, RoutineDef[]>();
    for (const r of routineRows) {
      const modes = r.arg_modes ?? r.arg_types.map(() => 'i');
      const params = r.arg_types.map((type, i) => ({
        name: r.arg_names?.[i] ?? '',
        type,
        mode: modes[i] ?? 'i',
      }));
      const key = qualified(r.schema, r.name);
      const list = routines.get(key) ?? [];
      list.push({
        schema: r.schema,
        name: r.name,
        params,
        defaults: r.defaults,
        returnType: r.return_type,
        returnTable:
          r.return_schema && r.return_table
            ? { schema: r.return_schema, name: r.return_table }
            : null,
        returnsSet: r.returns_set,
        returnsComposite: r.return_is_composite,
        returnsVoid: r.return_type === 'void',
        volatility: r.volatility,
        comment: r.comment,
      });
      routines.set(key, list);
    }
    return {
      tables,
      foreignKeys,
      routines,
      roles: new Set(roles.map((r) => r.rolname)),
      roleSettings,
      loadedAt: new Date(),
    };
  });
}

/**
 * Keeps the cache current: loaded once up front, and again whenever someone runs
 * NOTIFY pgrst, 'reload schema' (or an empty payload), as PostgREST listens for.
 */
export function watchSchemaCache(
  pg: Pick<PGlite, 'transaction' | 'listen'>,
  schemas: string[],
  log: (message: string, error?: unknown) => void,
) {
  let current = loadSchemaCache(pg, schemas);
  let tail: Promise<unknown> = current;
  // A burst of DDL (a migration, a test's setup) asks many times; one reload that starts after
  // the last request covers them all, and the previous cache serves until it is complete.
  let queued: Promise<SchemaCache> | null = null;
  const reload = () => {
    if (queued) return queued;
    const next = tail
      .catch(() => undefined)
      .then(() => {
        queued = null;
        return loadSchemaCache(pg, schemas);
      });
    queued = next;
    tail = next;
    next.then(
      (cache) => {
        current = Promise.resolve(cache);
      },
      (error) => log('rest: reloading the schema cache failed', error),
    );
    return next;
  };
  const unlisten = pg
    .listen('pgrst', (payload) => {
      if (payload === '' || payload === 'reload schema') void reload();
    })
    .catch((error) => {
      log('rest: cannot listen for schema reloads', error);
      return async () => {};
    });
  return {
    get: () => current,
    reload,
    stop: async () => (await unlisten)(),
  };
}
