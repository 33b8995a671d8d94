import { type OutputUnit, type Schema, type SchemaDraft, Validator } from '@cfworker/json-schema';

/**
 * Checks the arguments a model chose for a tool against the tool's JSON schema before anything
 * is sent to the tenant's webhook. The messages go back to the model so it can correct itself,
 * so they name the argument and say what was expected in plain words.
 */

export type ArgumentsValidation = { ok: true } | { ok: false; errors: string[] };

const DRAFTS: Record<string, SchemaDraft> = {
  'http://json-schema.org/draft-04/schema': '4',
  'http://json-schema.org/draft-07/schema': '7',
  'https://json-schema.org/draft/2019-09/schema': '2019-09',
  'https://json-schema.org/draft/2020-12/schema': '2020-12',
};

// Validators keep lookup tables built from the schema; tool schemas are reused for every call.
const validators = new WeakMap<object, Validator>();

function validatorFor(schema: Schema, draft: SchemaDraft | undefined): Validator {
  const cached = draft === undefined ? validators.get(schema) : undefined;
  if (cached) return cached;
  const declared = typeof schema.$schema === 'string' ? schema.$schema.replace(/#$/, '') : '';
  // Collect every error, not just the first, so the model can fix all of them in one round.
  const validator = new Validator(schema, draft ?? DRAFTS[declared] ?? '2020-12', false);
  if (draft === undefined) validators.set(schema, validator);
  return validator;
}

export function validateArguments(
  /** The tool's parameters, as stored (tenant_tools.parameters): any JSON Schema object. */
  schema: Readonly<Record<string, unknown>> | boolean,
  args: unknown,
  options: { draft?: SchemaDraft } = {},
): ArgumentsValidation {
  if (args === undefined) return { ok: false, errors: ['arguments are missing'] };
  let units: OutputUnit[];
  try {
    const validator =
      typeof schema === 'boolean'
        ? new Validator(schema, options.draft ?? '2020-12', false)
        : validatorFor(schema as Schema, options.draft);
    const result = validator.validate(args);
    if (result.valid) return { ok: true };
    units = result.errors;
  } catch (error) {
    // An unusable schema (an unresolvable $ref, say) is the tool's fault, not the model's, but
    // the call still cannot go ahead.
    return {
      ok: false,
      errors: [`the tool's parameter schema cannot be used: ${(error as Error).message}`],
    };
  }
  const errors = describe(units, typeof schema === 'boolean' ? {} : (schema as Schema));
  return { ok: false, errors: errors.length > 0 ? errors : ['arguments do not match the schema'] };
}

// Keywords whose error only says "something below failed": the errors below say what.
const SUMMARIES = new Set([
  'properties',
  'patternProperties',
  'items',
  'prefixItems',
  'additionalItems',
  'contains',
  'allOf',
  '$ref',
  '$recursiveRef',
  'dependentSchemas',
  'dependencies',
  'propertyNames',
  'unevaluatedItems',
  'then',
  'else',
]);

function describe(units: OutputUnit[], root: Schema): string[] {
  const messages: string[] = [];
  // additionalProperties: false reports once for the object and again, as a bare "false"
  // schema, for the property; the first says it better.
  const rejectedProperties = new Set<string>();
  for (const unit of units) {
    if (SUMMARIES.has(unit.keyword)) continue;
    if (unit.keyword === 'false' && rejectedProperties.has(unit.instanceLocation)) continue;
    const message = describeUnit(unit, root, rejectedProperties);
    if (message && !messages.includes(message)) messages.push(message);
  }
  return messages;
}

function describeUnit(unit: OutputUnit, root: Schema, rejected: Set<string>): string | null {
  const at = readablePath(unit.instanceLocation);
  const value = keywordValue(root, unit.keywordLocation);
  const fallback = `${at}: ${unit.error.replace(/\.$/, '')}`;
  switch (unit.keyword) {
    case 'required': {
      const name = /property "(.*)"/.exec(unit.error)?.[1];
      if (name === undefined) return fallback;
      return `${joinPath(at, name)}: is required`;
    }
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const name = /Property "(.*)" does not match/.exec(unit.error)?.[1];
      if (name === undefined) return fallback;
      rejected.add(`${unit.instanceLocation}/${encodeSegment(name)}`);
      const allowed = Object.keys(
        (keywordValue(root, unit.keywordLocation.replace(/\/[^/]+$/, '/properties')) as
          | object
          | undefined) ?? {},
      );
      const hint = allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : '';
      return `${joinPath(at, name)}: is not an accepted argument${hint}`;
    }
    case 'false':
      return `${at}: is not allowed`;
    case 'type': {
      const expected = Array.isArray(value) ? value : [value];
      const actual = /Instance type "(\w+)"/.exec(unit.error)?.[1];
      if (expected.some((t) => typeof t !== 'string')) return fallback;
      const got = actual ? `, got ${article(actual)}` : '';
      return `${at}: must be ${expected.map((t) => article(t as string)).join(' or ')}${got}`;
    }
    case 'enum':
      return Array.isArray(value)
        ? `${at}: must be one of ${value.map((v) => JSON.stringify(v)).join(', ')}`
        : fallback;
    case 'const':
      return value === undefined ? fallback : `${at}: must be ${JSON.stringify(value)}`;
    case 'pattern':
      return typeof value === 'string' ? `${at}: must match the pattern ${value}` : fallback;
    case 'format':
      return typeof value === 'string' ? `${at}: must be ${formatName(value)}` : fallback;
    case 'minLength':
      return typeof value === 'number'
        ? `${at}: must be at least ${plural(value, 'character')} long`
        : fallback;
    case 'maxLength':
      return typeof value === 'number'
        ? `${at}: must be at most ${plural(value, 'character')} long`
        : fallback;
    case 'minimum':
      return typeof value === 'number' ? `${at}: must be at least ${value}` : fallback;
    case 'maximum':
      return typeof value === 'number' ? `${at}: must be at most ${value}` : fallback;
    case 'exclusiveMinimum':
      return typeof value === 'number' ? `${at}: must be greater than ${value}` : fallback;
    case 'exclusiveMaximum':
      return typeof value === 'number' ? `${at}: must be less than ${value}` : fallback;
    case 'multipleOf':
      return typeof value === 'number' ? `${at}: must be a multiple of ${value}` : fallback;
    case 'minItems':
      return typeof value === 'number'
        ? `${at}: must have at least ${plural(value, 'item')}`
        : fallback;
    case 'maxItems':
      return typeof value === 'number'
        ? `${at}: must have at most ${plural(value, 'item')}`
        : fallback;
    case 'uniqueItems':
      return `${at}: must not contain duplicates`;
    case 'minProperties':
      return typeof value === 'number'
        ? `${at}: must have at least ${plural(value, 'property', 'properties')}`
        : fallback;
    case 'maxProperties':
      return typeof value === 'number'
        ? `${at}: must have at most ${plural(value, 'property', 'properties')}`
        : fallback;
    case 'anyOf':
      return `${at}: must match one of the accepted forms`;
    case 'oneOf':
      return `${at}: must match exactly one of the accepted forms`;
    case 'not':
      return `${at}: is not an accepted value`;
    default:
      return fallback;
  }
}

