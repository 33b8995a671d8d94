import { type OutputUnit, type Schema, Validator } from '@cfworker/json-schema';

// The parameters editor's checks, before anything is saved: the text is JSON, the JSON is a JSON
// Schema the bot can hand to a model (an object of named arguments), and it compiles. The schema of
// schemas below is the part of JSON Schema tool definitions use; anything it does not name is left
// alone, as models and validators ignore keywords they do not know.

const TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'];
const count = { type: 'integer', minimum: 0 };
const schemaList = { type: 'array', minItems: 1, items: { $ref: '#/$defs/schema' } };

const META: Schema = {
  $defs: {
    schema: {
      type: ['object', 'boolean'],
      properties: {
        type: {
          anyOf: [
            { enum: TYPES },
            { type: 'array', items: { enum: TYPES }, minItems: 1, uniqueItems: true },
          ],
        },
        title: { type: 'string' },
        description: { type: 'string' },
        properties: { type: 'object', additionalProperties: { $ref: '#/$defs/schema' } },
        additionalProperties: { $ref: '#/$defs/schema' },
        items: { $ref: '#/$defs/schema' },
        required: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        enum: { type: 'array', minItems: 1 },
        pattern: { type: 'string', format: 'regex' },
        format: { type: 'string' },
        minLength: count,
        maxLength: count,
        minItems: count,
        maxItems: count,
        minimum: { type: 'number' },
        maximum: { type: 'number' },
        anyOf: schemaList,
        oneOf: schemaList,
        allOf: schemaList,
        not: { $ref: '#/$defs/schema' },
      },
    },
  },
  allOf: [{ $ref: '#/$defs/schema' }],
  type: 'object',
  properties: { type: { const: 'object' } },
  required: ['type'],
};

const metaValidator = new Validator(META, '2020-12', false);

// Keywords whose error only says that something below failed.
const SUMMARIES = new Set(['properties', 'additionalProperties', 'items', 'allOf', '$ref']);

function where(pointer: string): string {
  const path = pointer
    .replace(/^#/, '')
    .split('/')
    .filter(Boolean)
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  return path || 'schema';
}

function describe(units: OutputUnit[]): string[] {
  const messages = units
    .filter((u) => !SUMMARIES.has(u.keyword))
    .map((u) =>
      u.keywordLocation === '#/properties/type/const'
        ? 'type: the arguments must be an object ("type": "object")'
        : `${where(u.instanceLocation)}: ${u.error.replace(/\.$/, '')}`,
    );
  return [...new Set(messages)];
}

export type SchemaCheck =
  | { ok: true; schema: Record<string, unknown> }
  | { ok: false; errors: string[] };

export function checkSchema(text: string): SchemaCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [`not JSON: ${(error as Error).message}`] };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, errors: ['the schema must be a JSON object'] };
  }
  const result = metaValidator.validate(value);
  if (!result.valid) return { ok: false, errors: describe(result.errors) };
  const schema = value as Record<string, unknown>;
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  const missing = ((schema.required ?? []) as string[]).filter((name) => !(name in properties));
  if (missing.length) {
    return {
      ok: false,
      errors: missing.map((name) => `required: "${name}" is not among the properties`),
    };
  }
  try {
    new Validator(schema as Schema, '2020-12', false).validate({});
  } catch (error) {
    return { ok: false, errors: [`the schema cannot be used: ${(error as Error).message}`] };
  }
  return { ok: true, schema };
}

/** Arguments checked against the tool's schema, as the bot's calls are before they are sent. */
export function checkArguments(
  schema: Record<string, unknown>,
  text: string,
): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [`not JSON: ${(error as Error).message}`] };
  }
  const result = new Validator(schema as Schema, '2020-12', false).validate(value);
  if (result.valid) return { ok: true, value };
  return {
    ok: false,
    errors: [
      ...new Set(
        result.errors
          .filter((u) => !SUMMARIES.has(u.keyword))
          .map(
            (u) =>
              `${where(u.instanceLocation).replace(/^schema$/, 'arguments')}: ${u.error.replace(/\.$/, '')}`,
          ),
      ),
    ],
  };
}

/** Arguments to start a test from: each required property with a value of its type. */
export function exampleArguments(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const example: Record<string, unknown> = {};
  // Alternatives ("email or phone") are pre-filled with the first one.
  const first = ((schema.anyOf ?? schema.oneOf ?? []) as Record<string, unknown>[])[0];
  const required = [
    ...((schema.required ?? []) as string[]),
    ...((first?.required ?? []) as string[]),
  ];
  for (const name of new Set(required)) {
    const property = properties[name] ?? {};
    const type = Array.isArray(property.type) ? property.type[0] : property.type;
    example[name] = Array.isArray(property.enum)
      ? property.enum[0]
      : type === 'number' || type === 'integer'
        ? 1
        : type === 'boolean'
          ? true
          : type === 'array'
            ? []
            : type === 'object'
              ? {}
              : property.format === 'date'
                ? new Date().toISOString().slice(0, 10)
                : property.format === 'email'
                  ? 'customer@example.com'
                  : '';
  }
  return example;
}
