import { toSql } from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import type { Embedder } from '../../functions/_shared/embeddings/embedder.ts';
import {
  createHashingEmbedder,
  hashingEmbedding,
} from '../../functions/_shared/embeddings/hashing.ts';
import {
  chunkEmbeddingText,
  DocumentIngestError,
  enqueueIngestion,
  handleIngestJob,
  INGEST_DOCUMENT_JOB,
  ingestDocument,
} from '../../functions/_shared/knowledge/ingest-document.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';

const RETURNS = `# Returns and exchanges

## Policy

You can return unused gear within 60 days of delivery for a full refund to the original payment
method. Footwear may be tried indoors; boots worn outside can still be exchanged for a different
size within 30 days.

## How to return

1. Start a return from your order page, or ask us in chat.
2. Print the prepaid label. A $5.95 fee is deducted unless the item is faulty.
3. Drop the parcel at any UPS point.

Refunds are issued within 5 business days of the parcel reaching us.
`;

const SHIPPING = `# Shipping

## Delivery times

Orders placed before 2 pm Mountain Time ship the same business day. Standard shipping takes 3 to 5
business days within the continental US; express shipping takes 1 to 2 business days.

## Costs

| Service | Cost |
| --- | --- |
| Standard, orders over $75 | free |
| Standard, below $75 | $6.95 |
| Express | $19.95 |

We ship to Canada for a flat $24.95, and do not currently ship to other countries.
`;

const STORES = `<html><head><script>track()</script></head><body>
<nav><a href="/">Home</a></nav>
<h1>Stores and opening hours</h1>
<h2>Denver</h2><p>1450 Larimer Street. Open Monday to Saturday 9 am to 8 pm and Sunday 10 am to 6 pm.</p>
<h2>Boulder</h2><p>1800 Pearl Street. Open every day 10 am to 7 pm. <a href="/stores/boulder/map">Map</a></p>
<footer>© Trailhead</footer>
</body></html>`;

const FITTING = `Hiking boots should leave a thumb's width between your longest toe and the front of the boot.
Try boots in the afternoon, when feet are largest, and with the socks you hike in.

Our Denver and Boulder stores offer free 30-minute boot fittings with a trained fitter.`;

interface ChunkRow {
  id: string;
  tenant_id: string;
  chunk_index: number;
  heading: string;
  content: string;
  token_count: number;
  embedding: string | null;
}

interface DocumentRow {
  status: string;
  error: string | null;
  chunk_count: number;
}

let local: LocalDatabase;
let db: Db;
let tenantA: string;
let tenantB: string;
const hashing = createHashingEmbedder();

async function createTenant(slug: string): Promise<string> {
  const [row] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.tenants (name, slug) values ($1, $1) returning id`,
      [slug],
    ),
  );
  return row?.id as string;
}

async function addDocument(
  tenantId: string,
  title: string,
  mimeType: string,
  content: string,
  sourceUrl: string | null = null,
): Promise<string> {
  const [row] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.documents (tenant_id, title, mime_type, content, source_url)
       values ($1, $2, $3, $4, $5) returning id`,
      [tenantId, title, mimeType, content, sourceUrl],
    ),
  );
  return row?.id as string;
}

const chunksOf = (documentId: string) =>
  db.asService((sql) =>
    sql.query<ChunkRow>(
      `select id, tenant_id, chunk_index, heading, content, token_count, embedding::text
         from public.document_chunks where document_id = $1 order by chunk_index`,
      [documentId],
    ),
  );

const documentRow = async (documentId: string) =>
  (
    await db.asService((sql) =>
      sql.query<DocumentRow>(
        'select status, error, chunk_count from public.documents where id = $1',
        [documentId],
      ),
    )
  )[0];

const setContent = (documentId: string, content: string) =>
  db.asService((sql) =>
    sql.query('update public.documents set content = $2 where id = $1', [documentId, content]),
  );

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  tenantA = await createTenant('ingest-a');
  tenantB = await createTenant('ingest-b');
});

