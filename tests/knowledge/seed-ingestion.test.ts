import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toSql } from 'pgvector';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createHashingEmbedder,
  hashingEmbedding,
} from '../../functions/_shared/embeddings/hashing.ts';
import { openLocalDatabase } from '../../supabase/local/database.ts';

// The demo knowledge base goes in as Markdown documents, each queueing its ingest_document job; the
// local database works those jobs itself when it opens, so the demo can answer at once.

const DEMO_TENANT = 'b0000000-0000-4000-8000-000000000001';
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

interface JobRow {
  status: string;
  dedupe_key: string;
  ordering_key: string;
  document_id: string;
  result: { status: string; chunk_count: number } | null;
}

const JOBS_SQL = `select status, dedupe_key, ordering_key, payload ->> 'document_id' as document_id, result
                    from public.jobs where kind = 'ingest_document' order by dedupe_key`;

describe('the seeded knowledge base', () => {
  it('is seeded pending with a job per document, then ingested when the database opens', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'parley-seed-'));
    dirs.push(dataDir);

    const raw = await openLocalDatabase({ dataDir, embedder: null });
    try {
      const documents = await raw.pg.query<{ id: string; status: string; content: string }>(
        'select id, status, content from public.documents where tenant_id = $1 order by id',
        [DEMO_TENANT],
      );
      expect(documents.rows).toHaveLength(5);
      for (const doc of documents.rows) {
        expect(doc.status).toBe('pending');
        expect(doc.content.length).toBeGreaterThan(200);
      }
      const chunks = await raw.pg.query('select 1 from public.document_chunks');
      expect(chunks.rows).toEqual([]);
      const jobs = await raw.pg.query<JobRow>(JOBS_SQL);
      expect(jobs.rows).toEqual(
        documents.rows.map((doc) => ({
          status: 'queued',
          dedupe_key: expect.stringMatching(
            new RegExp(`^ingest_document:${doc.id}:\\d{8}T\\d{12}$`),
          ),
          ordering_key: `document:${doc.id}`,
          document_id: doc.id,
          result: null,
        })),
      );
    } finally {
      await raw.close();
    }

    const opened = await openLocalDatabase({ dataDir, embedder: createHashingEmbedder() });
    try {
      expect(opened.seeded).toBe(false);
      const documents = await opened.pg.query<{ id: string; status: string; chunk_count: number }>(
        'select id, status, chunk_count from public.documents where tenant_id = $1 order by id',
        [DEMO_TENANT],
      );
      for (const doc of documents.rows) {
        expect(doc.status).toBe('ready');
        expect(doc.chunk_count).toBeGreaterThan(0);
      }
      const headings = await opened.pg.query<{ heading: string; embedded: boolean }>(
        `select heading, embedding is not null as embedded from public.document_chunks
          order by document_id, chunk_index`,
      );
      expect(headings.rows.every((r) => r.embedded)).toBe(true);
      expect(headings.rows.map((r) => r.heading)).toEqual(
        expect.arrayContaining([
          'Shipping > Delivery times',
          'Shipping > Costs',
          'Returns and exchanges > Policy',
          'Returns and exchanges > How to return',
          'Boot sizing and fittings > Finding your size',
          'Boot sizing and fittings > In-store fittings',
          'Warranty > Coverage',
          'Stores and opening hours > Boulder',
        ]),
      );

      // The jobs are finished as a worker would have finished them: nothing is left due.
      const jobs = await opened.pg.query<JobRow>(JOBS_SQL);
      for (const job of jobs.rows) {
        const doc = documents.rows.find((d) => d.id === job.document_id);
        expect(job.status).toBe('succeeded');
        expect(job.result).toMatchObject({ status: 'ready', chunk_count: doc?.chunk_count });
      }

      // Re-applying the seed queues nothing and touches nothing.
      await opened.pg.exec(
        await readFile(join(import.meta.dirname, '../../supabase/seed.sql'), 'utf8'),
      );
      expect((await opened.pg.query<JobRow>(JOBS_SQL)).rows).toEqual(jobs.rows);
      const after = await opened.pg.query<{ status: string }>(
        'select distinct status from public.documents where tenant_id = $1',
        [DEMO_TENANT],
      );
      expect(after.rows).toEqual([{ status: 'ready' }]);

      // The demo bot can find its answers.
      for (const [question, heading] of [
        ['How much does express shipping cost?', 'Shipping > Costs'],
        // Every question shares a word with its answer: a paraphrase with none ("send something
        // back") is ranked by the hashing embedder's guesses, which the evaluation set measures.
        ['How do I return an item?', 'Returns and exchanges > How to return'],
        ['Is the Denver store open on Sunday?', 'Stores and opening hours > Denver'],
        [
          'Which size should I pick between two sizes?',
          'Boot sizing and fittings > Finding your size',
        ],
      ] as const) {
        const { rows } = await opened.pg.query<{ heading: string }>(
          'select heading from public.match_document_chunks($1, $2, $3::extensions.vector, 3)',
          [DEMO_TENANT, question, toSql(hashingEmbedding(question))],
        );
        expect(rows[0]?.heading, question).toBe(heading);
      }
    } finally {
      await opened.close();
    }
    // Two databases opened from nothing, migrations and seed each time.
  }, 180_000);
});
