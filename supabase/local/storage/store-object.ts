import { createHash, randomUUID } from 'node:crypto';
import type { Caller } from './caller.ts';
import { type StorageContext, withBlobs } from './context.ts';
import { errors } from './errors.ts';
import { findBucket, findObject, type ObjectMetadata, writeObjectRow } from './metadata.ts';
import { asService, elevated } from './scope.ts';
import { checkMimeType, type IncomingFile, readUpload } from './upload-body.ts';

// One upload, whichever route it came by: the row is written as the caller first (so RLS decides
// before anything else happens), then the bucket's type and size limits are checked, and only then
// are the bytes stored. Any failure rolls the row back and deletes the bytes.

export function describeBytes(
  bytes: Uint8Array,
  mimetype: string,
  cacheControl: string,
): ObjectMetadata {
  return {
    eTag: `"${createHash('md5').update(bytes).digest('hex')}"`,
    size: bytes.byteLength,
    mimetype,
    cacheControl,
    lastModified: new Date().toISOString(),
    contentLength: bytes.byteLength,
    httpStatusCode: 200,
  };
}

export interface StoreRequest {
  bucket: string;
  key: string;
  upsert: boolean;
  owner: { owner: string | null; ownerId: string | null };
}

/** The largest object the bucket takes: its own limit, never above the global one. */
export function sizeLimit(ctx: StorageContext, bucketLimit: number | null): number {
  return Math.min(ctx.config.fileSizeLimit, bucketLimit ?? Number.POSITIVE_INFINITY);
}

export async function storeObject(
  ctx: StorageContext,
  caller: Caller,
  request: Request,
  target: StoreRequest,
): Promise<{ id: string }> {
  const bucket = await asService(ctx.db, 'bucket.find', (sql) => findBucket(sql, target.bucket));
  if (!bucket) throw errors.noSuchBucket();
  // Folder placeholders (what Studio creates for an empty folder) must stay empty.
  const limit = target.key.endsWith('.emptyFolderPlaceholder')
    ? 0
    : sizeLimit(ctx, bucket.file_size_limit);
  const file: IncomingFile = await readUpload(request, limit);
  const version = randomUUID();

  const id = await withBlobs(ctx, caller, 'object.upload', async (sql, blobs) => {
    const previous = target.upsert
      ? await elevated(sql, caller, () => findObject(sql, target.bucket, target.key))
      : null;
    const id = await writeObjectRow(
      sql,
      {
        id: randomUUID(),
        bucket: target.bucket,
        key: target.key,
        version,
        ...target.owner,
        metadata: describeBytes(
          file.bytes ?? new Uint8Array(),
          file.mimetype ?? 'application/octet-stream',
          file.cacheControl,
        ),
        userMetadata: file.userMetadata,
      },
      target.upsert,
    );
    if (file.mimetype !== null) checkMimeType(file.mimetype, bucket.allowed_mime_types);
    if (!file.bytes) throw errors.entityTooLarge();
    await blobs.put(target.bucket, target.key, version, file.bytes);
    if (previous) blobs.dropAfterCommit(target.bucket, target.key, previous.version);
    return id;
  });
  return { id };
}