afterAll(async () => {
  await local?.close();
});

describe('ingestDocument', () => {
  it('writes the chunks with their heading paths and embeddings, and marks the document ready', async () => {
    const id = await addDocument(tenantA, 'Returns', 'text/markdown', RETURNS);
    expect(await documentRow(id)).toMatchObject({ status: 'pending', chunk_count: 0 });

    const result = await ingestDocument(db, hashing, id);
    expect(result).toEqual({
      documentId: id,
      status: 'ready',
      chunkCount: 2,
      model: 'parley-hashing-384',
      pages: null,
    });
    const chunks = await chunksOf(id);
    expect(chunks.map((c) => [c.chunk_index, c.heading])).toEqual([
      [0, 'Returns and exchanges > Policy'],
      [1, 'Returns and exchanges > How to return'],
    ]);
    expect(chunks[1]?.content).toBe(
      '1. Start a return from your order page, or ask us in chat.\n' +
        '2. Print the prepaid label. A $5.95 fee is deducted unless the item is faulty.\n' +
        '3. Drop the parcel at any UPS point.\n' +
        'Refunds are issued within 5 business days of the parcel reaching us.',
    );
    for (const chunk of chunks) {
      expect(chunk.tenant_id).toBe(tenantA);
      expect(chunk.token_count).toBeGreaterThan(10);
      const expected = hashingEmbedding(chunkEmbeddingText(chunk.heading, chunk.content));
      const stored = JSON.parse(chunk.embedding as string) as number[];
      expect(stored).toHaveLength(384);
      stored.forEach((v, i) => {
        expect(v).toBeCloseTo(expected[i] as number, 5);
      });
    }
    expect(await documentRow(id)).toEqual({ status: 'ready', error: null, chunk_count: 2 });
  });

  it('reads HTML without its page chrome, resolving links against the source URL', async () => {
    const id = await addDocument(
      tenantA,
      'Stores',
      'text/html',
      STORES,
      'https://trailhead.example/stores',
    );
    await ingestDocument(db, hashing, id);
    const chunks = await chunksOf(id);
    expect(chunks.map((c) => [c.heading, c.content])).toEqual([
      [
        'Stores and opening hours > Denver',
        '1450 Larimer Street. Open Monday to Saturday 9 am to 8 pm and Sunday 10 am to 6 pm.',
      ],
      [
        'Stores and opening hours > Boulder',
        '1800 Pearl Street. Open every day 10 am to 7 pm. Map (https://trailhead.example/stores/boulder/map)',
      ],
    ]);
  });

  it('shows the document as processing while it is embedded', async () => {
    const id = await addDocument(tenantA, 'Shipping', 'text/markdown', SHIPPING);
    const seen: string[] = [];
    const watching: Embedder = {
      model: hashing.model,
      async embed(texts) {
        seen.push((await documentRow(id))?.status as string);
        return hashing.embed(texts);
      },
    };
    await ingestDocument(db, watching, id, { batchSize: 1 });
    expect(seen).toEqual(['processing', 'processing']);
    expect((await documentRow(id))?.status).toBe('ready');
  });

  it('replaces the chunks when ingested again, and only then', async () => {
    const id = await addDocument(tenantA, 'Returns v2', 'text/markdown', RETURNS);
    await ingestDocument(db, hashing, id);
    const first = await chunksOf(id);

    // Again, unchanged: the same chunks, freshly written.
    await ingestDocument(db, hashing, id);
    const again = await chunksOf(id);
    expect(again.map((c) => [c.chunk_index, c.heading, c.content, c.embedding])).toEqual(
      first.map((c) => [c.chunk_index, c.heading, c.content, c.embedding]),
    );
    expect(again.some((c) => first.some((f) => f.id === c.id))).toBe(false);

    await setContent(id, '# Returns\n\nReturns are accepted within 90 days.');
    const result = await ingestDocument(db, hashing, id);
    expect(result.chunkCount).toBe(1);
    const replaced = await chunksOf(id);
    expect(replaced.map((c) => [c.chunk_index, c.heading, c.content])).toEqual([
      [0, 'Returns', 'Returns are accepted within 90 days.'],
    ]);
    expect(await documentRow(id)).toEqual({ status: 'ready', error: null, chunk_count: 1 });
  });

  it('marks the document failed and rethrows when embedding fails, keeping the old chunks', async () => {
    const id = await addDocument(tenantA, 'Fitting', 'text/plain', FITTING);
    await ingestDocument(db, hashing, id);
    const before = await chunksOf(id);
    expect(before.length).toBeGreaterThan(0);

    const down: Embedder = {
      model: 'down',
      embed: () => Promise.reject(new Error('embeddings request failed: HTTP 503\n  at stack')),
    };
    await setContent(id, `${FITTING}\n\nBook a fitting in chat.`);
    await expect(ingestDocument(db, down, id)).rejects.toThrow('HTTP 503');
    expect(await documentRow(id)).toEqual({
      status: 'failed',
      error: 'embeddings request failed: HTTP 503',
      chunk_count: before.length,
    });
    // Search keeps working on the previous version until a retry succeeds.
    expect((await chunksOf(id)).map((c) => c.id)).toEqual(before.map((c) => c.id));

    const wrongSize: Embedder = {
      model: 'wrong',
      embed: async (texts) => texts.map(() => [0.1, 0.2]),
    };
    await expect(ingestDocument(db, wrongSize, id)).rejects.toThrow(/2 dimensions, expected 384/);
    expect((await documentRow(id))?.status).toBe('failed');

    await ingestDocument(db, hashing, id);
    expect(await documentRow(id)).toMatchObject({ status: 'ready', error: null });
    expect((await chunksOf(id)).map((c) => c.content).join(' ')).toContain('Book a fitting');
  });

  it('fails for good on a document without text', async () => {
    const id = await addDocument(tenantA, 'Empty', 'text/html', '<script>only()</script>');
    const error = await ingestDocument(db, hashing, id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DocumentIngestError);
    expect(error).toMatchObject({ permanent: true });
    expect(await documentRow(id)).toEqual({
      status: 'failed',
      error: 'the document has no text to index',
      chunk_count: 0,
    });
  });

  it('reads the document again when it changes while being embedded', async () => {
    const id = await addDocument(tenantA, 'Moving', 'text/plain', 'The first version.');
    let calls = 0;
    const editing: Embedder = {
      model: hashing.model,
      async embed(texts) {
        if (calls++ === 0) await setContent(id, 'The second version.');
        return hashing.embed(texts);
      },
    };
    await ingestDocument(db, editing, id);
    expect(calls).toBe(2);
    expect((await chunksOf(id)).map((c) => c.content)).toEqual(['The second version.']);
  });

  it('does nothing for a document that no longer exists', async () => {
    const missing = '00000000-0000-4000-8000-00000000dead';
    expect(await ingestDocument(db, hashing, missing)).toEqual({
      documentId: missing,
      status: 'missing',
      chunkCount: 0,
      model: 'parley-hashing-384',
      pages: null,
    });
  });
});

