import type { Sql } from '../../../functions/_shared/db/port.ts';
import { errors, isUniqueViolation } from './errors.ts';

// The SQL on storage.buckets and storage.objects. Each statement runs as whoever the surrounding
// transaction belongs to, so RLS applies unless that is the service role.

export interface BucketRow {
  id: string;
  name: string;
  owner: string | null;
  public: boolean;
  file_size_limit: number | null;
  allowed_mime_types: string[] | null;
  type: string;
  created_at: Date;
  updated_at: Date;
}

export const BUCKET_COLUMNS =
  'id, name, owner, public, file_size_limit, allowed_mime_types, type, created_at, updated_at';

export async function findBucket(sql: Sql, id: string): Promise<BucketRow | null> {
  const [row] = await sql.query<BucketRow>(
    `select ${BUCKET_COLUMNS} from storage.buckets where id = $1`,
    [id],
  );
  return row ?? null;
}

export interface ObjectMetadata {
  eTag: string;
  size: number;
  mimetype: string;
  cacheControl: string;
  lastModified: string;
  contentLength: number;
  httpStatusCode: number;
}

export interface ObjectRow {
  id: string;
  bucket_id: string;
  name: string;
  owner: string | null;
  owner_id: string | null;
  version: string;
  metadata: ObjectMetadata;
  user_metadata: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date;
}

export const OBJECT_COLUMNS =
  'id, bucket_id, name, owner, owner_id, version, metadata, user_metadata, created_at, updated_at, last_accessed_at';

export async function findObject(sql: Sql, bucket: string, key: string): Promise<ObjectRow | null> {
  const [row] = await sql.query<ObjectRow>(
    `select ${OBJECT_COLUMNS} from storage.objects where bucket_id = $1 and name = $2`,
    [bucket, key],
  );
  return row ?? null;
}

export interface NewObject {
  id: string;
  bucket: string;
  key: string;
  version: string;
  owner: string | null;
  ownerId: string | null;
  metadata: ObjectMetadata;
  userMetadata: Record<string, unknown> | null;
}

const params = (o: NewObject) => [
  o.id,
  o.bucket,
  o.key,
  o.owner,
  o.ownerId,
  o.version,
  o.metadata,
  o.userMetadata,
];

/**
 * Creates the row (INSERT rights only: nothing is read back) or, with upsert, creates or replaces
 * it, which also needs SELECT and UPDATE rights, exactly as Storage's upsert does. Returns the id
 * the row ends up with.
 */
export async function writeObjectRow(sql: Sql, o: NewObject, upsert: boolean): Promise<string> {
  const insert = `insert into storage.objects
      (id, bucket_id, name, owner, owner_id, version, metadata, user_metadata)
    values ($1, $2, $3, $4::uuid, $5, $6, $7::jsonb, $8::jsonb)`;
  try {
    if (!upsert) {
      await sql.query(insert, params(o));
      return o.id;
    }
    const [row] = await sql.query<{ id: string }>(
      `${insert}
       on conflict (bucket_id, name) do update
         set owner = excluded.owner, owner_id = excluded.owner_id, version = excluded.version,
             metadata = excluded.metadata, user_metadata = excluded.user_metadata,
             last_accessed_at = now()
       returning id`,
      params(o),
    );
    return row?.id ?? o.id;
  } catch (error) {
    if (isUniqueViolation(error)) throw errors.keyAlreadyExists();
    throw error;
  }
}
