import fc from 'fast-check';

// Hostile requests for every public endpoint of the stack: the chat, worker, n8n-callback and
// health functions and the Auth API. Each generated request knows whether it is certainly invalid
// (malformed or non-object JSON, a wrong type, a missing required field, a NUL byte, an oversized
// string, a wrong method): those must be refused with a 4xx. The rest (odd but well-formed
// unicode) may be accepted. Nothing may answer 5xx, and every refusal must come in the contract's
// shape: {error:{code,message}} from Parley's functions, GoTrue's bodies from Auth.
// Shared by tests/fuzz (asserts) and bench/chaos.ts (counts).

export interface FuzzTarget {
  url: string;
  anonKey: string;
  serviceKey: string;
  /** A signed-in visitor with a conversation and one message in it. */
  visitorToken: string;
  widgetKey: string;
  conversationId: string;
  messageId: string;
}

export type Contract = 'function' | 'auth';

export interface FuzzRequest {
  /** Endpoint and kind of mischief, for reports. */
  label: string;
  method: string;
  /** Path under the stack's URL, query included. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Certainly invalid: anything but a 4xx is a defect. */
  invalid: boolean;
  contract: Contract;
}

export interface FuzzResponse {
  status: number;
  text: string;
  json: unknown;
}

type Kind = 'uuid' | 'text' | 'bool' | 'int' | 'strings';

interface Field {
  kind: Kind;
  required: boolean;
  /** A valid value, used when another field is the one being broken. */
  valid: unknown;
}

interface JsonEndpoint {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  contract: Contract;
  fields: Record<string, Field>;
  /** A missing required field is certainly invalid (false where GoTrue reads absence as a choice). */
  missingIsInvalid?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Texts that have broken parsers, drivers and databases: NUL, lone surrogates, RTL marks,
// combining characters, emoji sequences, and a Postgres escape or two.
const NASTY_TEXT = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  'e\u0301\u0301\u0301',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  "'; drop table messages; --",
  '\\x00\\u0000%00',
  '\r\n\t\v\f',
  '\ufeff\u200b',
];

const nul = fc
  .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
  .map(([before, after]) => `${before}\u0000${after}`);

// Well-formed unicode, including astral and combining characters, never a lone surrogate.
const unicodeText = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 80 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000')),
  fc.constantFrom(...NASTY_TEXT.filter((s) => !s.includes('\u0000') && !/\p{Cs}/u.test(s))),
);

const lonelySurrogate = fc.constantFrom('\ud800', 'x\udfffy', '\udbff\udbff');

const HUGE_SIZES = [70_000, 300_000, 1_200_000] as const;
const huge = fc.constantFrom(...HUGE_SIZES).map((n) => 'x'.repeat(n));

const jsonScalar = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);
const jsonValue = fc.oneof(
  jsonScalar,
  fc.string({ maxLength: 30 }),
  fc.array(jsonScalar, { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), jsonScalar, { maxKeys: 3 }),
);

/** A value of any type but the field's, or of its type but out of its domain. */
function wrongValue(kind: Kind): fc.Arbitrary<unknown> {
  const notString = fc.oneof(
    jsonScalar.filter((v) => v !== null),
    fc.array(jsonScalar),
    fc.object(),
  );
  switch (kind) {
    case 'uuid':
      return fc.oneof(
        notString,
        fc.string({ maxLength: 40 }).filter((s) => !UUID.test(s)),
      );
    case 'text':
      return notString;
    case 'bool':
      return fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.array(fc.boolean()));
    case 'int':
      return fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.constantFrom(1.5, -7, 1e30, true),
        fc.array(fc.integer()),
      );
    case 'strings':
      return fc.oneof(fc.string({ maxLength: 10 }), fc.array(fc.integer(), { minLength: 1 }));
  }
}

const validBody = (endpoint: JsonEndpoint) =>
  Object.fromEntries(Object.entries(endpoint.fields).map(([name, f]) => [name, f.valid]));

