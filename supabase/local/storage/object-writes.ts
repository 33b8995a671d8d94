import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Caller, ownerOf, resolveCaller } from './caller.ts';
import { type Handler, type StorageContext, withBlobs } from './context.ts';
import { errors } from './errors.ts';
import { json, readJson } from './http.ts';
import {
  findBucket,
  findObject,
  OBJECT_COLUMNS,
  type ObjectRow,
  writeObjectRow,
} from './metadata.ts';
import { bucketAndKey, checkBucketName, checkKey, decodePath } from './names.ts';
import { elevated, probe, SERVICE } from './scope.ts';
import { describeBytes, sizeLimit, storeObject } from './store-object.ts';
import { signUrlToken, verifyUrlToken } from './tokens.ts';
import { checkMimeType } from './upload-body.ts';

// Uploads (plain and through signed URLs), copy, move and removal. What each needs from the
// policies on storage.objects follows Storage: INSERT to create, INSERT + SELECT + UPDATE to
// overwrite, SELECT + UPDATE to move, SELECT on the source and INSERT on the target to copy,
// DELETE + SELECT to remove.

/** POST creates (x-upsert: true overwrites); PUT always overwrites, creating if need be. */
export const upload =
  (method: 'POST' | 'PUT'): Handler =>
  async (request, ctx, rest) => {
    const caller = await resolveCaller(request, ctx.jwtSecret);
    const { bucket, key } = bucketAndKey(rest);
    const upsert = method === 'PUT' || request.headers.get('x-upsert') === 'true';
    const { id } = await storeObject(ctx, caller, request, {
      bucket,
      key,
      upsert,
      owner: ownerOf(caller),
    });
    return json({ Id: id, Key: `${bucket}/${key}` });
  };

/** The permission is checked now, as the caller; the upload later needs only the token. */
export const createSignedUploadUrl: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const { bucket, key } = bucketAndKey(rest);
  const upsert = request.headers.get('x-upsert') === 'true';
  const owner = ownerOf(caller);
  await probe(ctx.db, caller, 'object.sign_upload', async (sql) => {
    if (!(await elevated(sql, caller, () => findBucket(sql, bucket)))) throw errors.noSuchBucket();
    await writeObjectRow(
      sql,
      {
        id: randomUUID(),
        bucket,
        key,
        version: randomUUID(),
        ...owner,
        metadata: describeBytes(new Uint8Array(), 'application/octet-stream', 'no-cache'),
        userMetadata: null,
      },
      upsert,
    );
  });
  const token = await signUrlToken(
    ctx.jwtSecret,
    { url: `${bucket}/${key}`, scope: 'upload', owner: owner.ownerId, upsert },
    ctx.config.uploadUrlExpirySeconds,
  );
  return json({ url: `/object/upload/sign/${bucket}/${key}?token=${token}`, token });
};

/** The token's upsert wins over the x-upsert header the client always sends. */
export const uploadToSignedUrl: Handler = async (request, ctx, rest) => {
  const { bucket, key } = bucketAndKey(rest);
  const token = new URL(request.url).searchParams.get('token');
  const claims = await verifyUrlToken(ctx.jwtSecret, token, 'upload', `${bucket}/${key}`);
  await storeObject(ctx, SERVICE, request, {
    bucket,
    key,
    upsert: claims.upsert ?? false,
    owner: ownerOf({
      claims: { role: 'authenticated', ...(claims.owner ? { sub: claims.owner } : {}) },
    }),
  });
  return json({ Key: `${bucket}/${key}` });
};

