import { z } from 'zod';
import type { Sql } from '../../../functions/_shared/db/port.ts';
import { ownerOf, resolveCaller } from './caller.ts';
import type { ConfigBucket } from './config.ts';
import { type Handler, withBlobs } from './context.ts';
import { errors, isUniqueViolation } from './errors.ts';
import { json, readJson } from './http.ts';
import { BUCKET_COLUMNS, type BucketRow, findBucket } from './metadata.ts';
import { checkBucketName, decodePath } from './names.ts';
import { asCaller, elevated } from './scope.ts';

// Buckets, under the policies on storage.buckets like everything else: with none (Parley's case)
// only the service role manages them and a user's listing is empty. Emptying a bucket is the one
// operation Storage reserves to the service role outright.

// Storage reads a size with a unit in decimal multiples.
const DECIMAL: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9 };

const sizeLimit = z
  .union([z.number().int().nonnegative(), z.string(), z.null()])
  .transform((value, issue) => {
    if (typeof value !== 'string') return value;
    const match = /^\s*(\d+)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
    if (!match) {
      issue.addIssue({ code: 'custom', message: 'must be a size such as 5MB' });
      return z.NEVER;
    }
    return Number(match[1]) * (DECIMAL[(match[2] ?? 'b').toLowerCase()] ?? 1);
  });

const bucketSettings = z.object({
  public: z.boolean().optional(),
  file_size_limit: sizeLimit.optional(),
  allowed_mime_types: z.array(z.string()).nullable().optional(),
});

const createSchema = bucketSettings.extend({
  id: z.string().optional(),
  name: z.string(),
  type: z.enum(['STANDARD', 'ANALYTICS', 'VECTOR']).optional(),
});

const bucketId = (rest: string) => decodePath(rest.replace(/\/$/, ''));

const SORTABLE = new Set(['id', 'name', 'created_at', 'updated_at']);

export const listBuckets: Handler = async (request, ctx) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const query = new URL(request.url).searchParams;
  const column = SORTABLE.has(query.get('sortColumn') ?? '') ? query.get('sortColumn') : 'name';
  const order = query.get('sortOrder')?.toLowerCase() === 'desc' ? 'desc' : 'asc';
  const limit = Number.parseInt(query.get('limit') ?? '', 10);
  const offset = Number.parseInt(query.get('offset') ?? '', 10);
  const rows = await asCaller(ctx.db, caller, 'bucket.list', (sql) =>
    sql.query<BucketRow>(
      `select ${BUCKET_COLUMNS} from storage.buckets
        where $1 = '' or name ilike '%' || $1 || '%'
        order by ${column} ${order}
        limit $2 offset $3`,
      [
        query.get('search') ?? '',
        Number.isInteger(limit) && limit > 0 ? limit : null,
        Number.isInteger(offset) && offset > 0 ? offset : 0,
      ],
    ),
  );
  return json(rows);
};

export const getBucket: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const bucket = await asCaller(ctx.db, caller, 'bucket.get', (sql) =>
    findBucket(sql, bucketId(rest)),
  );
  if (!bucket) throw errors.noSuchBucket();
  return json(bucket);
};

function checkLimit(limit: number | null | undefined, global: number) {
  if (typeof limit === 'number' && limit > global) throw errors.entityTooLarge();
}

export const createBucket: Handler = async (request, ctx) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const body = await readJson(request, createSchema);
  const id = checkBucketName(body.id ?? body.name);
  checkLimit(body.file_size_limit, ctx.config.fileSizeLimit);
  const { owner, ownerId } = ownerOf(caller);
  await asCaller(ctx.db, caller, 'bucket.create', async (sql) => {
    try {
      await sql.query(
        `insert into storage.buckets
           (id, name, owner, owner_id, public, file_size_limit, allowed_mime_types, type)
         values ($1, $1, $2::uuid, $3, $4, $5, $6::text[], $7::storage.buckettype)`,
        [
          id,
          owner,
          ownerId,
          body.public ?? false,
          body.file_size_limit ?? null,
          body.allowed_mime_types ?? null,
          body.type ?? 'STANDARD',
        ],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw errors.bucketAlreadyExists();
      throw error;
    }
  });
  return json({ name: id });
};

export const updateBucket: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const body = await readJson(request, bucketSettings);
  checkLimit(body.file_size_limit, ctx.config.fileSizeLimit);
  // Settings the body leaves out keep their value; an explicit null clears a limit.
  const [updated] = await asCaller(ctx.db, caller, 'bucket.update', (sql) =>
    sql.query(
      `update storage.buckets
          set public = coalesce($2, public),
              file_size_limit = case when $3 then $4 else file_size_limit end,
              allowed_mime_types = case when $5 then $6::text[] else allowed_mime_types end,
              updated_at = now()
        where id = $1
        returning id`,
      [
        bucketId(rest),
        body.public ?? null,
        body.file_size_limit !== undefined,
        body.file_size_limit ?? null,
        body.allowed_mime_types !== undefined,
        body.allowed_mime_types ?? null,
      ],
    ),
  );
  if (!updated) throw errors.noSuchBucket();
  return json({ message: 'Successfully updated' });
};

async function deleteObjectRows(sql: Sql, bucket: string) {
  return sql.query<{ name: string; version: string }>(
    'delete from storage.objects where bucket_id = $1 returning name, version',
    [bucket],
  );
}

export const emptyBucket: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  if (caller.role !== 'service_role') throw errors.invalidRole();
  const id = bucketId(rest);
  await withBlobs(ctx, caller, 'bucket.empty', async (sql, blobs) => {
    if (!(await findBucket(sql, id))) throw errors.noSuchBucket();
    for (const row of await deleteObjectRows(sql, id))
      blobs.dropAfterCommit(id, row.name, row.version);
  });
  return json({ message: 'Successfully emptied' });
};

export const deleteBucket: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const id = bucketId(rest);
  await asCaller(ctx.db, caller, 'bucket.delete', async (sql) => {
    if (!(await findBucket(sql, id))) throw errors.noSuchBucket();
    const [object] = await elevated(sql, caller, () =>
      sql.query('select 1 from storage.objects where bucket_id = $1 limit 1', [id]),
    );
    if (object) throw errors.resourceNotEmpty();
    const [deleted] = await sql.query('delete from storage.buckets where id = $1 returning id', [
      id,
    ]);
    if (!deleted) throw errors.noSuchBucket();
  });
  await ctx.blobs.deleteBucket(id);
  return json({ message: 'Successfully deleted' });
};

/** Creates or updates the buckets config.toml declares, as the CLI does when the stack starts. */
export async function syncConfigBuckets(sql: Sql, buckets: ConfigBucket[]) {
  for (const bucket of buckets) {
    checkBucketName(bucket.id);
    await sql.query(
      `insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
       values ($1, $1, $2, $3, $4::text[])
       on conflict (id) do update
         set public = excluded.public, file_size_limit = excluded.file_size_limit,
             allowed_mime_types = excluded.allowed_mime_types, updated_at = now()`,
      [bucket.id, bucket.public, bucket.fileSizeLimit, bucket.allowedMimeTypes],
    );
  }
}
