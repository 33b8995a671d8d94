import { z } from 'zod';
import { type Caller, resolveCaller } from './caller.ts';
import type { Handler, StorageContext } from './context.ts';
import { errors } from './errors.ts';
import { json, readJson } from './http.ts';
import { type BucketRow, findBucket, findObject, type ObjectRow } from './metadata.ts';
import { bucketAndKey, checkBucketName, decodePath } from './names.ts';
import { asCaller, asService } from './scope.ts';
import { serveBytes } from './serve.ts';
import { signUrlToken, verifyUrlToken } from './tokens.ts';

// Downloads, info, listings and signed download URLs. Public buckets are read with Storage's own
// privileges; private ones only through the caller's SELECT policies; a signed URL opens exactly
// the one object it was made for, until it expires.

/** The object as the caller may see it: public buckets skip RLS, private ones need SELECT. */
async function visibleObject(
  ctx: StorageContext,
  caller: Caller,
  bucketId: string,
  key: string,
): Promise<{ bucket: BucketRow; object: ObjectRow }> {
  const bucket = await asService(ctx.db, 'bucket.find', (sql) => findBucket(sql, bucketId));
  if (!bucket || (!caller.authenticated && !bucket.public)) throw errors.noSuchBucket();
  const object = bucket.public
    ? await asService(ctx.db, 'object.get', (sql) => findObject(sql, bucketId, key))
    : await asCaller(ctx.db, caller, 'object.get', (sql) => findObject(sql, bucketId, key));
  if (!object) throw errors.noSuchKey();
  return { bucket, object };
}

async function publicObject(ctx: StorageContext, bucketId: string, key: string) {
  const found = await asService(ctx.db, 'object.get_public', async (sql) => ({
    bucket: await findBucket(sql, bucketId),
    object: await findObject(sql, bucketId, key),
  }));
  if (!found.bucket?.public) throw errors.noSuchBucket();
  if (!found.object) throw errors.noSuchKey();
  return found.object;
}

/** GET /object/<b>/<p> lets a request without a valid JWT through as anon; /authenticated not. */
export const download =
  (allowAnonymous: boolean): Handler =>
  async (request, ctx, rest) => {
    const caller = await resolveCaller(request, ctx.jwtSecret, { allowAnonymous });
    const { bucket, key } = bucketAndKey(rest);
    const { object } = await visibleObject(ctx, caller, bucket, key);
    return serveBytes(request, ctx, object);
  };

export const downloadPublic: Handler = async (request, ctx, rest) => {
  const { bucket, key } = bucketAndKey(rest);
  return serveBytes(request, ctx, await publicObject(ctx, bucket, key));
};

export const downloadSigned: Handler = async (request, ctx, rest) => {
  const { bucket, key } = bucketAndKey(rest);
  const token = new URL(request.url).searchParams.get('token');
  const claims = await verifyUrlToken(ctx.jwtSecret, token, 'download', `${bucket}/${key}`);
  const object = await asService(ctx.db, 'object.get_signed', (sql) =>
    findObject(sql, bucket, key),
  );
  if (!object) throw errors.noSuchKey();
  return serveBytes(request, ctx, object, new Date(claims.exp * 1000));
};

function describeObject(object: ObjectRow) {
  return {
    id: object.id,
    name: object.name,
    version: object.version,
    bucket_id: object.bucket_id,
    size: object.metadata.size,
    content_type: object.metadata.mimetype,
    cache_control: object.metadata.cacheControl,
    etag: object.metadata.eTag,
    metadata: object.user_metadata,
    last_modified: object.updated_at,
    created_at: object.created_at,
  };
}

export const info: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const { bucket, key } = bucketAndKey(rest);
  return json(describeObject((await visibleObject(ctx, caller, bucket, key)).object));
};

export const infoPublic: Handler = async (_request, ctx, rest) => {
  const { bucket, key } = bucketAndKey(rest);
  return json(describeObject(await publicObject(ctx, bucket, key)));
};

const listSchema = z.object({
  prefix: z.string().default(''),
  limit: z.number().int().min(1).default(100),
  offset: z.number().int().min(0).default(0),
  search: z.string().default(''),
  sortBy: z
    .object({
      column: z.enum(['name', 'updated_at', 'created_at', 'last_accessed_at']).default('name'),
      order: z.enum(['asc', 'desc', 'ASC', 'DESC']).default('asc'),
    })
    .prefault({}),
});

const MAX_LIST_LIMIT = 1500;

export const list: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const bucket = checkBucketName(decodePath(rest.replace(/\/$/, '')));
  const body = await readJson(request, listSchema);
  // One level below the prefix, which always ends in a slash unless it is empty.
  const prefix = body.prefix === '' || body.prefix.endsWith('/') ? body.prefix : `${body.prefix}/`;
  const rows = await asCaller(ctx.db, caller, 'object.list', (sql) =>
    sql.query(`select * from storage.search($1, $2, $3, $4, $5, $6, $7, $8)`, [
      prefix,
      bucket,
      Math.min(body.limit, MAX_LIST_LIMIT),
      prefix.split('/').length,
      body.offset,
      body.search,
      body.sortBy.column,
      body.sortBy.order.toLowerCase(),
    ]),
  );
  return json(rows);
};

const expiresIn = z.number().int().min(1);

async function signedUrl(ctx: StorageContext, bucket: string, key: string, seconds: number) {
  const token = await signUrlToken(
    ctx.jwtSecret,
    { url: `${bucket}/${key}`, scope: 'download' },
    seconds,
  );
  return `/object/sign/${bucket}/${key}?token=${token}`;
}

export const signOne: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const { bucket, key } = bucketAndKey(rest);
  const body = await readJson(request, z.object({ expiresIn, transform: z.unknown().optional() }));
  const object = await asCaller(ctx.db, caller, 'object.sign', (sql) =>
    findObject(sql, bucket, key),
  );
  if (!object) throw errors.noSuchKey();
  return json({ signedURL: await signedUrl(ctx, bucket, key, body.expiresIn) });
};

export const signMany: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const bucket = checkBucketName(decodePath(rest.replace(/\/$/, '')));
  const body = await readJson(
    request,
    z.object({ expiresIn, paths: z.array(z.string()).min(1).max(1000) }),
  );
  const visible = await asCaller(ctx.db, caller, 'object.sign_many', (sql) =>
    sql.query<{ name: string }>(
      'select name from storage.objects where bucket_id = $1 and name = any($2::text[])',
      [bucket, body.paths],
    ),
  );
  const readable = new Set(visible.map((row) => row.name));
  const results = [];
  for (const path of body.paths) {
    results.push(
      readable.has(path)
        ? { error: null, path, signedURL: await signedUrl(ctx, bucket, path, body.expiresIn) }
        : {
            error: 'Either the object does not exist or you do not have access to it',
            path,
            signedURL: null,
          },
    );
  }
  return json(results);
};