const FORMATS: Record<string, string> = {
  date: 'a date (YYYY-MM-DD)',
  time: 'a time (HH:MM:SS with a time zone)',
  'date-time': 'a date and time (RFC 3339, e.g. 2026-05-01T14:30:00Z)',
  duration: 'an ISO 8601 duration (e.g. P1D)',
  email: 'an email address',
  uri: 'an absolute URI',
  'uri-reference': 'a URI reference',
  uuid: 'a UUID',
  hostname: 'a host name',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  regex: 'a regular expression',
};

function formatName(format: string): string {
  return FORMATS[format] ?? `in the format "${format}"`;
}

function article(type: string): string {
  if (type === 'null') return 'null';
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** '#/items/0/name' → 'items[0].name'; the root reads as 'arguments'. */
function readablePath(pointer: string): string {
  const segments = pointerSegments(pointer);
  if (segments.length === 0) return 'arguments';
  return segments.reduce(
    (path, segment, i) =>
      /^\d+$/.test(segment) ? `${path}[${segment}]` : i === 0 ? segment : `${path}.${segment}`,
    '',
  );
}

function joinPath(at: string, name: string): string {
  return at === 'arguments' ? name : `${at}.${name}`;
}

function pointerSegments(pointer: string): string[] {
  return pointer
    .replace(/^#/, '')
    .split('/')
    .slice(1)
    .map((s) => decodeURIComponent(s).replace(/~1/g, '/').replace(/~0/g, '~'));
}

function encodeSegment(segment: string): string {
  return encodeURI(segment.replace(/~/g, '~0').replace(/\//g, '~1')).replace(/#/g, '%23');
}

/**
 * The keyword's value, found by walking the error's keyword location through the root schema.
 * Local $refs are followed; anything else gives undefined and the library's own message is used.
 */
function keywordValue(root: Schema, keywordLocation: string): unknown {
  let node: unknown = root;
  for (const segment of pointerSegments(keywordLocation)) {
    if (node === null || typeof node !== 'object') return undefined;
    if (segment === '$ref') {
      const ref = (node as Schema).$ref;
      if (typeof ref !== 'string' || !ref.startsWith('#')) return undefined;
      node = keywordValue(root, ref);
      continue;
    }
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}
