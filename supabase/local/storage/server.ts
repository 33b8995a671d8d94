import { env } from 'node:process';
import { preflight } from '../auth/http.ts';
import type { HttpService, LocalServices } from '../services.ts';
import { createBlobStore } from './blobs.ts';
import {
  createBucket,
  deleteBucket,
  emptyBucket,
  getBucket,
  listBuckets,
  syncConfigBuckets,
  updateBucket,
} from './buckets.ts';
import { readStorageConfig } from './config.ts';
import type { Handler, StorageContext } from './context.ts';
import { errorResponse, errors } from './errors.ts';
import { withCors } from './http.ts';
import { listV2 } from './list-v2.ts';
import {
  download,
  downloadPublic,
  downloadSigned,
  info,
  infoPublic,
  list,
  signMany,
  signOne,
} from './object-reads.ts';
import {
  copy,
  createSignedUploadUrl,
  move,
  removeMany,
  removeOne,
  upload,
  uploadToSignedUrl,
} from './object-writes.ts';
import { asService } from './scope.ts';
import { sweepOrphanBlobs } from './sweep.ts';

// The local stand-in for Supabase Storage under /storage/v1: the routes storage-js calls, with
// metadata in storage.buckets / storage.objects decided by RLS and bytes in a blob store (a folder
// beside the database, or memory). UPLOAD_SIGNED_URL_EXPIRATION_TIME sets the lifetime of signed
// upload URLs in seconds, as it does for Storage itself.

type Route = [method: string, path: RegExp, handler: Handler];

// First match wins, so the fixed prefixes come before the catch-all object routes.
const ROUTES: Route[] = [
  ['GET', /^\/bucket\/?$/, listBuckets],
  ['POST', /^\/bucket\/?$/, createBucket],
  ['POST', /^\/bucket\/(.+)\/empty\/?$/, emptyBucket],
  ['GET', /^\/bucket\/(.+)$/, getBucket],
  ['PUT', /^\/bucket\/(.+)$/, updateBucket],
  ['DELETE', /^\/bucket\/(.+)$/, deleteBucket],
  ['POST', /^\/object\/list\/(.+)$/, list],
  ['POST', /^\/object\/list-v2\/(.+)$/, listV2],
  ['GET', /^\/object\/info\/public\/(.+)$/, infoPublic],
  ['GET', /^\/object\/info\/authenticated\/(.+)$/, info],
  ['GET', /^\/object\/info\/(.+)$/, info],
  ['GET', /^\/object\/public\/(.+)$/, downloadPublic],
  ['GET', /^\/object\/authenticated\/(.+)$/, download(false)],
  ['GET', /^\/object\/sign\/(.+)$/, downloadSigned],
  ['POST', /^\/object\/sign\/([^/]+)\/?$/, signMany],
  ['POST', /^\/object\/sign\/(.+)$/, signOne],
  ['POST', /^\/object\/upload\/sign\/(.+)$/, createSignedUploadUrl],
  ['PUT', /^\/object\/upload\/sign\/(.+)$/, uploadToSignedUrl],
  ['POST', /^\/object\/move\/?$/, move],
  ['POST', /^\/object\/copy\/?$/, copy],
  ['DELETE', /^\/object\/([^/]+)\/?$/, removeMany],
  ['POST', /^\/object\/(.+)$/, upload('POST')],
  ['PUT', /^\/object\/(.+)$/, upload('PUT')],
  ['GET', /^\/object\/(.+)$/, download(true)],
  ['DELETE', /^\/object\/(.+)$/, removeOne],
];

export interface StorageOptions {
  /** Folder for object bytes; omit to keep them in memory. */
  dir?: string;
}

export async function createStorage(
  services: LocalServices,
  options: StorageOptions = {},
): Promise<HttpService> {
  const config = readStorageConfig(services.projectDir, env);
  const ctx: StorageContext = {
    db: services.db,
    blobs: createBlobStore(options.dir),
    config,
    jwtSecret: services.keys.jwtSecret,
    log: services.log,
  };
  await asService(ctx.db, 'bucket.seed', (sql) => syncConfigBuckets(sql, config.buckets));
  const swept = await sweepOrphanBlobs(ctx);
  if (swept > 0) services.log(`storage: removed ${swept} stored version(s) no object refers to`);

  return {
    async fetch(request) {
      if (request.method === 'OPTIONS') return preflight(request);
      const path = new URL(request.url).pathname.replace(/^\/storage\/v1/, '');
      // HEAD answers what GET would, without the body.
      const method = request.method === 'HEAD' ? 'GET' : request.method;
      try {
        for (const [routeMethod, pattern, handler] of ROUTES) {
          if (routeMethod !== method) continue;
          const match = pattern.exec(path);
          if (match) return withCors(await handler(request, ctx, match[1] ?? ''));
        }
        throw errors.notFound(request.method, `/storage/v1${path}`);
      } catch (error) {
        return withCors(errorResponse(error, ctx.log));
      }
    },
  };
}
