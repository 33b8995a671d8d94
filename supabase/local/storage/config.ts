import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { z } from 'zod';

// [storage] of supabase/config.toml, read as the Supabase CLI reads it: file_size_limit is the
// global cap on any object, and [storage.buckets.<name>] declares buckets the CLI creates or
// updates when the stack starts.

export interface ConfigBucket {
  id: string;
  public: boolean;
  /** Bytes, or null for the global limit only. */
  fileSizeLimit: number | null;
  /** Null means any type. */
  allowedMimeTypes: string[] | null;
}

export interface StorageConfig {
  /** Global object size limit in bytes. */
  fileSizeLimit: number;
  buckets: ConfigBucket[];
  /** Lifetime of createSignedUploadUrl tokens, in seconds. */
  uploadUrlExpirySeconds: number;
}

// The CLI reads sizes with go-units' RAMInBytes: every unit is a power of 1024, "MB" included.
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

export function parseConfigSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const factor = match ? UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || factor === undefined) throw new Error(`invalid size in config.toml: ${value}`);
  return Math.floor(Number(match[1]) * factor);
}

const size = z.union([z.number().int().nonnegative(), z.string()]).transform(parseConfigSize);

const fileSchema = z.object({
  storage: z
    .object({
      enabled: z.boolean().default(true),
      file_size_limit: size.default(50 * 1024 ** 2),
      buckets: z
        .record(
          z.string(),
          z.object({
            public: z.boolean().default(false),
            file_size_limit: size.optional(),
            allowed_mime_types: z.array(z.string()).optional(),
            objects_path: z.string().optional(),
          }),
        )
        .default({}),
    })
    .prefault({}),
});

const DEFAULT_UPLOAD_URL_EXPIRY = 2 * 60 * 60;

export function readStorageConfig(
  projectDir: string,
  env: Record<string, string | undefined> = {},
): StorageConfig {
  const text = readFileSync(join(projectDir, 'supabase', 'config.toml'), 'utf8');
  const { storage } = fileSchema.parse(parse(text));
  const expiry = Number(env.UPLOAD_SIGNED_URL_EXPIRATION_TIME);
  return {
    fileSizeLimit: storage.file_size_limit,
    buckets: Object.entries(storage.buckets).map(([id, bucket]) => ({
      id,
      public: bucket.public,
      fileSizeLimit: bucket.file_size_limit ?? null,
      allowedMimeTypes: bucket.allowed_mime_types?.length ? bucket.allowed_mime_types : null,
    })),
    uploadUrlExpirySeconds:
      Number.isInteger(expiry) && expiry > 0 ? expiry : DEFAULT_UPLOAD_URL_EXPIRY,
  };
}
