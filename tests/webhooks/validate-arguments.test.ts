import { describe, expect, it } from 'vitest';
import { validateArguments } from '../../functions/_shared/tools/validate-arguments.ts';

// The demo tenant's tool schemas, as supabase/seed.sql stores them.
const orderStatus = {
  type: 'object',
  properties: {
    order_number: {
      type: 'string',
      pattern: '^TH-[0-9]{4,8}$',
      description: 'Order number, e.g. TH-10421',
    },
    email: { type: 'string', format: 'email' },
  },
  required: ['order_number'],
  additionalProperties: false,
};
const bookFitting = {
  type: 'object',
  properties: {
    store: { type: 'string', enum: ['Denver', 'Boulder'] },
    date: { type: 'string', format: 'date' },
    time: { type: 'string', pattern: '^[0-2][0-9]:[0-5][0-9]$' },
    name: { type: 'string', minLength: 1 },
  },
  required: ['store', 'date', 'time', 'name'],
  additionalProperties: false,
};

describe('validateArguments', () => {
  it('accepts arguments that match', () => {
    expect(validateArguments(orderStatus, { order_number: 'TH-10421' })).toEqual({ ok: true });
    expect(
      validateArguments(bookFitting, {
        store: 'Boulder',
        date: '2026-12-01',
        time: '10:30',
        name: 'Jordan',
      }),
    ).toEqual({ ok: true });
  });

  it('names each argument and what was expected, all at once', () => {
    expect(
      validateArguments(bookFitting, { store: 'Paris', date: '2026-02-30', time: '9:5', name: '' }),
    ).toEqual({
      ok: false,
      errors: [
        'store: must be one of "Denver", "Boulder"',
        'date: must be a date (YYYY-MM-DD)',
        'time: must match the pattern ^[0-2][0-9]:[0-5][0-9]$',
        'name: must be at least 1 character long',
      ],
    });
  });

  it('reports missing and unexpected arguments', () => {
    expect(validateArguments(orderStatus, { order: 'TH-10421', email: 'nope' })).toEqual({
      ok: false,
      errors: [
        'order_number: is required',
        'email: must be an email address',
        'order: is not an accepted argument (allowed: order_number, email)',
      ],
    });
  });

  it('reports wrong types, including arguments that are not an object', () => {
    expect(validateArguments(orderStatus, { order_number: 10421 })).toEqual({
      ok: false,
      errors: ['order_number: must be a string, got a number'],
    });
    expect(validateArguments(orderStatus, 'TH-10421')).toEqual({
      ok: false,
      errors: ['arguments: must be an object, got a string'],
    });
    expect(validateArguments(orderStatus, undefined)).toEqual({
      ok: false,
      errors: ['arguments are missing'],
    });
  });

  it('points into nested objects and arrays, through local $refs', () => {
    const schema = {
      type: 'object',
      $defs: {
        line: {
          type: 'object',
          properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } },
          required: ['sku'],
        },
      },
      properties: { lines: { type: 'array', minItems: 1, items: { $ref: '#/$defs/line' } } },
      required: ['lines'],
    };
    expect(validateArguments(schema, { lines: [{ sku: 'A' }, { qty: 0 }] })).toEqual({
      ok: false,
      errors: ['lines[1].sku: is required', 'lines[1].qty: must be at least 1'],
    });
    expect(validateArguments(schema, { lines: [] })).toEqual({
      ok: false,
      errors: ['lines: must have at least 1 item'],
    });
  });

  it('honours the draft a schema declares, 2020-12 otherwise', () => {
    const draft7 = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'array',
      items: [{ type: 'string' }],
    };
    // Tuple-form items is draft 7; in 2020-12 an array there is not a schema.
    expect(validateArguments(draft7, [1])).toEqual({
      ok: false,
      errors: ['[0]: must be a string, got a number'],
    });
    const tuple = { type: 'array', prefixItems: [{ type: 'string' }] };
    expect(validateArguments(tuple, [1])).toMatchObject({ ok: false });
  });

  it('does not leave validator bookkeeping in a schema that is also sent to the model', () => {
    const schema = structuredClone(orderStatus);
    validateArguments(schema, { order_number: 'x' });
    expect(JSON.parse(JSON.stringify(schema))).toEqual(orderStatus);
  });

  it('blames an unusable schema on the tool, without throwing', () => {
    const result = validateArguments({ $ref: '#/$defs/missing' }, {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors[0]).toMatch(/^the tool's parameter schema cannot be used/);
  });
});
