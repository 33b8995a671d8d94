import type { Logger } from '../services.ts';

// Storage's error bodies: {statusCode, code, error, message}. The logical code travels in
// statusCode while the HTTP status stays 400 (500 for server faults), which is what storage-js
// and apps written against Supabase look at. A few answers keep their own HTTP status.

export class StorageError extends Error {
  constructor(
    /** Storage's ErrorCode, e.g. NoSuchKey. */
    readonly code: string,
    /** The logical status sent as a string in the body. */
    readonly statusCode: number,
    /** The legacy label, e.g. "not_found". */
    readonly label: string,
    message: string,
    /** HTTP status when it is not the usual 400/500. */
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export const errors = {
  noSuchBucket: () => new StorageError('NoSuchBucket', 404, 'Bucket not found', 'Bucket not found'),
  noSuchKey: () => new StorageError('NoSuchKey', 404, 'not_found', 'Object not found'),
  keyAlreadyExists: () =>
    new StorageError('KeyAlreadyExists', 409, 'Duplicate', 'The resource already exists'),
  bucketAlreadyExists: () =>
    new StorageError('BucketAlreadyExists', 409, 'Duplicate', 'The resource already exists'),
  accessDenied: (message = 'new row violates row-level security policy') =>
    new StorageError('AccessDenied', 403, 'Unauthorized', message),
  /** Role enforcement is the one refusal sent with HTTP 403 itself. */
  invalidRole: () =>
    new StorageError('AccessDenied', 403, 'Unauthorized', 'Access denied: Invalid role', 403),
  entityTooLarge: () =>
    new StorageError(
      'EntityTooLarge',
      413,
      'Payload too large',
      'The object exceeded the maximum allowed size',
    ),
  invalidMimeType: (mimeType: string) =>
    new StorageError(
      'InvalidMimeType',
      415,
      'invalid_mime_type',
      `mime type ${mimeType} is not supported`,
    ),
  invalidKey: (key: string) =>
    new StorageError('InvalidKey', 400, 'Invalid Input', `Invalid key: ${key}`),
  invalidBucketName: () =>
    new StorageError('InvalidBucketName', 400, 'Invalid Input', 'Bucket name invalid'),
  resourceNotEmpty: () =>
    new StorageError(
      'ResourceNotEmpty',
      409,
      'Conflict',
      'The bucket you tried to delete is not empty',
    ),
  invalidJwt: (message: string) => new StorageError('InvalidJWT', 400, 'Invalid JWT', message),
  invalidSignature: () =>
    new StorageError(
      'InvalidSignature',
      400,
      'InvalidSignature',
      'The url do not match the signature',
    ),
  expiredToken: () =>
    new StorageError('ExpiredToken', 400, 'ExpiredToken', 'The provided token has expired.'),
  invalidRequest: (message: string) =>
    new StorageError('InvalidRequest', 400, 'Bad Request', message),
  rangeNotSatisfiable: () =>
    new StorageError(
      'InvalidRange',
      416,
      'Requested Range Not Satisfiable',
      'The requested range is not satisfiable',
      416,
    ),
  notFound: (method: string, path: string) =>
    new StorageError('NotFound', 404, 'Not Found', `Route ${method}:${path} not found`, 404),
};

/** Postgres errors the metadata queries can raise, as Storage reports them. */
export function fromDatabaseError(error: unknown): StorageError | null {
  const code = (error as { code?: unknown })?.code;
  if (code === '42501') return errors.accessDenied((error as Error).message);
  // The bucket went away between its lookup and the write that references it.
  if (code === '23503') return errors.noSuchBucket();
  return null;
}

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '23505';
}

export function errorResponse(error: unknown, log: Logger): Response {
  const known =
    error instanceof StorageError
      ? error
      : (fromDatabaseError(error) ??
        new StorageError('InternalError', 500, 'Internal', 'Internal Server Error'));
  if (known.statusCode === 500) log('storage: request failed', error);
  const status = known.httpStatus ?? (known.statusCode === 500 ? 500 : 400);
  return Response.json(
    {
      statusCode: String(known.statusCode),
      code: known.code,
      error: known.label,
      message: known.message,
    },
    { status },
  );
}