function request(
  endpoint: JsonEndpoint,
  mischief: string,
  body: string | undefined,
  invalid: boolean,
  extra: { method?: string; path?: string } = {},
): FuzzRequest {
  return {
    label: `${endpoint.name} ${mischief}`,
    method: extra.method ?? endpoint.method,
    path: extra.path ?? endpoint.path,
    headers: endpoint.headers,
    ...(body === undefined ? {} : { body }),
    invalid,
    contract: endpoint.contract,
  };
}

/** Every kind of mischief against one JSON endpoint. */
function jsonEndpoint(endpoint: JsonEndpoint): fc.Arbitrary<FuzzRequest> {
  const names = Object.keys(endpoint.fields);
  const textFields = names.filter((n) => endpoint.fields[n]?.kind === 'text');
  const listFields = names.filter((n) => endpoint.fields[n]?.kind === 'strings');
  const required = names.filter((n) => endpoint.fields[n]?.required);
  const valid = JSON.stringify(validBody(endpoint));
  const withField = (name: string, value: unknown) =>
    JSON.stringify({ ...validBody(endpoint), [name]: value });

  const options: fc.Arbitrary<FuzzRequest>[] = [
    // Cut short or with a stray character: never parseable.
    fc
      .tuple(fc.nat({ max: valid.length - 1 }), fc.constantFrom('', '}', '{', ',', '"', '\u0000'))
      .map(([cut, stray]) => `${valid.slice(0, cut)}${stray}`)
      .filter((text) => {
        try {
          JSON.parse(text);
          return false;
        } catch {
          return true;
        }
      })
      .map((text) => request(endpoint, 'malformed JSON', text, true)),
    fc
      .oneof(fc.array(jsonValue, { maxLength: 3 }), jsonScalar, fc.string({ maxLength: 20 }))
      .map((value) => request(endpoint, 'non-object JSON', JSON.stringify(value), true)),
    fc
      .constantFrom('GET', 'PUT', 'PATCH', 'DELETE')
      .filter((method) => method !== endpoint.method)
      .map((method) => request(endpoint, `wrong method ${method}`, undefined, true, { method })),
    fc
      .constantFrom(...names)
      .chain((name) =>
        wrongValue(endpoint.fields[name]?.kind ?? 'text').map((value) =>
          request(endpoint, `wrong type in ${name}`, withField(name, value), true),
        ),
      ),
  ];
  if (required.length > 0 && endpoint.missingIsInvalid !== false) {
    options.push(
      fc.subarray(required, { minLength: 1 }).map((missing) => {
        const body = validBody(endpoint);
        for (const name of missing) delete body[name];
        return request(endpoint, `missing ${missing.join(', ')}`, JSON.stringify(body), true);
      }),
    );
  }
  if (listFields.length > 0) {
    options.push(
      fc
        .tuple(fc.constantFrom(...listFields), nul)
        .map(([name, value]) =>
          request(endpoint, `NUL in ${name}`, withField(name, [value]), true),
        ),
    );
  }
  if (textFields.length > 0) {
    const text = fc.constantFrom(...textFields);
    options.push(
      fc
        .tuple(text, nul)
        .map(([name, value]) => request(endpoint, `NUL in ${name}`, withField(name, value), true)),
      fc
        .tuple(text, lonelySurrogate)
        .map(([name, value]) =>
          request(endpoint, `lone surrogate in ${name}`, withField(name, value), false),
        ),
      fc
        .tuple(text, huge)
        .map(([name, value]) => request(endpoint, `huge ${name}`, withField(name, value), true)),
      fc
        .tuple(text, unicodeText)
        .map(([name, value]) =>
          request(endpoint, `unicode in ${name}`, withField(name, value), false),
        ),
    );
  }
  return fc.oneof(...options);
}

