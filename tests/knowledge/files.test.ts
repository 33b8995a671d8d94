import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createHashingEmbedder } from '../../functions/_shared/embeddings/hashing.ts';
import { DOCX, extractFile, PDF } from '../../functions/_shared/knowledge/extract-file.ts';
import { blocksToText } from '../../functions/_shared/knowledge/extract-text.ts';
import {
  handleIngestJob,
  ingestDocument,
} from '../../functions/_shared/knowledge/ingest-document.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { makeDocx, makePdf } from '../support/documents.ts';
import { createUser } from '../support/world.ts';

// Files in the knowledge base: real PDF and Word files are read by unpdf and mammoth, ingested from
// the bytes Storage holds, and every document added by any path gets its ingestion queued.

describe('extracting files', () => {
  it('reads every page of a PDF', async () => {
    const pdf = await makePdf([
      ['Lantern care', 'Recharge the lantern after every trip.'],
      ['Tent seams', 'Seal the seams of a new tent before its first night out.'],
    ]);
    const { blocks, pages } = await extractFile(pdf, PDF);
    expect(pages).toBe(2);
    const text = blocksToText(blocks);
    expect(text).toContain('Recharge the lantern after every trip.');
    expect(text).toContain('Seal the seams of a new tent before its first night out.');
  });

  it('keeps the headings of a Word document', async () => {
    const docx = await makeDocx([
      '# Jacket care',
      '## Washing',
      'Wash the jacket cold and hang it to dry.',
      '## Proofing',
      'Renew the water repellency once a season.',
      '- Use a wash-in proofer',
    ]);
    const { blocks, pages } = await extractFile(docx, DOCX);
    expect(pages).toBeNull();
    expect(blocks).toEqual([
      { kind: 'heading', level: 1, text: 'Jacket care' },
      { kind: 'heading', level: 2, text: 'Washing' },
      { kind: 'text', role: 'paragraph', text: 'Wash the jacket cold and hang it to dry.' },
      { kind: 'heading', level: 2, text: 'Proofing' },
      { kind: 'text', role: 'paragraph', text: 'Renew the water repellency once a season.' },
      { kind: 'text', role: 'list-item', text: '- Use a wash-in proofer' },
    ]);
  });

  it('reads text files as their type says', async () => {
    const md = new TextEncoder().encode('# Hours\n\nOpen every day.');
    expect((await extractFile(md, 'text/markdown')).blocks).toEqual([
      { kind: 'heading', level: 1, text: 'Hours' },
      { kind: 'text', role: 'paragraph', text: 'Open every day.' },
    ]);
  });

  it('refuses damaged and mislabelled files in words', async () => {
    await expect(extractFile(new TextEncoder().encode('not a pdf'), PDF)).rejects.toThrow(
      /the PDF could not be read/,
    );
    await expect(extractFile(new Uint8Array([1, 2, 3]), DOCX)).rejects.toThrow(
      /the Word document could not be read/,
    );
    await expect(extractFile(new Uint8Array([0xff, 0xfe, 0x00]), 'text/plain')).rejects.toThrow(
      /not UTF-8/,
    );
  });
});

