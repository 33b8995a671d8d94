import { inParams } from './rpc.ts';
import type { Column, RoutineDef, SchemaCache, Table } from './schema-cache.ts';
import type { Tx } from './transaction.ts';

// GET /rest/v1/: PostgREST's Swagger 2.0 description of the exposed schema, limited to what the
// caller's role may touch (PostgREST's default follow-privileges mode), with the table and
// column comments as descriptions, so Studio and code generators see what the database says.

type Json = Record<string, unknown>;

function typeOf(column: Pick<Column, 'baseType' | 'type'>): Json {
  const t = column.baseType.replace(/^.*\./, '');
  if (t.endsWith('[]')) return { type: 'array', items: { type: 'string' } };
  const formats: Record<string, Json> = {
    integer: { type: 'integer', format: 'integer' },
    smallint: { type: 'integer', format: 'smallint' },
    bigint: { type: 'integer', format: 'bigint' },
    numeric: { type: 'number', format: 'numeric' },
    real: { type: 'number', format: 'real' },
    'double precision': { type: 'number', format: 'double precision' },
    boolean: { type: 'boolean', format: 'boolean' },
    json: { format: 'json' },
    jsonb: { format: 'jsonb' },
  };
  return formats[t] ?? { type: 'string', format: column.type.replace(/^pg_catalog\./, '') };
}

function columnDescription(table: Table, column: Column, cache: SchemaCache): string | undefined {
  const notes: string[] = [];
  if (table.primaryKey.includes(column.name)) notes.push('This is a Primary Key.<pk/>');
  for (const fk of cache.foreignKeys) {
    if (fk.schema !== table.schema || fk.table !== table.name) continue;
    const i = fk.columns.indexOf(column.name);
    if (i < 0 || fk.columns.length !== 1) continue;
    const ref = fk.refColumns[i];
    notes.push(
      `This is a Foreign Key to \`${fk.refTable}.${ref}\`.<fk table='${fk.refTable}' column='${ref}'/>`,
    );
  }
  const parts = [column.comment ?? '', notes.length ? `Note:\n${notes.join('\n')}` : ''].filter(
    Boolean,
  );
  return parts.length ? parts.join('\n\n') : undefined;
}

function definition(table: Table, cache: SchemaCache): Json {
  const columns = [...table.columns.values()].sort((a, b) => a.position - b.position);
  const properties: Json = {};
  for (const column of columns) {
    const description = columnDescription(table, column, cache);
    properties[column.name] = {
      ...(column.defaultExpr !== null ? { default: column.defaultExpr } : {}),
      ...(description ? { description } : {}),
      ...typeOf(column),
      ...(column.enumValues ? { enum: column.enumValues } : {}),
      ...(column.maxLength !== null ? { maxLength: column.maxLength } : {}),
    };
  }
  const required = columns
    .filter((c) => !c.nullable && c.defaultExpr === null && !c.generated && !c.identity)
    .map((c) => c.name);
  return {
    ...(table.comment ? { description: table.comment } : {}),
    ...(required.length ? { required } : {}),
    properties,
    type: 'object',
  };
}

const ref = (name: string) => ({ $ref: `#/parameters/${name}` });

function tablePath(table: Table, privileges: Set<string>): Json {
  const [summary, ...rest] = (table.comment ?? '').split('\n\n');
  const docs = table.comment
    ? { summary, ...(rest.length ? { description: rest.join('\n\n') } : {}) }
    : {};
  const tags = [table.name];
  const rowFilters = [...table.columns.keys()].map((c) => ({
    $ref: `#/parameters/rowFilter.${table.name}.${c}`,
  }));
  const path: Json = {};
  if (privileges.has('select')) {
    path.get = {
      ...docs,
      tags,
      parameters: [
        ...rowFilters,
        ref('select'),
        ref('order'),
        ref('range'),
        ref('rangeUnit'),
        ref('offset'),
        ref('limit'),
        ref('preferCount'),
      ],
      responses: {
        '200': {
          description: 'OK',
          schema: { items: { $ref: `#/definitions/${table.name}` }, type: 'array' },
        },
        '206': { description: 'Partial Content' },
      },
    };
  }
  const body = { $ref: `#/parameters/body.${table.name}` };
  if (privileges.has('insert')) {
    path.post = {
      ...docs,
      tags,
      parameters: [body, ref('select'), ref('preferPost')],
      responses: { '201': { description: 'Created' } },
    };
  }
  if (privileges.has('update')) {
    path.patch = {
      ...docs,
      tags,
      parameters: [...rowFilters, body, ref('preferReturn')],
      responses: { '204': { description: 'No Content' } },
    };
  }
  if (privileges.has('delete')) {
    path.delete = {
      ...docs,
      tags,
      parameters: [...rowFilters, ref('preferReturn')],
      responses: { '204': { description: 'No Content' } },
    };
  }
  return path;
}

function routinePath(routine: RoutineDef): Json {
  const [summary, ...rest] = (routine.comment ?? '').split('\n\n');
  const docs = routine.comment
    ? { summary, ...(rest.length ? { description: rest.join('\n\n') } : {}) }
    : {};
  const properties: Json = {};
  const params = inParams(routine);
  for (const p of params) properties[p.name] = typeOf({ baseType: p.type, type: p.type });
  const required = params.slice(0, params.length - routine.defaults).map((p) => p.name);
  const args = {
    in: 'body',
    name: 'args',
    required: true,
    schema: { type: 'object', properties, ...(required.length ? { required } : {}) },
  };
  return {
    post: {
      ...docs,
      tags: [`(rpc) ${routine.name}`],
      parameters: [args, ref('preferParams')],
      produces: ['application/json', 'application/vnd.pgrst.object+json'],
      responses: { '200': { description: 'OK' } },
    },
  };
}