/** GET endpoints: broken query parameters and wrong methods. */
function queryEndpoint(
  name: string,
  path: string,
  headers: Record<string, string>,
  params: Record<string, { kind: Kind; valid: string }>,
): fc.Arbitrary<FuzzRequest> {
  const keys = Object.keys(params);
  const query = (values: Record<string, string>) =>
    `${path}?${new URLSearchParams(values).toString()}`;
  const validValues = Object.fromEntries(keys.map((k) => [k, params[k]?.valid ?? '']));
  const base = { headers, contract: 'function' as const };
  const broken = (kind: Kind): fc.Arbitrary<string> =>
    kind === 'uuid'
      ? fc.string({ maxLength: 40 }).filter((s) => !UUID.test(s))
      : kind === 'int'
        ? fc.constantFrom('x', '1.5', '-1', '1e99', '')
        : fc.oneof(
            nul,
            huge.map((s) => s.slice(0, 10_000)),
          );
  return fc.oneof(
    fc.constantFrom(...keys).chain((key) =>
      broken(params[key]?.kind ?? 'text').map((value) => ({
        ...base,
        label: `${name} broken ${key}`,
        method: 'GET',
        path: query({ ...validValues, [key]: value }),
        invalid: true,
      })),
    ),
    fc.constantFrom(...keys).map((key) => {
      const values = { ...validValues };
      delete values[key];
      return {
        ...base,
        label: `${name} missing ${key}`,
        method: 'GET',
        path: query(values),
        invalid: key !== 'after' && key !== 'limit' && key !== 'locale',
      };
    }),
    fc.tuple(fc.constantFrom(...keys), unicodeText).map(([key, value]) => ({
      ...base,
      label: `${name} unicode ${key}`,
      method: 'GET',
      path: query({ ...validValues, [key]: value }),
      invalid: params[key]?.kind === 'uuid',
    })),
    fc.constantFrom('PUT', 'DELETE', 'PATCH').map((method) => ({
      ...base,
      label: `${name} wrong method ${method}`,
      method,
      path: query(validValues),
      body: '{}',
      invalid: true,
    })),
  );
}

const text = (valid: string, required = true): Field => ({ kind: 'text', required, valid });
const uuid = (valid: string): Field => ({ kind: 'uuid', required: true, valid });

/** A failing request reads as what was sent, without the tokens that make it long. */
const readable = (r: FuzzRequest): FuzzRequest =>
  Object.assign(r, {
    [fc.toStringMethod]: () =>
      `${r.label}: ${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(r.body?.slice(0, 300) ?? '')}`,
  });

/** One arbitrary per endpoint, named for reports. */
export function endpointArbitraries(t: FuzzTarget): Record<string, fc.Arbitrary<FuzzRequest>> {
  return Object.fromEntries(
    Object.entries(arbitraries(t)).map(([name, arbitrary]) => [name, arbitrary.map(readable)]),
  );
}