describe('documents made from files', () => {
  let local: LocalDatabase;
  let db: Db;
  let tenant: string;
  let owner: string;
  let agent: string;
  const files = new Map<string, Uint8Array>();
  const readFile = async (path: string) => {
    const bytes = files.get(path);
    if (!bytes) throw new Error(`no file ${path}`);
    return bytes;
  };
  const embedder = createHashingEmbedder();

  beforeAll(async () => {
    local = await openLocalDatabase({ seed: false, embedder: null });
    db = createPgliteDb(local.pg);
    await db.asService(async (sql) => {
      const [t] = await sql.query<{ id: string }>(
        `insert into public.tenants (name, slug) values ('Files', 'files') returning id`,
      );
      tenant = t?.id as string;
      for (const [role, email] of [
        ['owner', 'owner@files.example'],
        ['agent', 'agent@files.example'],
      ] as const) {
        const user = await createUser(sql, { email });
        await sql.query(
          `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, $3)`,
          [tenant, user, role],
        );
        if (role === 'owner') owner = user;
        else agent = user;
      }
    });
  }, 120_000);

  afterAll(async () => {
    await local?.close();
  });

  const asMember = (sub: string) => ({ role: 'authenticated', sub });

  const jobsFor = (documentId: string) =>
    db.asService((sql) =>
      sql.query<{ status: string }>(
        `select status from public.jobs where kind = 'ingest_document' and payload ->> 'document_id' = $1`,
        [documentId],
      ),
    );

  it('queues the ingestion of a document inserted through the API, whatever state it claims', async () => {
    const path = `${tenant}/${crypto.randomUUID()}/guide.pdf`;
    files.set(
      path,
      await makePdf([['Stove fuel', 'Canister stoves take isobutane fuel, sold in our stores.']]),
    );
    const [doc] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ id: string; status: string; chunk_count: number; created_by: string }>(
        `insert into public.documents (tenant_id, title, mime_type, storage_path, status, chunk_count)
         values ($1, 'Stove guide', 'application/pdf', $2, 'ready', 40)
         returning id, status, chunk_count, created_by`,
        [tenant, path],
      ),
    );
    expect(doc).toMatchObject({ status: 'pending', chunk_count: 0, created_by: owner });
    expect(await jobsFor(doc?.id as string)).toEqual([{ status: 'queued' }]);

    const result = await handleIngestJob(
      { db, embedder, options: { readFile } },
      {
        document_id: doc?.id,
      },
    );
    expect(result).toMatchObject({ status: 'ready', chunk_count: 1, pages: 1 });
    const [chunk] = await db.asService((sql) =>
      sql.query<{ content: string }>(
        'select content from public.document_chunks where document_id = $1',
        [doc?.id],
      ),
    );
    expect(chunk?.content).toContain('Canister stoves take isobutane fuel');
  });

  it('queues it again when the source changes, and lets no member fake the state', async () => {
    const [doc] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ id: string }>(
        `insert into public.documents (tenant_id, title, content) values ($1, 'Hours', 'Open daily.')
         returning id`,
        [tenant],
      ),
    );
    const id = doc?.id as string;
    await ingestDocument(db, embedder, id);
    const [faked] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ status: string; chunk_count: number }>(
        `update public.documents set status = 'failed', chunk_count = 99 where id = $1
         returning status, chunk_count`,
        [id],
      ),
    );
    expect(faked).toEqual({ status: 'ready', chunk_count: 1 });
    expect(await jobsFor(id)).toHaveLength(1);
    const [edited] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ status: string }>(
        `update public.documents set content = 'Open daily, 9 to 6.' where id = $1 returning status`,
        [id],
      ),
    );
    expect(edited?.status).toBe('pending');
    expect(await jobsFor(id)).toHaveLength(2);
  });

  it('keeps files in their own tenant folder, and agents out', async () => {
    const other = crypto.randomUUID();
    await expect(
      db.asUser(asMember(owner), (sql) =>
        sql.query(
          `insert into public.documents (tenant_id, title, mime_type, storage_path)
           values ($1, 'Elsewhere', 'application/pdf', $2)`,
          [tenant, `${other}/x/file.pdf`],
        ),
      ),
    ).rejects.toThrow(/documents_storage_path_tenant/);
    await expect(
      db.asUser(asMember(owner), (sql) =>
        sql.query(
          `insert into public.documents (tenant_id, title, mime_type) values ($1, 'No file', 'application/pdf')`,
          [tenant],
        ),
      ),
    ).rejects.toThrow(/documents_binary_needs_file/);
    await expect(
      db.asUser(asMember(agent), (sql) =>
        sql.query(
          `insert into public.documents (tenant_id, title, content) values ($1, 'A', 'b')`,
          [tenant],
        ),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('queues the removal of a deleted document’s file, and of no other', async () => {
    const path = `${tenant}/${crypto.randomUUID()}/old.txt`;
    const [doc] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ id: string }>(
        `insert into public.documents (tenant_id, title, mime_type, storage_path)
         values ($1, 'Old', 'text/plain', $2) returning id`,
        [tenant, path],
      ),
    );
    const [text] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ id: string }>(
        `insert into public.documents (tenant_id, title, content) values ($1, 'Text', 'Only text.')
         returning id`,
        [tenant],
      ),
    );
    await db.asUser(asMember(owner), (sql) =>
      sql.query('delete from public.documents where id = any($1::uuid[])', [[doc?.id, text?.id]]),
    );
    const removals = await db.asService((sql) =>
      sql.query<{ payload: { path: string } }>(
        `select payload from public.jobs where kind = 'remove_knowledge_file' order by id`,
      ),
    );
    expect(removals.map((r) => r.payload.path)).toEqual([path]);
  });

  it('marks a document whose file is damaged as failed, with the reason', async () => {
    const path = `${tenant}/${crypto.randomUUID()}/broken.docx`;
    files.set(path, new TextEncoder().encode('this is no Word file'));
    const [doc] = await db.asUser(asMember(owner), (sql) =>
      sql.query<{ id: string }>(
        `insert into public.documents (tenant_id, title, mime_type, storage_path)
         values ($1, 'Broken', $2, $3) returning id`,
        [tenant, DOCX, path],
      ),
    );
    const result = await handleIngestJob(
      { db, embedder, options: { readFile } },
      {
        document_id: doc?.id,
      },
    );
    expect(result).toMatchObject({ status: 'failed' });
    const [row] = await db.asService((sql) =>
      sql.query<{ status: string; error: string }>(
        'select status, error from public.documents where id = $1',
        [doc?.id],
      ),
    );
    expect(row?.status).toBe('failed');
    expect(row?.error).toMatch(/the Word document could not be read/);
  });
});
