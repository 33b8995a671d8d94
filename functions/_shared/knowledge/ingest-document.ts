import { toSql } from 'pgvector';
import { z } from 'zod';
import type { Db, Sql } from '../db/port.ts';
import { EMBEDDING_DIMENSIONS, type Embedder } from '../embeddings/embedder.ts';
import { type Chunk, type ChunkOptions, chunkBlocks } from './chunk.ts';
import { type ExtractedFile, extractFile, UnreadableFileError } from './extract-file.ts';
import { extractText, UnsupportedMimeTypeError } from './extract-text.ts';

// A document's way into the knowledge base: extract its text, cut it into chunks, embed them, and
// swap them in for the document's previous chunks in one transaction, so a search never sees a
// document half old and half new. Runs as the service role, from the job queue or the local stack.

export const INGEST_DOCUMENT_JOB = 'ingest_document';

export const ingestJobPayload = z.object({ document_id: z.guid() });
export type IngestJobPayload = z.infer<typeof ingestJobPayload>;

/** Reads one object of the knowledge bucket (functions/_shared/knowledge/files.ts). */
export type FileReader = (path: string) => Promise<Uint8Array>;

export interface IngestOptions {
  /** How a document whose text is a file (storage_path) gets its bytes. */
  readFile?: FileReader;
  /** Chunks per embedder call. */
  batchSize?: number;
  chunking?: Omit<ChunkOptions, 'title'>;
  /** A document that yields more chunks than this is refused rather than embedded. */
  maxChunks?: number;
}

export interface IngestResult {
  documentId: string;
  /** 'missing': the document was deleted before or while it was ingested; nothing to do. */
  status: 'ready' | 'missing';
  chunkCount: number;
  model: string;
  /** Pages of the PDF the document was read from; null for other formats. */
  pages: number | null;
}

/** permanent: trying again cannot help until the document itself changes. */
export class DocumentIngestError extends Error {
  override readonly name = 'DocumentIngestError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** What a chunk's vector is computed from: its heading says what the passage is about. */
export function chunkEmbeddingText(heading: string, content: string): string {
  return `${heading}\n${content}`.trim();
}

const DEFAULT_BATCH_SIZE = 64;
const DEFAULT_MAX_CHUNKS = 2000;
const INSERT_ROWS = 100;
// A document edited while it is being ingested is read again, a few times at most.
const MAX_ROUNDS = 3;

// The version of a document's source: its text, or the file it names and the type it is read as.
const CONTENT_HASH = `encode(sha256(convert_to(
  coalesce(storage_path, '') || E'\\x1f' || mime_type || E'\\x1f' || content, 'UTF8')), 'hex')`;

interface Claimed {
  title: string;
  source_url: string | null;
  mime_type: string;
  content: string;
  storage_path: string | null;
  content_hash: string;
}

/** The first line of an error, short enough for documents.error and an admin's screen. */
function shortError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.split('\n')[0]?.trim() || 'ingestion failed';
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

async function extract(document: Claimed, options: IngestOptions): Promise<ExtractedFile> {
  const extractOptions = { baseUrl: document.source_url };
  if (document.storage_path === null) {
    return {
      blocks: extractText(document.content, document.mime_type, extractOptions),
      pages: null,
    };
  }
  if (!options.readFile) throw new Error("no access to Storage to read the document's file");
  const bytes = await options.readFile(document.storage_path);
  return extractFile(bytes, document.mime_type, extractOptions);
}

async function prepare(
  document: Claimed,
  options: IngestOptions,
): Promise<{ chunks: Chunk[]; pages: number | null }> {
  let chunks: Chunk[];
  let pages: number | null;
  try {
    const extracted = await extract(document, options);
    pages = extracted.pages;
    chunks = chunkBlocks(extracted.blocks, { ...options.chunking, title: document.title });
  } catch (error) {
    if (error instanceof UnsupportedMimeTypeError || error instanceof UnreadableFileError)
      throw new DocumentIngestError(error.message, true);
    throw error;
  }
  if (chunks.length === 0) throw new DocumentIngestError('the document has no text to index', true);
  const max = options.maxChunks ?? DEFAULT_MAX_CHUNKS;
  if (chunks.length > max) {
    throw new DocumentIngestError(
      `the document is too large: ${chunks.length} chunks, at most ${max} are indexed`,
      true,
    );
  }
  return { chunks, pages };
}

async function embedChunks(
  embedder: Embedder,
  chunks: readonly Chunk[],
  batchSize: number,
): Promise<number[][]> {
  const vectors: number[][] = [];
  for (let start = 0; start < chunks.length; start += batchSize) {
    const batch = chunks.slice(start, start + batchSize);
    const embedded = await embedder.embed(
      batch.map((c) => chunkEmbeddingText(c.heading, c.content)),
    );
    if (embedded.length !== batch.length) {
      throw new Error(`embedder returned ${embedded.length} vectors for ${batch.length} chunks`);
    }
    for (const vector of embedded) {
      if (vector.length !== EMBEDDING_DIMENSIONS) {
        throw new Error(
          `embedder returned ${vector.length} dimensions, expected ${EMBEDDING_DIMENSIONS}`,
        );
      }
    }
    vectors.push(...embedded);
  }
  return vectors;
}

/** Replaces the document's chunks, unless its content changed since it was read. */
async function replaceChunks(
  sql: Sql,
  documentId: string,
  contentHash: string,
  chunks: readonly Chunk[],
  vectors: readonly number[][],
): Promise<'written' | 'changed' | 'missing'> {
  const [current] = await sql.query<{ content_hash: string }>(
    `select ${CONTENT_HASH} as content_hash from public.documents where id = $1 for update`,
    [documentId],
  );
  if (!current) return 'missing';
  if (current.content_hash !== contentHash) return 'changed';
  await sql.query('delete from public.document_chunks where document_id = $1', [documentId]);
  for (let start = 0; start < chunks.length; start += INSERT_ROWS) {
    const rows = chunks.slice(start, start + INSERT_ROWS);
    await sql.query(
      `insert into public.document_chunks
         (document_id, chunk_index, heading, content, token_count, embedding)
       select $1, t.chunk_index, t.heading, t.content, t.token_count, t.embedding::extensions.vector
         from unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::text[])
           as t (chunk_index, heading, content, token_count, embedding)`,
      [
        documentId,
        rows.map((c) => c.index),
        rows.map((c) => c.heading),
        rows.map((c) => c.content),
        rows.map((c) => c.tokenCount),
        rows.map((c) => toSql(vectors[c.index])),
      ],
    );
  }
  await sql.query(
    `update public.documents set status = 'ready', chunk_count = $2, error = null where id = $1`,
    [documentId, chunks.length],
  );
  return 'written';
}

/**
 * Ingests one document: status 'processing' while it works, then its chunks replaced and status
 * 'ready' in one transaction. Safe to run again at any time (it replaces what is there). On
 * failure the document is marked 'failed' with a short reason and the error is rethrown, so a
 * job queue retries it; DocumentIngestError.permanent says when a retry is pointless.
 */
export async function ingestDocument(
  db: Db,
  embedder: Embedder,
  documentId: string,
  options: IngestOptions = {},
): Promise<IngestResult> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const missing: IngestResult = {
    documentId,
    status: 'missing',
    chunkCount: 0,
    model: embedder.model,
    pages: null,
  };
  try {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      // Committed on its own, so the admin SPA can show that work has started.
      const [document] = await db.asService((sql) =>
        sql.query<Claimed>(
          `update public.documents set status = 'processing', error = null where id = $1
           returning title, source_url, mime_type, content, storage_path,
                     ${CONTENT_HASH} as content_hash`,
          [documentId],
        ),
      );
      if (!document) return missing;
      const { chunks, pages } = await prepare(document, options);
      // Embedding can take a while; no transaction is held open meanwhile.
      const vectors = await embedChunks(embedder, chunks, batchSize);
      const outcome = await db.asService((sql) =>
        replaceChunks(sql, documentId, document.content_hash, chunks, vectors),
      );
      if (outcome === 'missing') return missing;
      if (outcome === 'written') {
        return {
          documentId,
          status: 'ready',
          chunkCount: chunks.length,
          model: embedder.model,
          pages,
        };
      }
    }
    throw new DocumentIngestError('the document kept changing while it was being ingested', false);
  } catch (error) {
    await db
      .asService((sql) =>
        sql.query(`update public.documents set status = 'failed', error = $2 where id = $1`, [
          documentId,
          shortError(error),
        ]),
      )
      .catch(() => {
        // The original error is the one worth reporting; the queue retries either way.
      });
    throw error;
  }
}

