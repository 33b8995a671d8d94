import type { Db, Sql } from '../../../functions/_shared/db/port.ts';
import type { Logger } from '../services.ts';
import type { BlobStore } from './blobs.ts';
import type { Caller } from './caller.ts';
import type { StorageConfig } from './config.ts';
import { asCaller, type Operation } from './scope.ts';

/** What the Storage handlers are built from. */
export interface StorageContext {
  db: Db;
  blobs: BlobStore;
  config: StorageConfig;
  jwtSecret: string;
  log: Logger;
}

export type Handler = (request: Request, ctx: StorageContext, rest: string) => Promise<Response>;

/** Blob changes tied to one metadata transaction. */
export interface BlobChanges {
  /** Stores bytes under a fresh version; they are deleted again if the transaction fails. */
  put(bucket: string, key: string, version: string, bytes: Uint8Array): Promise<void>;
  /** A version that is no longer referenced once the transaction commits. */
  dropAfterCommit(bucket: string, key: string, version: string): void;
}

/**
 * Runs fn in the caller's transaction and keeps the bytes in step with it: bytes are written only
 * after fn's metadata statements were allowed, removed if anything fails (commit included), and
 * versions the transaction stopped referencing are deleted only after it committed.
 */
export async function withBlobs<T>(
  ctx: StorageContext,
  caller: Caller,
  operation: Operation,
  fn: (sql: Sql, blobs: BlobChanges) => Promise<T>,
): Promise<T> {
  type Ref = [bucket: string, key: string, version: string];
  const staged: Ref[] = [];
  const dropped: Ref[] = [];
  const changes: BlobChanges = {
    async put(bucket, key, version, bytes) {
      staged.push([bucket, key, version]);
      await ctx.blobs.put(bucket, key, version, bytes);
    },
    dropAfterCommit(bucket, key, version) {
      dropped.push([bucket, key, version]);
    },
  };
  const remove = async (refs: Ref[]) => {
    for (const ref of refs) {
      await ctx.blobs
        .delete(...ref)
        .catch((error) => ctx.log('storage: blob cleanup failed', error));
    }
  };
  let result: T;
  try {
    result = await asCaller(ctx.db, caller, operation, (sql) => fn(sql, changes));
  } catch (error) {
    await remove(staged);
    throw error;
  }
  await remove(dropped);
  return result;
}
