import type { Context, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { errorResponse, HttpError } from './errors.ts';

/** Bodies over the limit are refused before they are read whole. */
export const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: (c) =>
      errorResponse(
        c,
        413,
        'payload_too_large',
        `The request body is larger than ${maxSize} bytes.`,
      ),
  });

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`)
    .join('; ');
}

/** Parses and validates a JSON body; every failure is a 400 in the shared error shape. */
export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
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
