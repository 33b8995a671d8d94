import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesOf,
  expectStorageError,
  type StorageHarness,
  startStorageHarness,
} from './support.ts';

// Bytes on disk under the data folder: where they go, that a refused or failed upload leaves
// nothing behind, that a replaced or removed object's bytes go, and that they outlive a restart.

let dir: string;
let h: StorageHarness;
const bucket = 'on-disk';

async function filesUnder(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name).slice(path.length + 1))
      .sort();
  } catch {
    return [];
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-storage-'));
  h = await startStorageHarness({ dataDir: dir });
  await h.client('service').storage.createBucket(bucket, { public: false });
});

afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('object bytes on disk', () => {
  const root = () => join(dir, 'storage');

  it('live under <data>/storage/<bucket>/<key>/, one file per version', async () => {
    const files = h.client('service').storage.from(bucket);
    await files.upload('docs/a.txt', 'first', { contentType: 'text/plain' });
    const first = (await files.info('docs/a.txt')).data?.version;
    expect(await filesUnder(join(root(), bucket))).toEqual([`docs/a.txt/~${first}`]);
    expect(await readFile(join(root(), bucket, 'docs', 'a.txt', `~${first}`), 'utf8')).toBe(
      'first',
    );

    await files.upload('docs/a.txt', 'second', { contentType: 'text/plain', upsert: true });
    const second = (await files.info('docs/a.txt')).data?.version;
    expect(second).not.toBe(first);
    // The replaced version is gone once the new row committed.
    expect(await filesUnder(join(root(), bucket))).toEqual([`docs/a.txt/~${second}`]);
  });

  it('are never written for a refused or failed upload', async () => {
    const A = h.world.a.tenantId;
    const conversation = `${A}/${h.world.a.conversationId}`;
    const before = await filesUnder(root());

    const denied = await h
      .client('agentA')
      .storage.from('knowledge')
      .upload(`${A}/denied.md`, '# no', { contentType: 'text/markdown' });
    expectStorageError(denied.error, 'AccessDenied', '403');
    const visitor = h.client('visitorA').storage.from('attachments');
    const wrongType = await visitor.upload(`${conversation}/page.html`, '<p>', {
      contentType: 'text/html',
    });
    expectStorageError(wrongType.error, 'InvalidMimeType', '415');
    const tooLarge = await visitor.upload(
      `${conversation}/big.png`,
      new Uint8Array(5 * 1024 * 1024 + 1),
      { contentType: 'image/png' },
    );
    expectStorageError(tooLarge.error, 'EntityTooLarge', '413');
    const duplicate = await h
      .client('service')
      .storage.from(bucket)
      .upload('docs/a.txt', 'third', { contentType: 'text/plain' });
    expectStorageError(duplicate.error, 'KeyAlreadyExists', '409');

    expect(await filesUnder(root())).toEqual(before);
    // Nor is a row left behind.
    const rows = await h.db.asService((sql) =>
      sql.query(`select name from storage.objects where name in ($1, $2, $3)`, [
        `${A}/denied.md`,
        `${conversation}/page.html`,
        `${conversation}/big.png`,
      ]),
    );
    expect(rows).toEqual([]);
  });

  it('go with their object, empty folders included', async () => {
    const files = h.client('service').storage.from(bucket);
    await files.upload('tmp/deep/x.txt', 'x', { contentType: 'text/plain' });
    await files.move('tmp/deep/x.txt', 'tmp/moved.txt');
    const moved = (await files.info('tmp/moved.txt')).data?.version;
    expect(await filesUnder(join(root(), bucket, 'tmp'))).toEqual([`moved.txt/~${moved}`]);
    await files.remove(['tmp/moved.txt']);
    expect(await readdir(join(root(), bucket))).toEqual(['docs']);
  });

  it('outlive a restart of the stack, which clears what a crash left behind', async () => {
    await h.close();
    // Bytes no row refers to and a half-written version: what a crash mid-upload leaves.
    const orphan = join(root(), bucket, 'orphan.txt', `~${randomUUID()}`);
    const partial = join(root(), bucket, 'docs', 'a.txt', `~${randomUUID()}.partial`);
    await mkdir(dirname(orphan), { recursive: true });
    await writeFile(orphan, 'orphan');
    await writeFile(partial, 'half');

    h = await startStorageHarness({ dataDir: dir });
    const files = h.client('service').storage.from(bucket);
    const { data } = await files.download('docs/a.txt');
    expect(new Uint8Array(await (data as Blob).arrayBuffer())).toEqual(bytesOf('second'));
    const version = (await files.info('docs/a.txt')).data?.version;
    expect(await filesUnder(join(root(), bucket))).toEqual([`docs/a.txt/~${version}`]);
    // A restart is a whole stack start, which takes far longer than one request.
  }, 180_000);
});
