// PostgREST's error responses: always {code, details, hint, message} with all four keys, the
// status PostgREST maps each code to, and nothing about the stand-in's own internals.

export interface ErrorBody {
  code: string;
  /** Text, except for PGRST201 whose details list the candidate relationships. */
  details: unknown;
  hint: string | null;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { code: this.code, details: this.details, hint: this.hint, message: this.message };
  }
}

/** PGRST100: the query string does not follow PostgREST's grammar. */
export const parseError = (message: string, details: string | null = null) =>
  new ApiError(400, 'PGRST100', message, details);

/** PGRST102: the request body is not what the endpoint accepts. */
export const bodyError = (message: string, details: string | null = null) =>
  new ApiError(400, 'PGRST102', message, details);

export const columnNotFound = (table: string, column: string) =>
  new ApiError(400, '42703', `column ${table}.${column} does not exist`);

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

const isPgError = (error: unknown): error is PgLikeError & { code: string } =>
  typeof error === 'object' &&
  error !== null &&
  typeof (error as PgLikeError).code === 'string' &&
  /^[0-9A-Z]{5}$/.test((error as PgLikeError).code as string);

// PostgREST's SQLSTATE → HTTP table (Error.hs), most specific first.
function statusOf(code: string, role: string): number {
  if (code === '42501') return role === 'anon' ? 401 : 403;
  const exact: Record<string, number> = {
    '23503': 409,
    '23505': 409,
    '25006': 405,
    P0001: 400,
    '42883': 404,
    '42P01': 404,
    '42P17': 500,
    '57P01': 503,
  };
  if (exact[code] !== undefined) return exact[code];
  if (code.startsWith('PT')) {
    const status = Number(code.slice(2));
    return Number.isInteger(status) && status >= 100 && status <= 599 ? status : 500;
  }
  const byClass: Record<string, number> = {
    '08': 503,
    '09': 500,
    '0L': 403,
    '0P': 403,
    '25': 500,
    '28': 403,
    '2D': 500,
    '38': 500,
    '39': 500,
    '3B': 500,
    '40': 500,
    '53': 503,
    '54': 500,
    '55': 500,
    '57': 500,
    '58': 500,
    F0: 500,
    HV: 500,
    P0: 500,
    XX: 500,
  };
  return byClass[code.slice(0, 2)] ?? 400;
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Turns whatever a request raised into PostgREST's answer. Postgres errors keep their SQLSTATE,
 * message, detail and hint; anything else is reported without its text, which could reveal how
 * the stand-in is built.
 */
export function toApiError(error: unknown, role: string): { error: ApiError; unexpected: boolean } {
  if (error instanceof ApiError) return { error, unexpected: false };
  if (isPgError(error)) {
    const status = statusOf(error.code, role);
    const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
    return {
      error: new ApiError(
        status,
        error.code,
        text(error.message) ?? 'database error',
        text(error.detail),
        text(error.hint),
        headers,
      ),
      unexpected: false,
    };
  }
  return {
    error: new ApiError(500, 'PGRST000', 'An unexpected error occurred while serving the request'),
    unexpected: true,
  };
}

export function errorResponse(error: ApiError, extraHeaders: HeadersInit = {}): Response {
  const headers = new Headers(extraHeaders);
  headers.set('Content-Type', 'application/json; charset=utf-8');
  headers.set('Proxy-Status', `PostgREST; error=${error.code}`);
  for (const [name, value] of Object.entries(error.headers)) headers.set(name, value);
  return new Response(JSON.stringify(error.body()), { status: error.status, headers });
}
