import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toSql } from 'pgvector';
import { semanticWeight } from '../../functions/_shared/agent/retrieval.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import type { Embedder } from '../../functions/_shared/embeddings/embedder.ts';
import { ingestDocument } from '../../functions/_shared/knowledge/ingest-document.ts';

// The labelled retrieval evaluation over the demo shop's help centre (tests/fixtures/rag): the
// documents are ingested exactly as production ingests them, each question is asked of full text
// alone, the vector side alone and hybrid search, and of BM25 over whole documents as the
// baseline. A question hits at k when one of its documents is among the first k documents found.

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/rag');

export interface Question {
  id: string;
  kind: 'keyword' | 'paraphrase' | 'typo' | 'multi' | 'language';
  lang: string;
  q: string;
  docs: string[];
}

export type Mode = 'full text' | 'vector' | 'hybrid' | 'BM25 documents';
export const MODES: Mode[] = ['full text', 'vector', 'hybrid', 'BM25 documents'];

export interface Scores {
  n: number;
  hit1: number;
  hit3: number;
  hit5: number;
  mrr: number;
}

export async function loadQuestions(dir = FIXTURES): Promise<Question[]> {
  return JSON.parse(await readFile(join(dir, 'questions.json'), 'utf8')) as Question[];
}

/** Ingests every Markdown file of the corpus in name order; returns slug → document id. */
export async function ingestCorpus(
  db: Db,
  embedder: Embedder,
  tenantId: string,
  dir = join(FIXTURES, 'docs'),
): Promise<Map<string, string>> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.md')).sort();
  const ids = new Map<string, string>();
  for (const file of files) {
    const content = await readFile(join(dir, file), 'utf8');
    const title = /^# (.+)$/m.exec(content)?.[1]?.trim() ?? file;
    const [doc] = await db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into public.documents (tenant_id, title, mime_type, content)
         values ($1, $2, 'text/markdown', $3) returning id`,
        [tenantId, title, content],
      ),
    );
    if (!doc) throw new Error(`could not insert ${file}`);
    await ingestDocument(db, embedder, doc.id);
    ids.set(file.replace(/\.md$/, ''), doc.id);
  }
  return ids;
}

/** Documents in the order their best chunk ranks. */
async function rankedDocuments(
  db: Db,
  embedder: Embedder,
  tenantId: string,
  question: string,
  mode: Exclude<Mode, 'BM25 documents'>,
): Promise<string[]> {
  const [vector] = mode === 'full text' ? [null] : await embedder.embed([question]);
  const rows = await db.asService((sql) =>
    sql.query<{ document_id: string }>(
      `select document_id
         from public.match_document_chunks($1, $2, $3::extensions.vector, 30, $4, $5,
                                           p_spelling_vectors => $6)`,
      [
        tenantId,
        question,
        vector ? toSql(vector) : null,
        mode === 'vector' ? 0 : 1,
        mode === 'hybrid' ? semanticWeight(embedder) : 1,
        mode === 'hybrid' && embedder.spellingOnly === true,
      ],
    ),
  );
  return [...new Set(rows.map((r) => r.document_id))];
}

interface DocumentIndex {
  tf: Map<string, Map<string, number>>;
  length: Map<string, number>;
  df: Map<string, number>;
  avgLength: number;
}

/** Whole documents, analysed like chunks (language, accents), for the BM25 baseline. */
async function documentIndex(db: Db, tenantId: string): Promise<DocumentIndex> {
  const rows = await db.asService((sql) =>
    sql.query<{ id: string; lexeme: string; n: number }>(
      `select d.id, u.lexeme, cardinality(u.positions) as n
         from public.documents d,
              unnest(private.chunk_fts(d.text_config, '', d.title || E'\\n' || d.content)) u
        where d.tenant_id = $1`,
      [tenantId],
    ),
  );
  const tf = new Map<string, Map<string, number>>();
  const df = new Map<string, number>();
  const length = new Map<string, number>();
  for (const r of rows) {
    if (!tf.has(r.id)) tf.set(r.id, new Map());
    tf.get(r.id)?.set(r.lexeme, r.n);
    df.set(r.lexeme, (df.get(r.lexeme) ?? 0) + 1);
    length.set(r.id, (length.get(r.id) ?? 0) + r.n);
  }
  const avgLength = [...length.values()].reduce((a, b) => a + b, 0) / Math.max(1, length.size);
  return { tf, df, length, avgLength };
}

async function bm25Documents(
  db: Db,
  index: DocumentIndex,
  tenantId: string,
  question: string,
): Promise<string[]> {
  const terms = await db.asService((sql) =>
    sql.query<{ lexeme: string }>(
      `select distinct u.lexeme
         from (select distinct text_config from public.documents where tenant_id = $1) d,
              unnest(private.chunk_fts(d.text_config, '', $2)) u`,
      [tenantId, question],
    ),
  );
  const n = index.tf.size;
  const scores: [string, number][] = [];
  for (const [id, tf] of index.tf) {
    let score = 0;
    for (const { lexeme } of terms) {
      const f = tf.get(lexeme);
      if (!f) continue;
      const df = index.df.get(lexeme) ?? 0;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const norm = 1 - 0.75 + (0.75 * (index.length.get(id) ?? 0)) / index.avgLength;
      score += (idf * f * 2.2) / (f + 1.2 * norm);
    }
    if (score > 0) scores.push([id, score]);
  }
  return scores.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
}

export interface Evaluation {
  /** mode → kind (and 'all') → scores */
  scores: Record<Mode, Record<string, Scores>>;
  /** question id → mode → rank of the first relevant document (null: not in the results) */
  ranks: Record<string, Record<Mode, number | null>>;
}

export async function evaluate(
  db: Db,
  embedder: Embedder,
  tenantId: string,
  slugs: Map<string, string>,
  questions: Question[],
  modes: Mode[] = MODES,
): Promise<Evaluation> {
  const index = await documentIndex(db, tenantId);
  const scores = Object.fromEntries(MODES.map((m) => [m, {}])) as Evaluation['scores'];
  const ranks: Evaluation['ranks'] = {};
  for (const question of questions) {
    const relevant = new Set(question.docs.map((slug) => slugs.get(slug)));
    ranks[question.id] = {} as Record<Mode, number | null>;
    for (const mode of modes) {
      const docs =
        mode === 'BM25 documents'
          ? await bm25Documents(db, index, tenantId, question.q)
          : await rankedDocuments(db, embedder, tenantId, question.q, mode);
      const at = docs.findIndex((d) => relevant.has(d));
      const rank = at < 0 ? null : at + 1;
      (ranks[question.id] as Record<Mode, number | null>)[mode] = rank;
      for (const kind of [question.kind, 'all']) {
        scores[mode][kind] ??= { n: 0, hit1: 0, hit3: 0, hit5: 0, mrr: 0 };
        const s = scores[mode][kind];
        s.n++;
        if (rank !== null) {
          if (rank <= 1) s.hit1++;
          if (rank <= 3) s.hit3++;
          if (rank <= 5) s.hit5++;
          s.mrr += 1 / rank;
        }
      }
    }
  }
  return { scores, ranks };
}

/** hit@k as a percentage of the questions. */
export const pct = (hits: number, n: number) => (100 * hits) / Math.max(1, n);