function arbitraries(t: FuzzTarget): Record<string, fc.Arbitrary<FuzzRequest>> {
  const visitor = {
    apikey: t.anonKey,
    authorization: `Bearer ${t.visitorToken}`,
    'content-type': 'application/json',
  };
  const service = {
    apikey: t.anonKey,
    authorization: `Bearer ${t.serviceKey}`,
    'content-type': 'application/json',
  };
  const gotrue = {
    apikey: t.anonKey,
    authorization: `Bearer ${t.anonKey}`,
    'content-type': 'application/json',
    'x-supabase-api-version': '2024-01-01',
  };
  const fn = (path: string) => `/functions/v1/${path}`;
  const chat = (name: string, method: string, path: string, fields: Record<string, Field>) =>
    jsonEndpoint({ name, method, path: fn(path), headers: visitor, contract: 'function', fields });

  return {
    'chat sessions': chat('POST /chat/sessions', 'POST', 'chat/sessions', {
      key: text(t.widgetKey),
      locale: text('en', false),
      page_url: text('https://shop.example/cart', false),
      new_conversation: { kind: 'bool', required: false, valid: false },
    }),
    'chat messages': chat('POST /chat/messages', 'POST', 'chat/messages', {
      conversation_id: uuid(t.conversationId),
      client_msg_id: text('fuzz'),
      content: text('Hello there'),
    }),
    'chat feedback': chat('POST /chat/feedback', 'POST', 'chat/feedback', {
      conversation_id: uuid(t.conversationId),
      csat: { kind: 'int', required: true, valid: 4 },
      comment: text('Thanks', false),
    }),
    'chat typing': chat('POST /chat/typing', 'POST', 'chat/typing', {
      conversation_id: uuid(t.conversationId),
      typing: { kind: 'bool', required: true, valid: true },
    }),
    'chat handoff': chat('POST /chat/handoff', 'POST', 'chat/handoff', {
      conversation_id: uuid(t.conversationId),
      reason: text('I want a person', false),
    }),
    'chat earlier conversations': chat('POST /chat/history', 'POST', 'chat/history', {
      key: text(t.widgetKey),
      conversation_id: { kind: 'uuid', required: false, valid: t.conversationId },
    }),
    // A visitor's token is refused whatever the body: Copilot is for the tenant's staff.
    copilot: jsonEndpoint({
      name: 'POST /copilot/suggest',
      method: 'POST',
      path: fn('copilot/suggest'),
      headers: visitor,
      contract: 'function',
      fields: { conversation_id: uuid(t.conversationId) },
    }).map((r) => ({ ...r, invalid: true })),
    'chat history': queryEndpoint('GET /chat/messages', fn('chat/messages'), visitor, {
      conversation_id: { kind: 'uuid', valid: t.conversationId },
      limit: { kind: 'int', valid: '20' },
      after: { kind: 'text', valid: '2026-01-01T00:00:00Z' },
    }),
    'chat config': queryEndpoint('GET /chat/config', fn('chat/config'), visitor, {
      key: { kind: 'text', valid: t.widgetKey },
      locale: { kind: 'text', valid: 'en' },
    }),
    worker: jsonEndpoint({
      name: 'POST /worker',
      method: 'POST',
      path: fn('worker'),
      headers: service,
      contract: 'function',
      fields: {
        max_jobs: { kind: 'int', required: false, valid: 1 },
        max_ms: { kind: 'int', required: false, valid: 200 },
        kinds: { kind: 'strings', required: false, valid: ['no_such_kind'] },
      },
    }),
    'n8n-callback': jsonEndpoint({
      name: 'POST /n8n-callback',
      method: 'POST',
      path: fn('n8n-callback'),
      // Unsigned or wrongly signed: refused whatever the body.
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_fuzz',
        'webhook-timestamp': '1',
        'webhook-signature': 'v1,AAAA',
      },
      contract: 'function',
      fields: {
        conversation_id: uuid(t.conversationId),
        reply: text('A reply nobody signed'),
        handoff: { kind: 'bool', required: false, valid: false },
      },
    }).map((r) => ({ ...r, invalid: true })),
    health: fc
      .tuple(
        fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'GET'),
        fc.constantFrom('', '/x', '/../chat', '/%00'),
      )
      .filter(([method, suffix]) => method !== 'GET' || suffix !== '')
      .map(([method, suffix]) => ({
        label: `${method} /health${suffix}`,
        method,
        path: fn(`health${suffix}`),
        headers: { 'content-type': 'application/json' },
        ...(method === 'GET' ? {} : { body: '{}' }),
        invalid: true,
        contract: 'function' as const,
      })),
    'unknown function': fc
      .constantFrom('nope', 'chat2', 'worker%00', '..%2Fsecrets', '%F0%9F%92%A5')
      .map((name) => ({
        label: `POST /functions/v1/${name}`,
        method: 'POST',
        path: fn(name),
        headers: visitor,
        body: '{}',
        invalid: true,
        contract: 'function' as const,
      })),
    'auth signup': jsonEndpoint({
      name: 'POST /auth/v1/signup',
      method: 'POST',
      path: '/auth/v1/signup',
      headers: gotrue,
      contract: 'auth',
      // Without an email it is an anonymous sign-in, not a mistake.
      missingIsInvalid: false,
      fields: {
        email: text('fuzz@example.test'),
        password: text('not-Valid-but-long-1'),
      },
    }).map((r) =>
      // A well-formed unicode address is still no address: GoTrue refuses it.
      r.label.includes('unicode in email') ? { ...r, invalid: true } : r,
    ),
    'auth password grant': jsonEndpoint({
      name: 'POST /auth/v1/token?grant_type=password',
      method: 'POST',
      path: '/auth/v1/token?grant_type=password',
      headers: gotrue,
      contract: 'auth',
      fields: { email: text('nobody@example.test'), password: text('wrong-password-1') },
    }).map((r) => ({ ...r, invalid: true })),
    'auth refresh grant': jsonEndpoint({
      name: 'POST /auth/v1/token?grant_type=refresh_token',
      method: 'POST',
      path: '/auth/v1/token?grant_type=refresh_token',
      headers: gotrue,
      contract: 'auth',
      fields: { refresh_token: text('not-a-refresh-token') },
    }).map((r) => ({ ...r, invalid: true })),
    'auth user': jsonEndpoint({
      name: 'PUT /auth/v1/user',
      method: 'PUT',
      path: '/auth/v1/user',
      headers: { ...gotrue, authorization: `Bearer ${t.visitorToken}` },
      contract: 'auth',
      missingIsInvalid: false,
      fields: { password: text('short') },
      // GET /user is a route of its own, and a unicode password may well be a strong one.
    }).map((r) => ({
      ...r,
      invalid: !r.label.includes('wrong method GET') && !r.label.includes('unicode'),
    })),
  };
}