describe('ingestion jobs', () => {
  const jobsOf = (documentId: string) =>
    db.asService((sql) =>
      sql.query<{
        id: number;
        kind: string;
        payload: unknown;
        tenant_id: string;
        ordering_key: string;
      }>(
        `select id, kind, payload, tenant_id, ordering_key from public.jobs
          where payload ->> 'document_id' = $1 order by id`,
        [documentId],
      ),
    );

  it('enqueues one job per version of a document', async () => {
    const id = await addDocument(tenantA, 'Queued', 'text/markdown', SHIPPING);
    const first = await db.asService((sql) => enqueueIngestion(sql, id, tenantA));
    const repeat = await db.asService((sql) => enqueueIngestion(sql, id, tenantA));
    expect(repeat).toBe(first);
    expect(await jobsOf(id)).toEqual([
      {
        id: first,
        kind: INGEST_DOCUMENT_JOB,
        payload: { document_id: id },
        tenant_id: tenantA,
        ordering_key: `document:${id}`,
      },
    ]);

    await setContent(id, `${SHIPPING}\nUpdated.`);
    const second = await db.asService((sql) => enqueueIngestion(sql, id, tenantA));
    expect(second).not.toBe(first);
    expect(await jobsOf(id)).toHaveLength(2);

    await expect(db.asService((sql) => enqueueIngestion(sql, id, tenantB))).rejects.toThrow(
      /not found in tenant/,
    );
  });

  it('handles a job: validates the payload, ingests, and ends permanent failures', async () => {
    const deps = { db, embedder: hashing };
    await expect(handleIngestJob(deps, {})).rejects.toThrow(ZodError);
    await expect(handleIngestJob(deps, { document_id: 'nope' })).rejects.toThrow(ZodError);

    const id = await addDocument(tenantA, 'Job', 'text/markdown', RETURNS);
    expect(await handleIngestJob(deps, { document_id: id })).toEqual({
      document_id: id,
      status: 'ready',
      chunk_count: 2,
      model: 'parley-hashing-384',
    });

    const empty = await addDocument(tenantA, 'Blank', 'text/plain', '   ');
    expect(await handleIngestJob(deps, { document_id: empty })).toEqual({
      document_id: empty,
      status: 'failed',
      chunk_count: 0,
      model: 'parley-hashing-384',
      error: 'the document has no text to index',
    });

    // A passing outage is thrown, so that the queue retries it.
    const down: Embedder = { model: 'down', embed: () => Promise.reject(new Error('timeout')) };
    await expect(handleIngestJob({ db, embedder: down }, { document_id: id })).rejects.toThrow(
      'timeout',
    );
  });
});