const transferSchema = z.object({
  bucketId: z.string().min(1),
  sourceKey: z.string().min(1),
  destinationKey: z.string().min(1),
  destinationBucket: z.string().min(1).optional(),
  copyMetadata: z.boolean().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

function transferNames(body: z.infer<typeof transferSchema>) {
  return {
    bucket: checkBucketName(body.bucketId),
    source: checkKey(body.sourceKey),
    target: checkBucketName(body.destinationBucket ?? body.bucketId),
    destination: checkKey(body.destinationKey),
  };
}

async function sourceBytes(ctx: StorageContext, row: ObjectRow) {
  const bytes = await ctx.blobs.get(row.bucket_id, row.name, row.version);
  if (!bytes) throw errors.noSuchKey();
  return bytes;
}

export const copy: Handler = async (request, ctx) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const body = await readJson(request, transferSchema);
  const names = transferNames(body);
  const upsert = request.headers.get('x-upsert') === 'true';
  const row = await withBlobs(ctx, caller, 'object.copy', async (sql, blobs) => {
    const source = await findObject(sql, names.bucket, names.source);
    if (!source) throw errors.noSuchKey();
    const target = await elevated(sql, caller, () => findBucket(sql, names.target));
    if (!target) throw errors.noSuchBucket();
    const previous = upsert
      ? await elevated(sql, caller, () => findObject(sql, names.target, names.destination))
      : null;
    const version = randomUUID();
    const id = await writeObjectRow(
      sql,
      {
        id: randomUUID(),
        bucket: names.target,
        key: names.destination,
        version,
        ...ownerOf(caller),
        metadata: { ...source.metadata, lastModified: new Date().toISOString() },
        userMetadata: body.copyMetadata === false ? (body.metadata ?? null) : source.user_metadata,
      },
      upsert,
    );
    checkMimeType(source.metadata.mimetype, target.allowed_mime_types);
    if (source.metadata.size > sizeLimit(ctx, target.file_size_limit)) {
      throw errors.entityTooLarge();
    }
    await blobs.put(names.target, names.destination, version, await sourceBytes(ctx, source));
    if (previous) blobs.dropAfterCommit(names.target, names.destination, previous.version);
    return elevated(sql, caller, async () => ({
      ...(await findObject(sql, names.target, names.destination)),
      id,
    }));
  });
  return json({ Id: row.id, Key: `${names.target}/${names.destination}`, ...row });
};

export const move: Handler = async (request, ctx) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const names = transferNames(await readJson(request, transferSchema));
  const id = await withBlobs(ctx, caller, 'object.move', async (sql, blobs) => {
    const source = await findObject(sql, names.bucket, names.source);
    if (!source) throw errors.noSuchKey();
    if (!(await elevated(sql, caller, () => findBucket(sql, names.target)))) {
      throw errors.noSuchBucket();
    }
    const version = randomUUID();
    let moved: { id: string } | undefined;
    try {
      [moved] = await sql.query<{ id: string }>(
        `update storage.objects
            set bucket_id = $3, name = $4, version = $5, last_accessed_at = now()
          where bucket_id = $1 and name = $2
          returning id`,
        [names.bucket, names.source, names.target, names.destination, version],
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw errors.keyAlreadyExists();
      throw error;
    }
    // Readable but not updatable: the UPDATE policy hid the row.
    if (!moved) throw errors.noSuchKey();
    await blobs.put(names.target, names.destination, version, await sourceBytes(ctx, source));
    blobs.dropAfterCommit(names.bucket, names.source, source.version);
    return moved.id;
  });
  return json({
    message: 'Successfully moved',
    Id: id,
    Key: `${names.target}/${names.destination}`,
  });
};

async function removeRows(ctx: StorageContext, caller: Caller, bucket: string, keys: string[]) {
  return withBlobs(ctx, caller, 'object.delete', async (sql, blobs) => {
    // Names the caller may not select or delete are skipped silently, as Storage does.
    const rows = await sql.query<ObjectRow>(
      `delete from storage.objects where bucket_id = $1 and name = any($2::text[])
       returning ${OBJECT_COLUMNS}`,
      [bucket, keys],
    );
    for (const row of rows) blobs.dropAfterCommit(row.bucket_id, row.name, row.version);
    return rows;
  });
}

const removeSchema = z.object({
  prefixes: z
    .array(z.union([z.string(), z.object({ path: z.string(), versionId: z.string().optional() })]))
    .min(1)
    .max(1000),
});

export const removeMany: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const bucket = checkBucketName(decodePath(rest.replace(/\/$/, '')));
  const { prefixes } = await readJson(request, removeSchema);
  const keys = prefixes.map((entry) => (typeof entry === 'string' ? entry : entry.path));
  return json(await removeRows(ctx, caller, bucket, keys));
};

export const removeOne: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const { bucket, key } = bucketAndKey(rest);
  const rows = await removeRows(ctx, caller, bucket, [key]);
  if (rows.length === 0) throw errors.noSuchKey();
  return json({ message: 'Successfully deleted' });
};