export async function send(url: string, r: FuzzRequest): Promise<FuzzResponse> {
  const res = await fetch(`${url}${r.path}`, {
    method: r.method,
    headers: r.headers,
    ...(r.body === undefined || r.method === 'GET' ? {} : { body: r.body }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

const isText = (value: unknown) => typeof value === 'string' && value.length > 0;

function shaped(r: FuzzRequest, res: FuzzResponse): boolean {
  const body = res.json as Record<string, unknown> | undefined;
  if (r.contract === 'auth') {
    // GoTrue: {code, message} for API version 2024-01-01, the OAuth pair on the token endpoint,
    // and an empty 405 from its router for a method a route does not have.
    if (res.status === 405) return res.text === '';
    return (
      (!!body && isText(body.code) && isText(body.message)) ||
      (!!body && isText(body.error) && typeof body.error_description === 'string')
    );
  }
  const error = body?.error as Record<string, unknown> | undefined;
  if (error && isText(error.code) && isText(error.message)) return true;
  // Supabase's gateway refuses a missing or bad JWT before the function runs: {msg}.
  return res.status === 401 && !!body && isText(body.msg);
}

/** What is wrong with this answer to this request, or null. */
export function violation(r: FuzzRequest, res: FuzzResponse): string | null {
  if (res.status >= 500) return `${r.label}: ${res.status} ${res.text.slice(0, 200)}`;
  if (r.invalid && res.status < 400) {
    return `${r.label}: accepted with ${res.status} ${res.text.slice(0, 200)}`;
  }
  if (res.status >= 400 && !shaped(r, res)) {
    return `${r.label}: ${res.status} in the wrong shape: ${res.text.slice(0, 200)}`;
  }
  return null;
}

export interface FuzzFigures {
  sent: number;
  status2xx: number;
  status4xx: number;
  status5xx: number;
  violations: string[];
}

/** Sends `runs` generated requests per endpoint (a fixed seed: the same run every time). */
export async function fuzzAll(t: FuzzTarget, runs: number, seed = 20261202): Promise<FuzzFigures> {
  const figures: FuzzFigures = {
    sent: 0,
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    violations: [],
  };
  for (const [name, arbitrary] of Object.entries(endpointArbitraries(t))) {
    const requests = fc.sample(arbitrary, { numRuns: runs, seed: seed + name.length });
    for (const r of requests) {
      const res = await send(t.url, r);
      figures.sent++;
      if (res.status >= 500) figures.status5xx++;
      else if (res.status >= 400) figures.status4xx++;
      else figures.status2xx++;
      const problem = violation(r, res);
      if (problem) figures.violations.push(problem);
    }
  }
  return figures;
}
