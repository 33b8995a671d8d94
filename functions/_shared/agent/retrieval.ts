import { toSql } from 'pgvector';
import type { Sql } from '../db/port.ts';
import type { Embedder } from '../embeddings/embedder.ts';

export interface Passage {
  chunk_id: string;
  document_id: string;
  title: string;
  heading: string;
  content: string;
  score: number;
  full_text_rank: number | null;
  semantic_rank: number | null;
  similarity: number | null;
  /** Where the document lives on the tenant's site, for its citation. */
  source_url?: string | null;
}

/**
 * How much the vector ranking counts against the full-text one in the fusion: an embedder says
 * what its vectors are worth (the hashing embedder's were measured on the evaluation set); a
 * learned model's count as much as full text.
 */
export function semanticWeight(embedder: Embedder): number {
  return embedder.semanticWeight ?? 1;
}

/** The tenant's best passages for a question: hybrid search, so it works with any embedder. */
export async function retrievePassages(
  sql: Sql,
  embedder: Embedder,
  tenantId: string,
  question: string,
  count = 5,
): Promise<Passage[]> {
  const [embedding] = await embedder.embed([question]);
  // The citation's URL comes with each passage: one round trip per search, no join of its own.
  return sql.query<Passage>(
    `select m.chunk_id, m.document_id, m.title, m.heading, m.content, m.score, m.full_text_rank,
            m.semantic_rank, m.similarity, m.source_url
       from public.match_document_chunks($1, $2, $3::extensions.vector, $4, 1, $5,
                                         p_spelling_vectors => $6) m
      order by m.score desc, m.full_text_rank nulls last, m.semantic_rank nulls last`,
    [
      tenantId,
      question,
      embedding ? toSql(embedding) : null,
      count,
      semanticWeight(embedder),
      embedder.spellingOnly === true,
    ],
  );
}

/** What the widget shows under a reply: one citation per document, best first. */
export function sourcesOf(passages: Passage[], documentUrls: Record<string, string | null> = {}) {
  const seen = new Set<string>();
  const sources: {
    document_id: string;
    chunk_id: string;
    title: string;
    url: string | null;
    score: number;
  }[] = [];
  for (const p of passages) {
    if (seen.has(p.document_id)) continue;
    seen.add(p.document_id);
    sources.push({
      document_id: p.document_id,
      chunk_id: p.chunk_id,
      title: p.title,
      url: documentUrls[p.document_id] ?? p.source_url ?? null,
      score: Number(p.score.toFixed(4)),
    });
  }
  return sources;
}
