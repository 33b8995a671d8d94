import type { Context, MiddlewareHandler, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { nulPath } from '../text/nul.ts';
import { errorResponse, HttpError } from './errors.ts';

/**
 * Every function's input guard, mounted before its routes: a body over `maxSize` bytes is refused
 * before it is read whole (413), and U+0000 anywhere in the query or in a JSON body (a value or a
 * key, at any depth) is refused with 400 before any handler can carry it to Postgres, which stores
 * it in neither text nor jsonb. Bodies that are not JSON are left to the handler to refuse.
 */
export function guardInput(maxSize: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize,
    onError: (c) =>
      errorResponse(
        c,
        413,
        'payload_too_large',
        `The request body is larger than ${maxSize} bytes.`,
      ),
  });
  return (c, next) =>
    limit(c, async () => {
      await refuseNul(c);
      await next();
    });
}

const NOT_JSON = /^\s*(multipart\/|application\/(octet-stream|x-www-form-urlencoded))/i;

async function refuseNul(c: Context) {
  for (const [name, value] of new URL(c.req.url).searchParams) {
    if (name.includes('\0') || value.includes('\0')) throw nulError(name.replaceAll('\0', ''));
  }
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return;
  if (NOT_JSON.test(c.req.header('content-type') ?? '')) return;
  // Read as text: Hono keeps it, so a handler verifying a signature over the raw body still can.
  const text = await c.req.text();
  if (!text.includes('\\u0000') && !text.includes('\0')) return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return;
  }
  const at = nulPath(value);
  if (at !== null) throw nulError(at);
}

const nulError = (at: string) =>
  new HttpError(400, 'invalid_request', `${at}: must not contain the character U+0000.`);

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    .join('; ');
}

/**
 * Parses and validates a JSON body; every failure is a 400 in the shared error shape. With
 * `emptyAs`, an empty body stands for that value; anything else must still be JSON.
 */
export async function jsonBody<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: { emptyAs?: unknown } = {},
): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = 'emptyAs' in options && text.trim() === '' ? options.emptyAs : JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', describe(parsed.error));
  return parsed.data;
}

export function queryParams<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new HttpError(400, 'invalid_request', describe(parsed.error));
  return parsed.data;
}

export type Middleware = (c: Context, next: Next) => Promise<Response | undefined>;
