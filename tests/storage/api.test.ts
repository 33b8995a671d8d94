import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageApiError } from '@supabase/storage-js';
import { createClient } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { syncConfigBuckets } from '../../supabase/local/storage/buckets.ts';
import { readStorageConfig } from '../../supabase/local/storage/config.ts';
import {
  bytesOf,
  expectStorageError,
  type StorageHarness,
  startStorageHarness,
} from './support.ts';

// The Storage API as storage-js and plain HTTP clients see it: buckets, uploads in both body
// shapes, downloads and their headers, listings, copy and move, limits, signed URLs, names that
// must never reach the disk, and errors in Storage's shape. Expectations follow Supabase Storage.

let h: StorageHarness;
const scratch = `scratch-${Date.now()}`;
const service = () => h.client('service').storage;
const files = () => service().from(scratch);

async function body(response: Response) {
  return (await response.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  h = await startStorageHarness();
  const { error } = await service().createBucket(scratch, { public: false });
  expect(error).toBeNull();
});

afterAll(async () => {
  await h?.close();
});

describe('buckets', () => {
  it('are created, read, listed, updated, emptied and deleted', async () => {
    const id = `life-${Date.now()}`;
    expect(
      await service().createBucket(id, {
        public: true,
        fileSizeLimit: '1MB',
        allowedMimeTypes: ['image/*'],
      }),
    ).toEqual({ data: { name: id }, error: null });
    const { data: bucket } = await service().getBucket(id);
    expect(bucket).toMatchObject({
      id,
      name: id,
      public: true,
      file_size_limit: 1_000_000,
      allowed_mime_types: ['image/*'],
    });

    const listed = await service().listBuckets({ search: 'life-', sortColumn: 'name' });
    expect(listed.data?.map((b) => b.id)).toEqual([id]);

    expect(await service().updateBucket(id, { public: false, fileSizeLimit: 2048 })).toEqual({
      data: { message: 'Successfully updated' },
      error: null,
    });
    expect((await service().getBucket(id)).data).toMatchObject({
      public: false,
      file_size_limit: 2048,
      allowed_mime_types: ['image/*'],
    });

    await service().from(id).upload('a.png', bytesOf('png'), { contentType: 'image/png' });
    expectStorageError((await service().deleteBucket(id)).error, 'ResourceNotEmpty', '409');
    expect((await service().emptyBucket(id)).data).toEqual({ message: 'Successfully emptied' });
    expect((await service().deleteBucket(id)).data).toEqual({ message: 'Successfully deleted' });
    expectStorageError((await service().getBucket(id)).error, 'NoSuchBucket', '404');
  });

  it('refuse duplicates, bad names and limits above the global one', async () => {
    expectStorageError((await service().createBucket(scratch)).error, 'BucketAlreadyExists', '409');
    expectStorageError(
      (await service().createBucket('no/slash')).error,
      'InvalidBucketName',
      '400',
    );
    expectStorageError((await service().createBucket('café')).error, 'InvalidBucketName', '400');
    expectStorageError(
      (
        await service().createBucket(`huge-${Date.now()}`, {
          public: false,
          fileSizeLimit: '100GB',
        })
      ).error,
      'EntityTooLarge',
      '413',
    );
    expectStorageError(
      (await service().updateBucket('missing', { public: true })).error,
      'NoSuchBucket',
      '404',
    );
  });

  it('come from config.toml [storage.buckets.*] as the CLI seeds them', async () => {
    const project = await mkdtemp(join(tmpdir(), 'parley-storage-config-'));
    try {
      await mkdir(join(project, 'supabase'));
      await writeFile(
        join(project, 'supabase', 'config.toml'),
        `[storage]\nfile_size_limit = "50MiB"\n\n[storage.buckets.from-config]\npublic = true\nfile_size_limit = "1KiB"\nallowed_mime_types = ["text/plain"]\n`,
      );
      const config = readStorageConfig(project);
      expect(config.fileSizeLimit).toBe(50 * 1024 * 1024);
      await h.db.asService((sql) => syncConfigBuckets(sql, config.buckets));
    } finally {
      await rm(project, { recursive: true, force: true });
    }
    expect((await service().getBucket('from-config')).data).toMatchObject({
      public: true,
      file_size_limit: 1024,
      allowed_mime_types: ['text/plain'],
    });
    const bucket = service().from('from-config');
    expect(
      (await bucket.upload('ok.txt', 'small', { contentType: 'text/plain' })).error,
    ).toBeNull();
    expectStorageError(
      (await bucket.upload('big.txt', 'x'.repeat(1025), { contentType: 'text/plain' })).error,
      'EntityTooLarge',
      '413',
    );
    const response = await fetch(bucket.getPublicUrl('ok.txt').data.publicUrl);
    expect(await response.text()).toBe('small');
  });
});

