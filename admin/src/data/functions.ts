import { supabase } from './client.ts';

// Parley's own functions, for what the Data API cannot do (test calls, playground sessions). Same
// wiring as supabase-js's functions client: the publishable key as apikey, the staff session's
// token as bearer; errors come back in Parley's {error: {code, message}} shape and are thrown with
// their message, for people.

export class FunctionError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * POSTs `body` (or PUTs it, or GETs when it is undefined) to a function. `token` replaces the staff
 * session's: the playground speaks to the chat API as its own visitor.
 */
export async function callFunction<T>(
  path: string,
  body: unknown,
  options: { token?: string; method?: 'POST' | 'PUT' } = {},
): Promise<T> {
  const db = supabase();
  let response: Response;
  try {
    response = await fetch(`${db.url}/functions/v1/${path}`, {
      method: body === undefined ? 'GET' : (options.method ?? 'POST'),
      headers: {
        apikey: db.key,
        Authorization: `Bearer ${options.token ?? (await db.accessToken())}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new FunctionError(0, 'network', (error as Error).message);
  }
  const payload = (await response.json().catch(() => null)) as
    | (T & { error?: { code?: string; message?: string } })
    | null;
  if (!response.ok) {
    const error = payload?.error;
    throw new FunctionError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `HTTP ${response.status}`,
    );
  }
  return payload as T;
}
