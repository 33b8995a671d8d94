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
  return sql.query<Passage>(
    `select chunk_id, document_id, title, heading, content, score, full_text_rank, semantic_rank, similarity
       from public.match_document_chunks($1, $2, $3::extensions.vector, $4)`,
    [tenantId, question, embedding ? toSql(embedding) : null, count],
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
      url: documentUrls[p.document_id] ?? null,
      score: Number(p.score.toFixed(4)),
    });
  }
  return sources;
}
