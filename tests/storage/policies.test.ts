import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTORS } from '../support/world.ts';
import {
  bytesOf,
  expectStorageError,
  type StorageActor,
  type StorageHarness,
  startStorageHarness,
} from './support.ts';

// Every actor against both of Parley's buckets through supabase-js: who may upload, upsert,
// download, list, sign, move and remove, as the migration's policies on storage.objects say.
//
//   knowledge    <tenant>/…                 owners and admins write, members and operators read
//   attachments  <tenant>/<conversation>/…  the conversation's visitor writes while it is open;
//                                           that visitor, the tenant's members and operators read
//
// The service role bypasses RLS. Expectations are written out per case, not derived from the code.

const EVERYONE: StorageActor[] = [...ACTORS, 'service'];

let h: StorageHarness;
let A: string;
let B: string;
let convA: string;
let convOfVisitorB: string;
let convB: string;
let resolvedConvA: string;

const png = bytesOf('\x89PNG fake image bytes');
const markdown = bytesOf('# Returns\nWithin 60 days.');

async function seed(bucket: string, path: string, contentType: string, body: Uint8Array) {
  const { error } = await h.client('service').storage.from(bucket).upload(path, body, {
    contentType,
    upsert: true,
  });
  expect(error).toBeNull();
}

async function existsAsService(bucket: string, path: string) {
  return (await h.client('service').storage.from(bucket).exists(path)).data;
}

beforeAll(async () => {
  h = await startStorageHarness();
  A = h.world.a.tenantId;
  B = h.world.b.tenantId;
  convA = h.world.a.conversationId;
  convB = h.world.b.conversationId;
  convOfVisitorB = h.world.conversationOfVisitorB;
  [{ id: resolvedConvA }] = (await h.db.asService((sql) =>
    sql.query(
      `insert into public.conversations (tenant_id, visitor_id, status)
       values ($1, $2, 'resolved') returning id`,
      [A, h.world.users.visitorA],
    ),
  )) as [{ id: string }];
  await seed('knowledge', `${A}/seed.md`, 'text/markdown', markdown);
  await seed('knowledge', `${B}/seed.md`, 'text/markdown', markdown);
  await seed('attachments', `${A}/${convA}/seed.png`, 'image/png', png);
  await seed('attachments', `${A}/${convOfVisitorB}/seed.png`, 'image/png', png);
  await seed('attachments', `${A}/${resolvedConvA}/seed.png`, 'image/png', png);
  await seed('attachments', `${B}/${convB}/seed.png`, 'image/png', png);
});

afterAll(async () => {
  await h?.close();
});

interface Bucket {
  name: string;
  contentType: string;
  body: () => Uint8Array;
  /** The folder the main cases work in. */
  folder: () => string;
  writers: StorageActor[];
  readers: StorageActor[];
}

const buckets: Bucket[] = [
  {
    name: 'knowledge',
    contentType: 'text/markdown',
    body: () => markdown,
    folder: () => A,
    writers: ['adminA', 'ownerA', 'service'],
    readers: ['agentA', 'adminA', 'ownerA', 'platformAdmin', 'service'],
  },
  {
    name: 'attachments',
    contentType: 'image/png',
    body: () => png,
    folder: () => `${A}/${convA}`,
    writers: ['visitorA', 'service'],
    readers: ['visitorA', 'agentA', 'adminA', 'ownerA', 'platformAdmin', 'service'],
  },
];

