import { Buffer } from 'node:buffer';
import { z } from 'zod';
import { resolveCaller } from './caller.ts';
import type { Handler } from './context.ts';
import { errors } from './errors.ts';
import { json, readJson } from './http.ts';
import { checkBucketName, decodePath } from './names.ts';
import { asCaller } from './scope.ts';

// listV2: every key under a prefix in key order, paged by an opaque cursor; with_delimiter folds
// the keys below the next "/" into one folder entry, like an S3 listing with a delimiter. Rows
// come through the caller's SELECT policies, so a listing never names what it may not read.

const schema = z.object({
  prefix: z.string().default(''),
  limit: z.number().int().min(1).max(1000).default(1000),
  cursor: z.string().optional(),
  with_delimiter: z.boolean().default(false),
  exactMatch: z.boolean().default(false),
  sortBy: z
    .object({
      column: z.literal('name').default('name'),
      order: z.enum(['asc', 'desc']).default('asc'),
    })
    .prefault({}),
});

interface Entry {
  key: string;
  folder: boolean;
  id: string | null;
  updated_at: Date | null;
  created_at: Date | null;
  last_accessed_at: Date | null;
  metadata: unknown;
}

const encodeCursor = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(key) !== cursor) throw errors.invalidRequest('Invalid cursor');
  return key;
}

export const listV2: Handler = async (request, ctx, rest) => {
  const caller = await resolveCaller(request, ctx.jwtSecret);
  const bucket = checkBucketName(decodePath(rest.replace(/\/$/, '')));
  const body = await readJson(request, schema);
  const after = decodeCursor(body.cursor);
  const descending = body.sortBy.order === 'desc';
  const entries = await asCaller(ctx.db, caller, 'object.list_v2', (sql) =>
    sql.query<Entry>(
      `with matching as (
         select o.*,
                $4 and strpos(substr(o.name, char_length($2) + 1), '/') > 0 as folder
           from storage.objects o
          where o.bucket_id = $1
            and case when $6 then o.name = $2 else starts_with(o.name, $2) end
       ),
       entries as (
         select distinct on (key) *
           from (select case when folder
                          then $2 || split_part(substr(name, char_length($2) + 1), '/', 1) || '/'
                          else name end collate "C" as key,
                        folder, id, updated_at, created_at, last_accessed_at, metadata
                   from matching) keyed
          order by key, folder
       )
       select key, folder,
              case when folder then null else id end as id,
              case when folder then null else updated_at end as updated_at,
              case when folder then null else created_at end as created_at,
              case when folder then null else last_accessed_at end as last_accessed_at,
              case when folder then null else metadata end as metadata
         from entries
        where $3::text is null or (case when $7 then key < $3 else key > $3 end)
        order by case when $7 then key end desc, key asc
        limit $5 + 1`,
      [bucket, body.prefix, after, body.with_delimiter, body.limit, body.exactMatch, descending],
    ),
  );
  const page = entries.slice(0, body.limit);
  const hasNext = entries.length > body.limit;
  const last = page.at(-1);
  return json({
    hasNext,
    ...(hasNext && last ? { nextCursor: encodeCursor(last.key) } : {}),
    folders: page.filter((e) => e.folder).map((e) => ({ name: e.key, key: e.key })),
    objects: page
      .filter((e) => !e.folder)
      .map((e) => ({
        name: e.key,
        key: e.key,
        id: e.id,
        updated_at: e.updated_at,
        created_at: e.created_at,
        last_accessed_at: e.last_accessed_at,
        metadata: e.metadata,
      })),
  });
};
