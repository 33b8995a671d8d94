import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkArguments,
  checkSchema,
  exampleArguments,
} from '../../admin/src/pages/tools/schema.ts';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import { validateArguments } from '../../functions/_shared/tools/validate-arguments.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';

// The Tools page's schema editor: what it refuses to save and why, in words; that every template
// of the catalog passes it; and that the arguments it pre-fills pass the server's own check.

let local: LocalDatabase;
let templates: { slug: string; parameters: Record<string, unknown> }[];

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  templates = await createPgliteDb(local.pg).asService((sql) =>
    sql.query('select slug, parameters from public.tools order by slug'),
  );
}, 120_000);

afterAll(async () => {
  await local?.close();
});

const errorsOf = (text: string) => {
  const result = checkSchema(text);
  return result.ok ? [] : result.errors;
};

describe('checkSchema', () => {
  it('accepts every catalog template, and the arguments pre-filled from it pass the server', () => {
    expect(templates.map((t) => t.slug)).toEqual(
      expect.arrayContaining(['booking', 'crm_lookup', 'n8n_workflow', 'order_lookup']),
    );
    for (const template of templates) {
      expect(errorsOf(JSON.stringify(template.parameters)), template.slug).toEqual([]);
      const example = exampleArguments(template.parameters);
      const alternatives = (template.parameters.anyOf ?? []) as { required?: string[] }[];
      const required = [
        ...((template.parameters.required ?? []) as string[]),
        ...(alternatives[0]?.required ?? []),
      ];
      expect(Object.keys(example).sort(), template.slug).toEqual([...required].sort());
      // Pre-filled strings may be empty where the schema wants a value (the person types it), but
      // no argument is missing, unknown or of the wrong type.
      const server = validateArguments(template.parameters, example);
      const shape = server.ok
        ? []
        : server.errors.filter((e) =>
            /is required|not an accepted|must be an? (string|number|integer|boolean|object|array|null)/.test(
              e,
            ),
          );
      expect(shape, template.slug).toEqual([]);
    }
  });

  it('says what is wrong with a schema, in words', () => {
    expect(errorsOf('{"type": "object",')[0]).toMatch(/^not JSON/);
    expect(errorsOf('[]')).toEqual(['the schema must be a JSON object']);
    expect(errorsOf('{"type": "string"}')).toEqual([
      'type: the arguments must be an object ("type": "object")',
    ]);
    expect(errorsOf('{"properties": {}}').join(' ')).toMatch(/type/);
    expect(
      errorsOf('{"type": "object", "properties": {"n": {"type": "strnig"}}}').join(' '),
    ).toMatch(/properties\.n\.type/);
    expect(
      errorsOf('{"type": "object", "properties": {"n": {"type": "string"}}, "required": ["m"]}'),
    ).toEqual(['required: "m" is not among the properties']);
    expect(
      errorsOf('{"type": "object", "properties": {"n": {"type": "string", "pattern": "(["}}}').join(
        ' ',
      ),
    ).toMatch(/properties\.n\.pattern/);
    expect(
      errorsOf('{"type": "object", "properties": {"n": {"type": "string", "minLength": -1}}}').join(
        ' ',
      ),
    ).toMatch(/minLength/);
  });
});

describe('checkArguments', () => {
  const schema = {
    type: 'object',
    properties: { order_number: { type: 'string', pattern: '^A-[0-9]+$' } },
    required: ['order_number'],
    additionalProperties: false,
  };

  it('passes what the schema accepts and names what it does not', () => {
    expect(checkArguments(schema, '{"order_number": "A-1"}')).toEqual({
      ok: true,
      value: { order_number: 'A-1' },
    });
    const refused = checkArguments(schema, '{"order_number": "B", "x": 1}');
    expect(refused.ok).toBe(false);
    expect(refused.ok ? '' : refused.errors.join(' ')).toMatch(/order_number/);
    expect(checkArguments(schema, '{').ok).toBe(false);
  });
});
