import type { z } from 'zod';
import { API_VERSION_HEADER, AuthError, badRequest } from './errors.ts';

// Request and response plumbing shared by the handlers: CORS as Supabase's gateway answers it (the
// widget and the admin SPA call from other origins), and JSON bodies checked against a schema.

const DEFAULT_ALLOWED_HEADERS = [
  'authorization',
  'apikey',
  'content-type',
  'x-client-info',
  API_VERSION_HEADER,
].join(', ');

// Without the exposed version header a browser hides it, and auth-js would lose the error codes.
const EXPOSED_HEADERS = [API_VERSION_HEADER, 'x-sb-error-code', 'X-Total-Count', 'Link'].join(', ');

export function withCors(response: Response): Response {
  response.headers.set('Access-Control-Allow-Origin', '*');
  response.headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  return response;
}

export function preflight(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      // Echoing what the browser asks for, as Kong's cors plugin does by default.
      'Access-Control-Allow-Headers':
        request.headers.get('access-control-request-headers') ?? DEFAULT_ALLOWED_HEADERS,
      'Access-Control-Max-Age': '3600',
    },
  });
}

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

/** GoTrue refuses bodies over 1 MiB. */
const MAX_BODY_BYTES = 1 << 20;

// Valid JSON that Postgres would still refuse, or that would exhaust a stack on the way there.
const UNPAIRED_SURROGATE = /\p{Cs}/u;
const MAX_DEPTH = 64;

function unstorable(value: unknown, depth = 0): string | null {
  if (depth > MAX_DEPTH) return `nested deeper than ${MAX_DEPTH} levels`;
  if (typeof value === 'string') {
    return value.includes('\u0000') || UNPAIRED_SURROGATE.test(value)
      ? 'NUL characters and unpaired surrogates are not allowed'
      : null;
  }
  if (!value || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const problem = unstorable(key, depth + 1) ?? unstorable(item, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) =>
      issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    )
    .join('; ');
}

/** The JSON body, checked against the schema; anything malformed is GoTrue's 400 bad_json. */
export async function readBody<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<z.output<S>> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  const text = declared > MAX_BODY_BYTES ? null : await request.text();
  if (text === null || new TextEncoder().encode(text).length > MAX_BODY_BYTES) {
    throw new AuthError(
      413,
      'request_entity_too_large',
      `Request body too large (max ${MAX_BODY_BYTES} bytes)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw badRequest(
      'bad_json',
      `Could not parse request body as JSON: ${(error as Error).message}`,
    );
  }
  const problem = unstorable(raw);
  if (problem) throw badRequest('bad_json', `Could not parse request body as JSON: ${problem}`);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw badRequest(
      'bad_json',
      `Could not parse request body as JSON: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}
