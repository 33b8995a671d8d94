import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStorageError, type StorageHarness, startStorageHarness } from './support.ts';

// The plan's storage quota where it is spent: an upload into a tenant's folder that would take it
// past storage_mb is refused with Storage's own AccessDenied answer, whichever bucket and route it
// comes by, while other tenants keep uploading.

const KB = 1024;
let h: StorageHarness;
let A: string;
let B: string;
let convA: string;

const bytes = (size: number, fill = 0x61) => new Uint8Array(size).fill(fill);

const upload = (
  actor: 'ownerA' | 'ownerB' | 'visitorA' | 'service',
  bucket: string,
  path: string,
  size: number,
  options: { contentType?: string; upsert?: boolean } = {},
) =>
  h
    .client(actor)
    .storage.from(bucket)
    .upload(path, bytes(size), {
      contentType: options.contentType ?? 'text/markdown',
      upsert: options.upsert ?? false,
    });

beforeAll(async () => {
  h = await startStorageHarness();
  A = h.world.a.tenantId;
  B = h.world.b.tenantId;
  convA = h.world.a.conversationId;
  // Tenant A on a plan of 1 MB; tenant B stays on its own plan.
  await h.db.asService(async (sql) => {
    await sql.query(
      `insert into public.plans (id, name, limits) values ('test-1mb', 'Test 1 MB', '{"storage_mb": 1}')`,
    );
    await sql.query(`update public.tenants set plan_id = 'test-1mb' where id = $1`, [A]);
  });
});

afterAll(async () => {
  await h?.close();
});

describe('storage quota', () => {
  it('refuses an upload past the limit with AccessDenied and takes one within it', async () => {
    expect((await upload('ownerA', 'knowledge', `${A}/first.md`, 600 * KB)).error).toBeNull();

    const over = await upload('ownerA', 'knowledge', `${A}/second.md`, 600 * KB);
    expectStorageError(over.error, 'AccessDenied', '403');
    expect((over.error as Error).message).toMatch(/storage quota exceeded/i);
    expect(
      (await h.client('service').storage.from('knowledge').exists(`${A}/second.md`)).data,
    ).toBe(false);

    expect((await upload('ownerA', 'knowledge', `${A}/small.md`, 200 * KB)).error).toBeNull();
  });

  it('counts attachments against the same limit', async () => {
    const over = await upload('visitorA', 'attachments', `${A}/${convA}/photo.png`, 300 * KB, {
      contentType: 'image/png',
    });
    expectStorageError(over.error, 'AccessDenied', '403');
    const under = await upload('visitorA', 'attachments', `${A}/${convA}/icon.png`, 100 * KB, {
      contentType: 'image/png',
    });
    expect(under.error).toBeNull();
  });

  it('judges an overwrite by what it adds, and never blocks one that shrinks', async () => {
    const same = await upload('ownerA', 'knowledge', `${A}/first.md`, 600 * KB, { upsert: true });
    expect(same.error).toBeNull();
    const grown = await upload('ownerA', 'knowledge', `${A}/first.md`, 900 * KB, { upsert: true });
    expectStorageError(grown.error, 'AccessDenied', '403');
    const shrunk = await upload('ownerA', 'knowledge', `${A}/first.md`, 100 * KB, { upsert: true });
    expect(shrunk.error).toBeNull();
  });

  it('holds for signed upload URLs and the service role too', async () => {
    const signed = await h
      .client('ownerA')
      .storage.from('knowledge')
      .createSignedUploadUrl(`${A}/signed.md`);
    expect(signed.error).toBeNull();
    const sent = await h
      .client('anon')
      .storage.from('knowledge')
      .uploadToSignedUrl(`${A}/signed.md`, signed.data?.token ?? '', bytes(900 * KB), {
        contentType: 'text/markdown',
      });
    expectStorageError(sent.error, 'AccessDenied', '403');
    expectStorageError(
      (await upload('service', 'knowledge', `${A}/operator.md`, 900 * KB)).error,
      'AccessDenied',
      '403',
    );
  });

  it('leaves another tenant unaffected', async () => {
    for (const name of ['one', 'two', 'three']) {
      expect((await upload('ownerB', 'knowledge', `${B}/${name}.md`, 600 * KB)).error).toBeNull();
    }
  });

  it('tells the owners when the quota is nearly spent', async () => {
    const notices = await h.db.asService((sql) =>
      sql.query<{ kind: string }>(
        `select kind from public.tenant_notices where tenant_id = $1 and data ->> 'metric' = 'storage_mb'`,
        [A],
      ),
    );
    expect(notices.map((n) => n.kind)).toContain('quota_warning');
  });
});
