import { HttpError } from './errors.ts';

// A refusal raised by Parley's SQL, said the same way over HTTP: the SQL functions already write
// their messages for people, so only the status and a stable code are added here. Anything else
// is not a refusal and is rethrown (a 500 that reveals nothing).

interface PgError {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
}

export function refusalOf(error: unknown): HttpError | null {
  const { code, message, hint } = (error ?? {}) as PgError;
  const text = typeof message === 'string' ? message : 'Refused.';
  if (typeof hint === 'string' && hint.startsWith('quota_exceeded:')) {
    return new HttpError(403, hint.replace(':', '_'), text);
  }
  switch (code) {
    case '42501':
      return new HttpError(403, 'forbidden', text);
    case '22023':
    case '22P02':
      return new HttpError(400, 'invalid_request', text);
    case '23505':
      return new HttpError(409, 'conflict', text);
    case 'P0002':
      return new HttpError(404, typeof hint === 'string' && hint ? hint : 'not_found', text);
    default:
      return null;
  }
}

/** Runs a query whose SQL may refuse, turning its refusal into the matching 4xx. */
export async function orRefusal<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw refusalOf(error) ?? error;
  }
}