describe('objects', () => {
  it('keep what a raw upload sends: type, cache control and metadata', async () => {
    const { data, error } = await files().upload('docs/raw file.txt', 'hello world', {
      contentType: 'text/plain',
      cacheControl: '120',
      metadata: { source_system: 'tests', nested: { some_key: 1 } },
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({
      path: 'docs/raw file.txt',
      fullPath: `${scratch}/docs/raw file.txt`,
    });
    const info = await files().info('docs/raw file.txt');
    expect(info.data).toMatchObject({
      id: data?.id,
      name: 'docs/raw file.txt',
      bucketId: scratch,
      size: 11,
      contentType: 'text/plain',
      cacheControl: 'max-age=120',
      etag: '"5eb63bbbe01eeed093cb22bb8f5acdc3"',
      // storage-js camelizes the whole answer, the user's own keys included.
      metadata: { sourceSystem: 'tests', nested: { someKey: 1 } },
    });

    const response = await fetch(
      `${h.stack.url}/storage/v1/object/${scratch}/docs/raw%20file.txt`,
      {
        headers: { authorization: `Bearer ${h.stack.keys.serviceRoleKey}` },
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('etag')).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    expect(response.headers.get('cache-control')).toBe('max-age=120');
    expect(response.headers.get('last-modified')).toMatch(/GMT$/);
    expect(await response.text()).toBe('hello world');
  });

  it('take Blob and File uploads as multipart forms', async () => {
    const blob = new Blob([new Uint8Array([0, 1, 2, 255])], { type: 'application/octet-stream' });
    expect((await files().upload('bin/blob.bin', blob, { cacheControl: '60' })).error).toBeNull();
    const file = new File(['# Title'], 'notes.md', { type: 'text/markdown' });
    expect((await files().upload('bin/notes.md', file, { metadata: { a: 1 } })).error).toBeNull();

    const blobInfo = await files().info('bin/blob.bin');
    expect(blobInfo.data).toMatchObject({
      size: 4,
      contentType: 'application/octet-stream',
      cacheControl: 'max-age=60',
    });
    const { data } = await files().download('bin/blob.bin');
    expect(new Uint8Array(await (data as Blob).arrayBuffer())).toEqual(
      new Uint8Array([0, 1, 2, 255]),
    );
    expect((await files().info('bin/notes.md')).data).toMatchObject({
      contentType: 'text/markdown',
      metadata: { a: 1 },
    });
  });

  it('create only once unless upserting; update() overwrites or creates', async () => {
    expect(
      (await files().upload('once.txt', 'one', { contentType: 'text/plain' })).error,
    ).toBeNull();
    expectStorageError(
      (await files().upload('once.txt', 'two', { contentType: 'text/plain' })).error,
      'KeyAlreadyExists',
      '409',
    );
    const first = await files().info('once.txt');
    expect((await files().upload('once.txt', 'three', { upsert: true })).error).toBeNull();
    expect(await (await files().download('once.txt')).data?.text()).toBe('three');
    // Overwriting keeps the object's id and gives it a new version.
    const second = await files().info('once.txt');
    expect(second.data?.id).toBe(first.data?.id);
    expect(second.data?.version).not.toBe(first.data?.version);

    expect((await files().update('updated.txt', 'made by update')).error).toBeNull();
    expect(await (await files().download('updated.txt')).data?.text()).toBe('made by update');
  });

  it('list one level below a prefix, folders first, with search, order and paging', async () => {
    for (const name of ['b.txt', 'a.txt', 'c.txt', 'sub/deep.txt', 'sub/deeper/x.txt']) {
      await files().upload(`list/${name}`, name, { contentType: 'text/plain' });
    }
    const all = await files().list('list');
    expect(all.data?.map((entry) => [entry.name, entry.id === null])).toEqual([
      ['sub', true],
      ['a.txt', false],
      ['b.txt', false],
      ['c.txt', false],
    ]);
    expect(all.data?.[1]?.metadata).toMatchObject({ size: 5, mimetype: 'text/plain' });
    const desc = await files().list('list/', { sortBy: { column: 'name', order: 'desc' } });
    expect(desc.data?.map((entry) => entry.name)).toEqual(['sub', 'c.txt', 'b.txt', 'a.txt']);
    const page = await files().list('list', { limit: 2, offset: 1 });
    expect(page.data?.map((entry) => entry.name)).toEqual(['a.txt', 'b.txt']);
    const search = await files().list('list', { search: 'B' });
    expect(search.data?.map((entry) => entry.name)).toEqual(['b.txt']);
    expect((await files().list('list/sub')).data?.map((entry) => entry.name)).toEqual([
      'deeper',
      'deep.txt',
    ]);
    expect((await files().list('nothing-here')).data).toEqual([]);
  });

  it('list with listV2: full keys, folders with a delimiter, cursor paging', async () => {
    for (const name of [
      'v2/b.txt',
      'v2/a.txt',
      'v2/dir/one.txt',
      'v2/dir/two.txt',
      'v2/z/deep/x.txt',
    ]) {
      await files().upload(name, name, { contentType: 'text/plain' });
    }
    const flat = await files().listV2({ prefix: 'v2/' });
    expect(flat.error).toBeNull();
    expect(flat.data?.hasNext).toBe(false);
    expect(flat.data?.folders).toEqual([]);
    expect(flat.data?.objects.map((o) => o.name)).toEqual([
      'v2/a.txt',
      'v2/b.txt',
      'v2/dir/one.txt',
      'v2/dir/two.txt',
      'v2/z/deep/x.txt',
    ]);
    const tree = await files().listV2({ prefix: 'v2/', with_delimiter: true });
    expect(tree.data?.folders.map((f) => f.name)).toEqual(['v2/dir/', 'v2/z/']);
    expect(tree.data?.objects.map((o) => o.name)).toEqual(['v2/a.txt', 'v2/b.txt']);

    const first = await files().listV2({ prefix: 'v2/', limit: 2 });
    expect(first.data?.objects.map((o) => o.name)).toEqual(['v2/a.txt', 'v2/b.txt']);
    expect(first.data?.hasNext).toBe(true);
    const second = await files().listV2({
      prefix: 'v2/',
      limit: 2,
      cursor: first.data?.nextCursor,
    });
    expect(second.data?.objects.map((o) => o.name)).toEqual(['v2/dir/one.txt', 'v2/dir/two.txt']);
    const desc = await files().listV2({
      prefix: 'v2/',
      with_delimiter: true,
      sortBy: { column: 'name', order: 'desc' },
    });
    expect(
      [...(desc.data?.folders ?? []), ...(desc.data?.objects ?? [])].map((e) => e.name),
    ).toEqual(['v2/z/', 'v2/dir/', 'v2/b.txt', 'v2/a.txt']);
    // Under RLS like every read: a member of no tenant sees nothing in knowledge.
    const outsider = await h
      .client('ownerB')
      .storage.from('knowledge')
      .listV2({ prefix: `${h.world.a.tenantId}/` });
    expect(outsider.data).toEqual({ hasNext: false, folders: [], objects: [] });
  });

  it('copy and move, within a bucket and to another', async () => {
    const other = `other-${Date.now()}`;
    await service().createBucket(other);
    await files().upload('orig.txt', 'original', {
      contentType: 'text/plain',
      metadata: { kept: true },
    });

    expect(await files().copy('orig.txt', 'copy.txt')).toEqual({
      data: { path: `${scratch}/copy.txt` },
      error: null,
    });
    expect((await files().info('copy.txt')).data?.metadata).toEqual({ kept: true });
    await files().copy('orig.txt', 'copy-new-meta.txt', {
      copyMetadata: false,
      metadata: { fresh: 1 },
    } as never);
    expect((await files().info('copy-new-meta.txt')).data?.metadata).toEqual({ fresh: 1 });
    expect(
      (await files().copy('orig.txt', 'copied.txt', { destinationBucket: other })).data,
    ).toEqual({
      path: `${other}/copied.txt`,
    });
    expect(await (await service().from(other).download('copied.txt')).data?.text()).toBe(
      'original',
    );
    expectStorageError(
      (await files().copy('orig.txt', 'copy.txt')).error,
      'KeyAlreadyExists',
      '409',
    );

    expect((await files().move('copy.txt', 'moved/copy.txt')).data).toMatchObject({
      message: 'Successfully moved',
    });
    expect((await files().exists('copy.txt')).data).toBe(false);
    expect(await (await files().download('moved/copy.txt')).data?.text()).toBe('original');
    expect(
      (await files().move('moved/copy.txt', 'elsewhere.txt', { destinationBucket: other })).error,
    ).toBeNull();
    expect(await (await service().from(other).download('elsewhere.txt')).data?.text()).toBe(
      'original',
    );
    expectStorageError((await files().move('missing.txt', 'x.txt')).error, 'NoSuchKey', '404');
    expectStorageError(
      (await files().move('orig.txt', 'x.txt', { destinationBucket: 'no-such-bucket' })).error,
      'NoSuchBucket',
      '404',
    );
  });

  it('remove several names, skipping the missing ones', async () => {
    await files().upload('rm/1.txt', '1', { contentType: 'text/plain' });
    await files().upload('rm/2.txt', '2', { contentType: 'text/plain' });
    const { data, error } = await files().remove(['rm/1.txt', 'rm/2.txt', 'rm/none.txt']);
    expect(error).toBeNull();
    expect(data?.map((row) => row.name).sort()).toEqual(['rm/1.txt', 'rm/2.txt']);
    expect((await files().list('rm')).data).toEqual([]);
    const single = await fetch(`${h.stack.url}/storage/v1/object/${scratch}/orig.txt`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${h.stack.keys.serviceRoleKey}` },
    });
    expect(await single.json()).toEqual({ message: 'Successfully deleted' });
  });

  it('serve byte ranges, attachments and HTML as plain text', async () => {
    await files().upload('page.html', '<script>alert(1)</script>', { contentType: 'text/html' });
    const url = `${h.stack.url}/storage/v1/object/${scratch}/page.html`;
    const auth = { authorization: `Bearer ${h.stack.keys.serviceRoleKey}` };
    const page = await fetch(url, { headers: auth });
    expect(page.headers.get('content-type')).toBe('text/plain');
    const ranged = await fetch(url, { headers: { ...auth, range: 'bytes=0-7' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe('bytes 0-7/25');
    expect(await ranged.text()).toBe('<script>');
    const outside = await fetch(url, { headers: { ...auth, range: 'bytes=100-' } });
    expect(outside.status).toBe(416);
    const signed = await files().createSignedUrl('page.html', 60, { download: 'saved.html' });
    const download = await fetch(signed.data?.signedUrl ?? '');
    expect(download.headers.get('content-disposition')).toContain(
      'attachment; filename="saved.html"',
    );
  });
});

describe('public and private buckets', () => {
  const publicBucket = `public-${Date.now()}`;

  beforeAll(async () => {
    await service().createBucket(publicBucket, { public: true });
    await service().from(publicBucket).upload('logo.txt', 'logo', { contentType: 'text/plain' });
    await files().upload('secret.txt', 'secret', { contentType: 'text/plain' });
  });

  it('serve public objects to anyone, without RLS', async () => {
    const url = service().from(publicBucket).getPublicUrl('logo.txt').data.publicUrl;
    expect(await (await fetch(url)).text()).toBe('logo');
    // Public buckets skip RLS for downloads too, with or without a JWT.
    const anon = await h.client('anon').storage.from(publicBucket).download('logo.txt');
    expect(await anon.data?.text()).toBe('logo');
    const bare = await fetch(`${h.stack.url}/storage/v1/object/${publicBucket}/logo.txt`);
    expect(await bare.text()).toBe('logo');
    const info = await fetch(
      `${h.stack.url}/storage/v1/object/info/public/${publicBucket}/logo.txt`,
    );
    expect(await body(info)).toMatchObject({ name: 'logo.txt', size: 4 });
  });

  it('never serve private objects by their public URL or without a JWT', async () => {
    const url = files().getPublicUrl('secret.txt').data.publicUrl;
    const response = await fetch(url);
    expect(response.status).toBe(400);
    expect(await body(response)).toEqual({
      statusCode: '404',
      code: 'NoSuchBucket',
      error: 'Bucket not found',
      message: 'Bucket not found',
    });
    const bare = await fetch(`${h.stack.url}/storage/v1/object/${scratch}/secret.txt`);
    expect(await body(bare)).toMatchObject({ code: 'NoSuchBucket', statusCode: '404' });
  });
});

describe('limits', () => {
  const A = () => h.world.a.tenantId;
  const attachment = (name: string) => `${A()}/${h.world.a.conversationId}/${name}`;

  it('refuse attachments above the bucket size limit, and take one at it', async () => {
    const visitor = h.client('visitorA').storage.from('attachments');
    const limit = 5 * 1024 * 1024;
    expect(
      (
        await visitor.upload(attachment('max.png'), new Uint8Array(limit), {
          contentType: 'image/png',
        })
      ).error,
    ).toBeNull();
    const { error } = await visitor.upload(attachment('over.png'), new Uint8Array(limit + 1), {
      contentType: 'image/png',
    });
    expectStorageError(error, 'EntityTooLarge', '413');
    expect(error?.message).toBe('The object exceeded the maximum allowed size');
    const multipart = await visitor.upload(
      attachment('over-blob.png'),
      new Blob([new Uint8Array(limit + 1)], { type: 'image/png' }),
    );
    expectStorageError(multipart.error, 'EntityTooLarge', '413');
    expect((await service().from('attachments').exists(attachment('over.png'))).data).toBe(false);
  });

  it('refuse types the bucket does not allow, compared as sent', async () => {
    const visitor = h.client('visitorA').storage.from('attachments');
    const { error } = await visitor.upload(attachment('page.html'), '<p>hi</p>', {
      contentType: 'text/html',
    });
    expectStorageError(error, 'InvalidMimeType', '415');
    expect(error?.message).toBe('mime type text/html is not supported');
    // storage-js's default type carries a charset, which "text/plain" does not match.
    const owner = h.client('ownerA').storage.from('knowledge');
    expectStorageError(
      (await owner.upload(`${A()}/plain.txt`, 'text')).error,
      'InvalidMimeType',
      '415',
    );
    const md = new Blob(['# Doc'], { type: 'text/markdown' });
    expect((await owner.upload(`${A()}/doc.md`, md)).error).toBeNull();
  });

  it('match wildcard types', async () => {
    const id = `images-${Date.now()}`;
    await service().createBucket(id, { public: false, allowedMimeTypes: ['image/*'] });
    expect(
      (await service().from(id).upload('a.webp', 'x', { contentType: 'image/webp' })).error,
    ).toBeNull();
    expectStorageError(
      (await service().from(id).upload('a.txt', 'x', { contentType: 'text/plain' })).error,
      'InvalidMimeType',
      '415',
    );
  });
});

describe('signed URLs', () => {
  const secret = () => new TextEncoder().encode(h.stack.keys.jwtSecret);

  beforeAll(async () => {
    await files().upload('signed/a.txt', 'A', { contentType: 'text/plain' });
    await files().upload('signed/b.txt', 'B', { contentType: 'text/plain' });
  });

  it('open their object until they expire', async () => {
    // Expiry is checked in whole seconds, so 2 s leaves at least one for the first fetch.
    const { data } = await files().createSignedUrl('signed/a.txt', 2);
    expect(await (await fetch(data?.signedUrl ?? '')).text()).toBe('A');
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const expired = await fetch(data?.signedUrl ?? '');
    expect(expired.status).toBe(400);
    expect(await body(expired)).toEqual({
      statusCode: '400',
      code: 'ExpiredToken',
      error: 'ExpiredToken',
      message: 'The provided token has expired.',
    });
  });

  it('refuse tampered tokens and tokens for another object', async () => {
    const { data } = await files().createSignedUrl('signed/a.txt', 60);
    const url = new URL(data?.signedUrl ?? '');
    const token = url.searchParams.get('token') ?? '';

    const [header, payload, signature] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()),
        url: `${scratch}/signed/b.txt`,
      }),
    ).toString('base64url');
    const forged = `${header}.${forgedPayload}.${signature}`;
    const other = `${h.stack.url}/storage/v1/object/sign/${scratch}/signed/b.txt`;
    expect(await body(await fetch(`${other}?token=${forged}`))).toMatchObject({
      code: 'InvalidJWT',
      statusCode: '400',
    });

    const flipped = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    url.searchParams.set('token', flipped);
    expect(await body(await fetch(url))).toMatchObject({ code: 'InvalidJWT', statusCode: '400' });

    // A genuine token only opens the path it names.
    expect(await body(await fetch(`${other}?token=${token}`))).toEqual({
      statusCode: '400',
      code: 'InvalidSignature',
      error: 'InvalidSignature',
      message: 'The url do not match the signature',
    });

    const foreign = await new SignJWT({ url: `${scratch}/signed/b.txt`, scope: 'download' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-of-at-least-32-characters!'));
    expect(await body(await fetch(`${other}?token=${foreign}`))).toMatchObject({
      code: 'InvalidJWT',
    });
    expect(await body(await fetch(other))).toMatchObject({ code: 'InvalidJWT' });
  });

  it('upload once through a signed upload URL, with upsert only when signed so', async () => {
    const { data, error } = await files().createSignedUploadUrl('signed/upload.txt');
    expect(error).toBeNull();
    expect(data?.signedUrl).toContain(
      `/storage/v1/object/upload/sign/${scratch}/signed/upload.txt?token=`,
    );
    const anon = h.client('anon').storage.from(scratch);
    const first = await anon.uploadToSignedUrl('signed/upload.txt', data?.token ?? '', 'one', {
      contentType: 'text/plain',
    });
    expect(first).toEqual({
      data: { path: 'signed/upload.txt', fullPath: `${scratch}/signed/upload.txt` },
      error: null,
    });
    // The token's upsert wins over the x-upsert header the client sends.
    const again = await anon.uploadToSignedUrl('signed/upload.txt', data?.token ?? '', 'two', {
      contentType: 'text/plain',
      upsert: true,
    });
    expectStorageError(again.error, 'KeyAlreadyExists', '409');
    const upsert = await files().createSignedUploadUrl('signed/upload.txt', { upsert: true });
    expect(
      (await anon.uploadToSignedUrl('signed/upload.txt', upsert.data?.token ?? '', 'three')).error,
    ).toBeNull();
    expect(await (await files().download('signed/upload.txt')).data?.text()).toBe('three');

    // Neither another path nor a download token will do.
    expectStorageError(
      (await anon.uploadToSignedUrl('signed/elsewhere.txt', upsert.data?.token ?? '', 'x')).error,
      'InvalidSignature',
      '400',
    );
    const download = await files().createSignedUrl('signed/a.txt', 60);
    const downloadToken = new URL(download.data?.signedUrl ?? '').searchParams.get('token') ?? '';
    expectStorageError(
      (await anon.uploadToSignedUrl('signed/a.txt', downloadToken, 'x', { upsert: true })).error,
      'InvalidSignature',
      '400',
    );
  });

  it('refuse expired upload tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      url: `${scratch}/signed/late.txt`,
      scope: 'upload',
      upsert: false,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(now - 120)
      .setExpirationTime(now - 60)
      .sign(secret());
    const { error } = await h
      .client('anon')
      .storage.from(scratch)
      .uploadToSignedUrl('signed/late.txt', token, 'x');
    expectStorageError(error, 'ExpiredToken', '400');
    expect((await files().exists('signed/late.txt')).data).toBe(false);
  });
});

describe('names', () => {
  it('never let a key leave its bucket: dot segments, absolute paths, NUL, non-ASCII', async () => {
    await files().upload('safe.txt', 'safe', { contentType: 'text/plain' });
    for (const key of [
      '../escape.txt',
      'a/../../escape.txt',
      '/etc/passwd',
      './x.txt',
      'a//b.txt',
      'café.txt',
      'nul\u0000.txt',
    ]) {
      expectStorageError((await files().move('safe.txt', key)).error, 'InvalidKey', '400');
      expectStorageError((await files().copy('safe.txt', key)).error, 'InvalidKey', '400');
    }
    const encoded = await fetch(
      `${h.stack.url}/storage/v1/object/${scratch}/a%2F..%2F..%2Fescape.txt`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h.stack.keys.serviceRoleKey}`,
          'content-type': 'text/plain',
        },
        body: 'x',
      },
    );
    expect(await body(encoded)).toMatchObject({
      code: 'InvalidKey',
      statusCode: '400',
      message: 'Invalid key: a/../../escape.txt',
    });
    const nul = await fetch(`${h.stack.url}/storage/v1/object/${scratch}/x%00.txt`, {
      headers: { authorization: `Bearer ${h.stack.keys.serviceRoleKey}` },
    });
    expect(await body(nul)).toMatchObject({ code: 'InvalidKey' });
    expectStorageError((await files().upload('naïve.txt', 'x')).error, 'InvalidKey', '400');
  });
});

describe('errors', () => {
  it('are Storage-shaped with the logical status in statusCode', async () => {
    const missing = await files().download('nope.txt');
    expectStorageError(missing.error, 'NoSuchKey', '404');
    expect(missing.error?.message).toBe('Object not found');
    expect((await files().exists('nope.txt')).data).toBe(false);
    // exists() only answers false for a missing object; a missing bucket is thrown.
    await expect(service().from('no-such-bucket').exists('x')).rejects.toBeInstanceOf(
      StorageApiError,
    );
    expectStorageError(
      (await service().from('no-such-bucket').upload('x.txt', 'x')).error,
      'NoSuchBucket',
      '404',
    );
  });

  it('refuse requests without a valid JWT, except downloads which fall back to anon', async () => {
    const bucketUrl = `${h.stack.url}/storage/v1/bucket`;
    const none = await fetch(bucketUrl);
    expect(none.status).toBe(400);
    expect(await body(none)).toEqual({
      statusCode: '403',
      code: 'AccessDenied',
      error: 'Unauthorized',
      message: 'jwt must be provided',
    });
    const bad = await fetch(bucketUrl, { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(await body(bad)).toMatchObject({ code: 'AccessDenied', message: 'jwt malformed' });
    const expired = await h.token(h.world.claims.ownerA, -10);
    const late = await fetch(bucketUrl, { headers: { authorization: `Bearer ${expired}` } });
    expect(await body(late)).toMatchObject({ code: 'AccessDenied', message: 'jwt expired' });
    // The apikey alone stands for the caller, as the gateway forwards it.
    const apikey = await fetch(bucketUrl, { headers: { apikey: h.stack.keys.serviceRoleKey } });
    expect(apikey.status).toBe(200);
  });

  it('answer unknown routes with 404 and emptyBucket for users with HTTP 403', async () => {
    const unknown = await fetch(`${h.stack.url}/storage/v1/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(await body(unknown)).toMatchObject({ statusCode: '404', error: 'Not Found' });
    const { error } = await h.client('ownerA').storage.emptyBucket('knowledge');
    expectStorageError(error, 'AccessDenied', '403', 403);
    expect(error?.message).toBe('Access denied: Invalid role');
  });

  it('answer CORS preflights for browsers', async () => {
    const response = await fetch(`${h.stack.url}/storage/v1/object/${scratch}/x.txt`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, x-upsert, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-headers')).toContain('x-upsert');
  });
});

describe('a visitor signed in through Auth', () => {
  it('writes and reads its own conversation with its session, owning what it uploads', async () => {
    const visitor = createClient(h.stack.url, h.stack.keys.anonKey, {
      auth: { autoRefreshToken: false, persistSession: false },
      realtime: { transport: WebSocket as never },
    });
    const { data, error } = await visitor.auth.signInAnonymously();
    expect(error).toBeNull();
    const userId = data.user?.id ?? '';
    const tenant = h.world.a.tenantId;
    const [conversation] = await h.db.asService((sql) =>
      sql.query<{ id: string }>(
        'insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id',
        [tenant, userId],
      ),
    );
    const path = `${tenant}/${conversation?.id}/photo.png`;
    const attachments = visitor.storage.from('attachments');
    expect(
      (await attachments.upload(path, bytesOf('png'), { contentType: 'image/png' })).error,
    ).toBeNull();
    expect(await (await attachments.download(path)).data?.text()).toBe('png');
    const [row] = await h.db.asService((sql) =>
      sql.query('select owner, owner_id from storage.objects where bucket_id = $1 and name = $2', [
        'attachments',
        path,
      ]),
    );
    expect(row).toEqual({ owner: userId, owner_id: userId });
    const elsewhere = `${tenant}/${h.world.a.conversationId}/photo.png`;
    expectStorageError(
      (await attachments.upload(elsewhere, bytesOf('png'), { contentType: 'image/png' })).error,
      'AccessDenied',
      '403',
    );
  });
});

describe('the SQL surface policies use', () => {
  it("has Supabase's path helpers", async () => {
    const [row] = await h.db.asService((sql) =>
      sql.query(
        `select storage.foldername('a/b/c.txt') as folders, storage.filename('a/b/c.txt') as file,
                storage.extension('a/b/c.tar.gz') as ext, storage.extension('a/noext') as bare`,
      ),
    );
    expect(row).toEqual({ folders: ['a', 'b'], file: 'c.txt', ext: 'gz', bare: 'noext' });
  });

  it('runs policies with the JWT, the request method, path and headers set', async () => {
    const bucket = `gated-${Date.now()}`;
    await service().createBucket(bucket, { public: false });
    await service().from(bucket).upload('note.txt', 'gated', { contentType: 'text/plain' });
    await h.db.asService(async (sql) => {
      // Policies belong to the table owner, the test session's login role.
      await sql.query(`select set_config('role', 'none', true)`);
      await sql.query(
        `create policy "${bucket}" on storage.objects for select to authenticated
           using (bucket_id = '${bucket}'
                  and storage.extension(name) = 'txt'
                  and current_setting('request.method', true) = 'GET'
                  and current_setting('request.path', true) like '/storage/v1/object/%'
                  and current_setting('request.headers', true)::jsonb ->> 'x-gate' = 'open'
                  and auth.jwt() ->> 'email' = current_setting('request.jwt.claims', true)::jsonb ->> 'email'
                  and current_setting('request.jwt', true) <> ''
                  and auth.uid() = '${h.world.users.ownerB}')`,
      );
    });
    const url = `${h.stack.url}/storage/v1/object/authenticated/${bucket}/note.txt`;
    const authorization = `Bearer ${await h.token(h.world.claims.ownerB)}`;
    const open = await fetch(url, { headers: { authorization, 'x-gate': 'open' } });
    expect(await open.text()).toBe('gated');
    const shut = await fetch(url, { headers: { authorization } });
    expect(await body(shut)).toMatchObject({ code: 'NoSuchKey' });
    const other = await fetch(url, {
      headers: {
        authorization: `Bearer ${await h.token(h.world.claims.ownerA)}`,
        'x-gate': 'open',
      },
    });
    expect(await body(other)).toMatchObject({ code: 'NoSuchKey' });
  });

  it('keeps folder placeholders empty', async () => {
    expect((await files().upload('folder/.emptyFolderPlaceholder', '')).error).toBeNull();
    expectStorageError(
      (await files().upload('other/.emptyFolderPlaceholder', 'x')).error,
      'EntityTooLarge',
      '413',
    );
  });
});