/**
 * Queues the document's ingestion (service role: enqueue_job is not granted to users). Inserting
 * or changing a document already does this (a trigger); this is for asking again, e.g. after the
 * embedder changed. The dedupe key names the document's current version, by its updated_at, so
 * repeated calls for one version queue one job while every later edit queues its own: dedupe keys
 * stay taken for as long as the job row exists. The ordering key keeps two ingestions of one
 * document from running at once.
 */
export async function enqueueIngestion(
  sql: Sql,
  documentId: string,
  tenantId: string,
): Promise<number> {
  const [row] = await sql.query<{ job_id: number }>(
    `select private.enqueue_document_ingestion(d.id) as job_id
       from public.documents d
      where d.id = $1 and d.tenant_id = $2`,
    [documentId, tenantId],
  );
  if (!row) throw new Error(`document ${documentId} not found in tenant ${tenantId}`);
  return row.job_id;
}

export interface IngestJobDeps {
  db: Db;
  embedder: Embedder;
  options?: IngestOptions;
}

export interface IngestJobResult {
  document_id: string;
  status: 'ready' | 'missing' | 'failed';
  chunk_count: number;
  model: string;
  pages?: number;
  error?: string;
}

/**
 * The `ingest_document` job. Throws to have the queue retry (embedder down, database error); a
 * permanent failure is already recorded on the document, so it ends the job instead of burning
 * its remaining attempts. A malformed payload throws, and dead-letters in the end.
 */
export async function handleIngestJob(
  deps: IngestJobDeps,
  payload: unknown,
): Promise<IngestJobResult> {
  const { document_id } = ingestJobPayload.parse(payload);
  try {
    const result = await ingestDocument(deps.db, deps.embedder, document_id, deps.options);
    return {
      document_id,
      status: result.status,
      chunk_count: result.chunkCount,
      model: result.model,
      ...(result.pages === null ? {} : { pages: result.pages }),
    };
  } catch (error) {
    if (error instanceof DocumentIngestError && error.permanent) {
      return {
        document_id,
        status: 'failed',
        chunk_count: 0,
        model: deps.embedder.model,
        error: error.message,
      };
    }
    throw error;
  }
}
