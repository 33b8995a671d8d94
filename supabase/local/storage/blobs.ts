import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

// Object bytes. Every upload gets a new version, and the bytes of a version never change: a row
// of storage.objects names the version it points at, so bytes written for a transaction that then
// rolls back are simply deleted, and a replaced version is deleted only after the new row commits.
// On disk a version lives at <root>/<bucket>/<key>/~<version>; "~" cannot occur in a valid key,
// so a version file never collides with a deeper key's folder.

export interface BlobRef {
  bucket: string;
  key: string;
  version: string;
}

export interface BlobStore {
  put(bucket: string, key: string, version: string, bytes: Uint8Array): Promise<void>;
  /** The bytes, or null when that version is not stored. */
  get(bucket: string, key: string, version: string): Promise<Uint8Array | null>;
  delete(bucket: string, key: string, version: string): Promise<void>;
  deleteBucket(bucket: string): Promise<void>;
  /** Every stored version; half-written files a crash left behind are removed on the way. */
  inventory(): Promise<BlobRef[]>;
}

const VERSION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkVersion(version: string) {
  if (!VERSION.test(version)) throw new Error(`not a blob version: ${version}`);
}

export function createMemoryBlobs(): BlobStore {
  const blobs = new Map<string, Uint8Array>();
  const id = (bucket: string, key: string, version: string) => `${bucket}\0${key}\0${version}`;
  return {
    async put(bucket, key, version, bytes) {
      checkVersion(version);
      blobs.set(id(bucket, key, version), bytes.slice());
    },
    async get(bucket, key, version) {
      return blobs.get(id(bucket, key, version)) ?? null;
    },
    async delete(bucket, key, version) {
      blobs.delete(id(bucket, key, version));
    },
    async deleteBucket(bucket) {
      for (const name of blobs.keys()) if (name.startsWith(`${bucket}\0`)) blobs.delete(name);
    },
    async inventory() {
      return [...blobs.keys()].map((name) => {
        const [bucket = '', key = '', version = ''] = name.split('\0');
        return { bucket, key, version };
      });
    },
  };
}

export function createDiskBlobs(root: string): BlobStore {
  const base = resolve(root);

  // Names were validated already; this is the last line against a path leaving the root.
  const inside = (...parts: string[]) => {
    const path = resolve(base, ...parts);
    if (!path.startsWith(base + sep)) throw new Error(`storage path escapes its root: ${path}`);
    return path;
  };
  const file = (bucket: string, key: string, version: string) => {
    checkVersion(version);
    return inside(bucket, ...key.split('/'), `~${version}`);
  };

  // Folders left empty by a delete go too, up to the bucket's own folder.
  async function prune(from: string, bucketDir: string) {
    for (let dir = from; dir.startsWith(bucketDir + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  return {
    async put(bucket, key, version, bytes) {
      const path = file(bucket, key, version);
      await mkdir(dirname(path), { recursive: true });
      // Written aside and renamed, so a crash never leaves a half-written version in place.
      const partial = `${path}.partial`;
      await writeFile(partial, bytes);
      await rename(partial, path);
    },
    async get(bucket, key, version) {
      try {
        return new Uint8Array(await readFile(file(bucket, key, version)));
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') return null;
        throw error;
      }
    },
    async delete(bucket, key, version) {
      const path = file(bucket, key, version);
      await rm(path, { force: true });
      await prune(dirname(path), inside(bucket));
    },
    async deleteBucket(bucket) {
      await rm(inside(bucket), { recursive: true, force: true });
    },
    async inventory() {
      const entries = await readdir(base, { recursive: true, withFileTypes: true }).catch(() => []);
      const refs: BlobRef[] = [];
      for (const entry of entries) {
        if (!entry.isFile()) continue;
        const path = join(entry.parentPath, entry.name);
        if (entry.name.endsWith('.partial')) {
          await rm(path, { force: true });
          continue;
        }
        const [bucket, ...rest] = relative(base, path).split(sep);
        const version = rest.pop()?.replace(/^~/, '');
        if (bucket && version && VERSION.test(version) && rest.length > 0) {
          refs.push({ bucket, key: rest.join('/'), version });
        }
      }
      return refs;
    },
  };
}

/** Where a stack's bytes go: beside its database folder, or nowhere but memory. */
export function createBlobStore(dir: string | undefined): BlobStore {
  return dir ? createDiskBlobs(join(dir)) : createMemoryBlobs();
}