const COMMON_PARAMETERS: Json = {
  preferParams: {
    name: 'Prefer',
    description: 'Preference',
    required: false,
    enum: ['params=single-object'],
    in: 'header',
    type: 'string',
  },
  preferReturn: {
    name: 'Prefer',
    description: 'Preference',
    required: false,
    enum: ['return=representation', 'return=minimal', 'return=none'],
    in: 'header',
    type: 'string',
  },
  preferCount: {
    name: 'Prefer',
    description: 'Preference',
    required: false,
    enum: ['count=none'],
    in: 'header',
    type: 'string',
  },
  preferPost: {
    name: 'Prefer',
    description: 'Preference',
    required: false,
    enum: [
      'return=representation',
      'return=minimal',
      'return=none',
      'resolution=ignore-duplicates',
      'resolution=merge-duplicates',
    ],
    in: 'header',
    type: 'string',
  },
  select: {
    name: 'select',
    description: 'Filtering Columns',
    required: false,
    in: 'query',
    type: 'string',
  },
  on_conflict: {
    name: 'on_conflict',
    description: 'On Conflict',
    required: false,
    in: 'query',
    type: 'string',
  },
  order: { name: 'order', description: 'Ordering', required: false, in: 'query', type: 'string' },
  range: {
    name: 'Range',
    description: 'Limiting and Pagination',
    required: false,
    in: 'header',
    type: 'string',
  },
  rangeUnit: {
    name: 'Range-Unit',
    description: 'Limiting and Pagination',
    required: false,
    default: 'items',
    in: 'header',
    type: 'string',
  },
  offset: {
    name: 'offset',
    description: 'Limiting and Pagination',
    required: false,
    in: 'query',
    type: 'string',
  },
  limit: {
    name: 'limit',
    description: 'Limiting and Pagination',
    required: false,
    in: 'query',
    type: 'string',
  },
};

export async function openApiDocument(
  tx: Tx,
  cache: SchemaCache,
  schema: string,
  publicUrl: string,
): Promise<Json> {
  const tables = [...cache.tables.values()]
    .filter((t) => t.schema === schema)
    .sort((a, b) => a.name.localeCompare(b.name));
  const { rows } = await tx.query<{ name: string; privileges: string[] }>(
    `select c.relname as name,
            array_remove(array[
              case when has_table_privilege(c.oid, 'select') or has_any_column_privilege(c.oid, 'select') then 'select' end,
              case when has_table_privilege(c.oid, 'insert') or has_any_column_privilege(c.oid, 'insert') then 'insert' end,
              case when has_table_privilege(c.oid, 'update') or has_any_column_privilege(c.oid, 'update') then 'update' end,
              case when has_table_privilege(c.oid, 'delete') then 'delete' end], null) as privileges
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and has_schema_privilege(n.oid, 'usage')`,
    [schema],
  );
  const privileges = new Map(rows.map((r) => [r.name, new Set(r.privileges)]));
  const { rows: callable } = await tx.query<{ name: string }>(
    `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = $1 and has_function_privilege(p.oid, 'execute')`,
    [schema],
  );
  const executable = new Set(callable.map((r) => r.name));

  const paths: Json = {
    '/': {
      get: {
        produces: ['application/openapi+json', 'application/json'],
        responses: { '200': { description: 'OK' } },
        summary: 'OpenAPI description (this document)',
        tags: ['Introspection'],
      },
    },
  };
  const definitions: Json = {};
  const parameters: Json = { ...COMMON_PARAMETERS };
  for (const table of tables) {
    const granted = privileges.get(table.name);
    if (!granted || granted.size === 0) continue;
    paths[`/${table.name}`] = tablePath(table, granted);
    definitions[table.name] = definition(table, cache);
    parameters[`body.${table.name}`] = {
      name: table.name,
      description: table.name,
      required: false,
      in: 'body',
      schema: { $ref: `#/definitions/${table.name}` },
    };
    for (const column of table.columns.values()) {
      parameters[`rowFilter.${table.name}.${column.name}`] = {
        name: column.name,
        ...(column.comment ? { description: column.comment } : {}),
        required: false,
        format: column.type,
        in: 'query',
        type: 'string',
      };
    }
  }
  for (const [key, overloads] of cache.routines) {
    const routine = overloads[0];
    if (!routine || routine.schema !== schema || !executable.has(routine.name)) continue;
    if (key.startsWith(`${schema}.`)) paths[`/rpc/${routine.name}`] = routinePath(routine);
  }
  const url = new URL(publicUrl);
  // As PostgREST does: the schema's comment gives the title (first line) and the description.
  const { rows: described } = await tx.query<{ comment: string | null }>(
    `select obj_description(oid, 'pg_namespace') as comment from pg_namespace where nspname = $1`,
    [schema],
  );
  const [title, ...description] = (described[0]?.comment ?? '').split('\n');
  return {
    swagger: '2.0',
    info: {
      description: title ? description.join('\n').trim() : '',
      title: title || 'standard public schema',
      version: '12.2.3',
    },
    host: url.host,
    basePath: '/rest/v1',
    schemes: [url.protocol.replace(':', '')],
    consumes: [
      'application/json',
      'application/vnd.pgrst.object+json;nulls=stripped',
      'application/vnd.pgrst.object+json',
      'text/csv',
    ],
    produces: [
      'application/json',
      'application/vnd.pgrst.object+json;nulls=stripped',
      'application/vnd.pgrst.object+json',
      'text/csv',
    ],
    paths,
    definitions,
    parameters,
    externalDocs: {
      description: 'PostgREST Documentation',
      url: 'https://postgrest.org/en/v12/references/api.html',
    },
  };
}