describe.each(buckets)('$name bucket', (bucket) => {
  const ext = bucket.contentType === 'image/png' ? 'png' : 'md';
  const storage = (actor: StorageActor) => h.client(actor).storage.from(bucket.name);

  describe.each(EVERYONE)('%s', (actor) => {
    const writes = bucket.writers.includes(actor);
    const reads = bucket.readers.includes(actor);

    it(`${writes ? 'uploads' : 'may not upload'}`, async () => {
      const path = `${bucket.folder()}/up-${actor}.${ext}`;
      const { data, error } = await storage(actor).upload(path, bucket.body(), {
        contentType: bucket.contentType,
      });
      if (writes) {
        expect(error).toBeNull();
        expect(data?.fullPath).toBe(`${bucket.name}/${path}`);
        expect(await existsAsService(bucket.name, path)).toBe(true);
      } else {
        expectStorageError(error, 'AccessDenied', '403');
        expect(await existsAsService(bucket.name, path)).toBe(false);
      }
    });

    it(`${writes ? 'overwrites' : 'may not overwrite'} with upsert`, async () => {
      const path = `${bucket.folder()}/upsert-${actor}.${ext}`;
      await seed(bucket.name, path, bucket.contentType, bytesOf('original'));
      const { error } = await storage(actor).upload(path, bucket.body(), {
        contentType: bucket.contentType,
        upsert: true,
      });
      const { data } = await h.client('service').storage.from(bucket.name).download(path);
      if (writes) {
        expect(error).toBeNull();
        expect(new Uint8Array(await (data as Blob).arrayBuffer())).toEqual(bucket.body());
      } else {
        expectStorageError(error, 'AccessDenied', '403');
        expect(await (data as Blob).text()).toBe('original');
      }
    });

    it(`${reads ? 'downloads' : 'may not download'}`, async () => {
      const { data, error } = await storage(actor).download(`${bucket.folder()}/seed.${ext}`);
      if (reads) {
        expect(error).toBeNull();
        expect(new Uint8Array(await (data as Blob).arrayBuffer())).toEqual(bucket.body());
      } else {
        expectStorageError(error, 'NoSuchKey', '404');
      }
    });

    it(`${reads ? 'sees' : 'does not see'} the object in a listing and its info`, async () => {
      const { data, error } = await storage(actor).list(bucket.folder());
      expect(error).toBeNull();
      expect(data?.some((entry) => entry.name === `seed.${ext}`)).toBe(reads);
      const info = await storage(actor).info(`${bucket.folder()}/seed.${ext}`);
      if (reads) expect(info.data?.size).toBe(bucket.body().byteLength);
      else expectStorageError(info.error, 'NoSuchKey', '404');
    });

    it(`${reads ? 'signs' : 'may not sign'} a download URL`, async () => {
      const path = `${bucket.folder()}/seed.${ext}`;
      const { data, error } = await storage(actor).createSignedUrl(path, 60);
      const many = await storage(actor).createSignedUrls([path], 60);
      expect(many.error).toBeNull();
      if (reads) {
        expect(error).toBeNull();
        const response = await fetch(data?.signedUrl ?? '');
        expect(response.status).toBe(200);
        expect(new Uint8Array(await response.arrayBuffer())).toEqual(bucket.body());
        expect(many.data?.[0]).toMatchObject({ error: null, path });
        expect((await fetch(many.data?.[0]?.signedUrl ?? '')).status).toBe(200);
      } else {
        expectStorageError(error, 'NoSuchKey', '404');
        expect(many.data?.[0]).toMatchObject({
          error: 'Either the object does not exist or you do not have access to it',
          signedURL: null,
          signedUrl: null,
        });
      }
    });

    it(`${writes ? 'signs' : 'may not sign'} an upload URL`, async () => {
      const path = `${bucket.folder()}/signed-${actor}.${ext}`;
      const { data, error } = await storage(actor).createSignedUploadUrl(path);
      if (writes) {
        expect(error).toBeNull();
        // Whoever holds the token may upload, whatever their own rights.
        const upload = await h
          .client('anon')
          .storage.from(bucket.name)
          .uploadToSignedUrl(path, data?.token ?? '', bucket.body(), {
            contentType: bucket.contentType,
          });
        expect(upload.error).toBeNull();
        expect(await existsAsService(bucket.name, path)).toBe(true);
      } else {
        expectStorageError(error, 'AccessDenied', '403');
      }
    });

    it(`${writes ? 'moves' : 'may not move'} an object`, async () => {
      const from = `${bucket.folder()}/move-${actor}.${ext}`;
      const to = `${bucket.folder()}/moved-${actor}.${ext}`;
      await seed(bucket.name, from, bucket.contentType, bucket.body());
      const { error } = await storage(actor).move(from, to);
      if (writes) {
        expect(error).toBeNull();
        expect(await existsAsService(bucket.name, from)).toBe(false);
        expect(await existsAsService(bucket.name, to)).toBe(true);
      } else {
        // Unreadable rows do not exist for the caller; readable ones its UPDATE policy hides.
        expectStorageError(error, 'NoSuchKey', '404');
        expect(await existsAsService(bucket.name, from)).toBe(true);
        expect(await existsAsService(bucket.name, to)).toBe(false);
      }
    });

    it(`${writes ? 'removes' : 'may not remove'} an object`, async () => {
      const path = `${bucket.folder()}/remove-${actor}.${ext}`;
      await seed(bucket.name, path, bucket.contentType, bucket.body());
      const { data, error } = await storage(actor).remove([path]);
      // Storage skips what the caller may not delete without an error.
      expect(error).toBeNull();
      expect(data?.map((row) => row.name)).toEqual(writes ? [path] : []);
      expect(await existsAsService(bucket.name, path)).toBe(!writes);
    });
  });
});