describe('retrieval after ingestion', () => {
  interface Match {
    document_id: string;
    title: string;
    heading: string;
    content: string;
  }
  const docs: Record<string, string> = {};

  // Tenant A holds copies of the same articles from the tests above: none of them may show up
  // in tenant B's answers.
  beforeAll(async () => {
    docs.returns = await addDocument(tenantB, 'Returns', 'text/markdown', RETURNS);
    docs.shipping = await addDocument(tenantB, 'Shipping', 'text/markdown', SHIPPING);
    docs.stores = await addDocument(tenantB, 'Stores', 'text/html', STORES);
    docs.fitting = await addDocument(tenantB, 'Boot fitting', 'text/plain', FITTING);
    for (const id of Object.values(docs)) await ingestDocument(db, hashing, id);
  });

  const ask = (tenantId: string, question: string) =>
    db.asService((sql) =>
      sql.query<Match>(
        `select document_id, title, heading, content
           from public.match_document_chunks($1, $2, $3::extensions.vector, 5)`,
        [tenantId, question, toSql(hashingEmbedding(question))],
      ),
    );

  it.each([
    ['How long does express shipping take?', 'shipping', 'Shipping > Delivery times'],
    ['How much does shipping to Canada cost?', 'shipping', 'Shipping > Costs'],
    ['Can I get a refund for unused gear?', 'returns', 'Returns and exchanges > Policy'],
    [
      'Where do I drop off the parcel with my return?',
      'returns',
      'Returns and exchanges > How to return',
    ],
    ['When does the Boulder store open?', 'stores', 'Stores and opening hours > Boulder'],
    ['Do you do boot fittings?', 'fitting', 'Boot fitting'],
  ] as const)('%j → %s, "%s"', async (question, doc, heading) => {
    const [best, ...rest] = await ask(tenantB, question);
    expect(best).toMatchObject({ document_id: docs[doc], heading });
    for (const row of rest) expect(Object.values(docs)).toContain(row.document_id);
  });
});
