import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { loggable } from '../db/loggable.ts';

/** Every error a Parley function returns has this shape, whatever went wrong. */
export type ErrorBody = { error: { code: string; message: string } };

export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function errorResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
) {
  return c.json<ErrorBody>({ error: { code, message } }, status);
}

/** For app.notFound: unknown routes answer in the same JSON shape as everything else. */
export function notFound(c: Context) {
  return errorResponse(
    c,
    404,
    'not_found',
    `No route for ${c.req.method} ${new URL(c.req.url).pathname}`,
  );
}

/**
 * For app.onError: known errors keep their status; anything else is logged and answered with a
 * generic 500 that reveals nothing of the internals.
 */
export function onError(log: (message: string, error: unknown) => void = console.error) {
  return (error: Error, c: Context) => {
    if (error instanceof HttpError)
      return errorResponse(c, error.status, error.code, error.message);
    log('unhandled error', loggable(error));
    return errorResponse(c, 500, 'internal_error', 'Something went wrong on our side.');
  };
}
