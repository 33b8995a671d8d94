import type { Logger } from '../services.ts';

// GoTrue's error bodies. A client that sends X-Supabase-Api-Version: 2024-01-01 (auth-js always
// does) gets {code, message} and the header echoed back; auth-js reads `code` only when that echo
// is present. Older clients get the legacy {code: <status>, error_code, msg}.

export interface WeakPassword {
  message: string;
  reasons: string[];
}

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly weakPassword?: WeakPassword,
  ) {
    super(message);
  }
}

/** The OAuth-style answer GoTrue gives a few token-endpoint mistakes: {error, error_description}. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export const badRequest = (code: string, message: string) => new AuthError(400, code, message);
export const unprocessable = (code: string, message: string) => new AuthError(422, code, message);
export const forbidden = (code: string, message: string) => new AuthError(403, code, message);

export const API_VERSION_HEADER = 'X-Supabase-Api-Version';
const API_VERSION_2024 = '2024-01-01';

/** The API version the request asked for, when it is 2024-01-01 or later. */
function requestedApiVersion(request: Request): string | null {
  const value = request.headers.get(API_VERSION_HEADER);
  if (!value || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return null;
  const date = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) return null;
  return value >= API_VERSION_2024 ? API_VERSION_2024 : null;
}

export function errorResponse(error: unknown, request: Request, log: Logger): Response {
  const version = requestedApiVersion(request);
  const headers = new Headers(version ? { [API_VERSION_HEADER]: version } : {});

  if (error instanceof OAuthError) {
    return Response.json(
      { error: error.error, error_description: error.description },
      { status: 400, headers },
    );
  }

  const known =
    error instanceof AuthError
      ? error
      : new AuthError(500, 'unexpected_failure', 'Internal Server Error');
  if (!(error instanceof AuthError)) log('auth: request failed', error);

  headers.set('x-sb-error-code', known.code);
  const weak = known.weakPassword ? { weak_password: { reasons: known.weakPassword.reasons } } : {};
  const body = version
    ? { code: known.code, message: known.message, ...weak }
    : { code: known.status, error_code: known.code, msg: known.message, ...weak };
  return Response.json(body, { status: known.status, headers });
}