describe('across tenants and conversations', () => {
  const cases: {
    name: string;
    bucket: string;
    path: () => string;
    writers: StorageActor[];
    readers: StorageActor[];
  }[] = [
    {
      name: "tenant B's knowledge",
      bucket: 'knowledge',
      path: () => `${B}/seed.md`,
      writers: ['ownerB', 'service'],
      readers: ['ownerB', 'platformAdmin', 'service'],
    },
    {
      name: "visitorB's conversation in tenant A",
      bucket: 'attachments',
      path: () => `${A}/${convOfVisitorB}/seed.png`,
      writers: ['visitorB', 'service'],
      readers: ['visitorB', 'agentA', 'adminA', 'ownerA', 'platformAdmin', 'service'],
    },
    {
      name: "visitorA's resolved conversation",
      bucket: 'attachments',
      path: () => `${A}/${resolvedConvA}/seed.png`,
      writers: ['service'],
      readers: ['visitorA', 'agentA', 'adminA', 'ownerA', 'platformAdmin', 'service'],
    },
    {
      name: "tenant B's conversation",
      bucket: 'attachments',
      path: () => `${B}/${convB}/seed.png`,
      writers: ['visitorB', 'service'],
      readers: ['visitorB', 'ownerB', 'platformAdmin', 'service'],
    },
    {
      // A conversation id filed under a tenant it does not belong to opens nothing.
      name: "visitorA's conversation under tenant B's folder",
      bucket: 'attachments',
      path: () => `${B}/${convA}/seed.png`,
      writers: ['service'],
      readers: ['ownerB', 'platformAdmin', 'service'],
    },
  ];

  describe.each(cases)('$name', (target) => {
    const contentType = target.bucket === 'knowledge' ? 'text/markdown' : 'image/png';
    const body = target.bucket === 'knowledge' ? markdown : png;

    beforeAll(async () => {
      if (!(await existsAsService(target.bucket, target.path()))) {
        await seed(target.bucket, target.path(), contentType, body);
      }
    });

    it.each(EVERYONE)('%s', async (actor) => {
      const storage = h.client(actor).storage.from(target.bucket);
      const read = await storage.download(target.path());
      if (target.readers.includes(actor)) expect(read.error).toBeNull();
      else expectStorageError(read.error, 'NoSuchKey', '404');

      const path = target.path().replace(/seed\.(png|md)$/, `cross-${actor}.$1`);
      const write = await storage.upload(path, body, { contentType });
      if (target.writers.includes(actor)) expect(write.error).toBeNull();
      else expectStorageError(write.error, 'AccessDenied', '403');
    });
  });

  it("an owner cannot move a document into another tenant's folder", async () => {
    await seed('knowledge', `${A}/to-b.md`, 'text/markdown', markdown);
    const { error } = await h
      .client('ownerA')
      .storage.from('knowledge')
      .move(`${A}/to-b.md`, `${B}/to-b.md`);
    expectStorageError(error, 'AccessDenied', '403');
    expect(await existsAsService('knowledge', `${A}/to-b.md`)).toBe(true);
    expect(await existsAsService('knowledge', `${B}/to-b.md`)).toBe(false);
  });

  it("a visitor cannot move its attachment into another visitor's conversation", async () => {
    const from = `${A}/${convA}/to-b.png`;
    const to = `${A}/${convOfVisitorB}/to-b.png`;
    await seed('attachments', from, 'image/png', png);
    const { error } = await h.client('visitorA').storage.from('attachments').move(from, to);
    expectStorageError(error, 'AccessDenied', '403');
    expect(await existsAsService('attachments', to)).toBe(false);
  });

  it('a visitor cannot copy an attachment it can read into a folder it cannot write', async () => {
    const { error } = await h
      .client('visitorA')
      .storage.from('attachments')
      .copy(`${A}/${resolvedConvA}/seed.png`, `${A}/${resolvedConvA}/copy.png`);
    expectStorageError(error, 'AccessDenied', '403');
    const own = await h
      .client('visitorA')
      .storage.from('attachments')
      .copy(`${A}/${resolvedConvA}/seed.png`, `${A}/${convA}/copy.png`);
    expect(own.error).toBeNull();
  });

  it('a member cannot copy a knowledge document it can only read', async () => {
    const { error } = await h
      .client('agentA')
      .storage.from('knowledge')
      .copy(`${A}/seed.md`, `${A}/agent-copy.md`);
    expectStorageError(error, 'AccessDenied', '403');
  });

  it('names outside the <tenant>/<file> shape are refused even to owners', async () => {
    const storage = h.client('ownerA').storage.from('knowledge');
    for (const path of ['loose.md', 'not-a-uuid/file.md', `${A}`]) {
      expectStorageError(
        (await storage.upload(path, markdown, { contentType: 'text/markdown' })).error,
        'AccessDenied',
        '403',
      );
    }
  });

  it('only the service role lists buckets and empties them', async () => {
    for (const actor of ACTORS) {
      const { data, error } = await h.client(actor).storage.listBuckets();
      expect(error).toBeNull();
      expect(data).toEqual([]);
      expectStorageError(
        (await h.client(actor).storage.emptyBucket('knowledge')).error,
        'AccessDenied',
        '403',
        403,
      );
      expectStorageError(
        (await h.client(actor).storage.createBucket(`mine-${actor}`)).error,
        'AccessDenied',
        '403',
      );
    }
    const { data } = await h.client('service').storage.listBuckets();
    expect(data?.map((b) => b.id)).toEqual(expect.arrayContaining(['attachments', 'knowledge']));
  });
});
