import { toSql } from 'pgvector';
import { semanticWeight } from '../agent/retrieval.ts';
import type { Db, JwtClaims } from '../db/port.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { HttpError } from '../http/errors.ts';

// The admin's retrieval test box: the question ranked exactly as the bot ranks it (the same
// embedder, weights and SQL function), with each side's part of the fused score shown. Runs as the
// caller, so RLS decides which chunks are searched; only the tenant's owners and admins, and
// platform operators, may ask.

export const RRF_K = 50;

export interface RankedPassage {
  rank: number;
  chunk_id: string;
  document_id: string;
  title: string;
  heading: string;
  content: string;
  source_url: string | null;
  /** The fused score: the sum of the two parts below. */
  score: number;
  full_text_rank: number | null;
  /** The full-text ranking's part of the fused score (weight / (k + rank)). */
  full_text_score: number;
  semantic_rank: number | null;
  /** Cosine similarity of the passage's vector to the question's. */
  similarity: number | null;
  /** The vector ranking's part of the fused score. */
  semantic_score: number;
}

export interface SearchTestResult {
  query: string;
  model: string;
  full_text_weight: number;
  semantic_weight: number;
  rrf_k: number;
  passages: RankedPassage[];
}

export async function searchTest(
  deps: { db: Db; embedder: Embedder },
  claims: JwtClaims,
  input: { tenantId: string; query: string; count: number },
): Promise<SearchTestResult> {
  const weight = semanticWeight(deps.embedder);
  const [embedding] = await deps.embedder.embed([input.query]);
  const rows = await deps.db.asUser(claims, async (sql) => {
    const [allowed] = await sql.query<{ ok: boolean }>(
      `select private.has_tenant_role($1, array['owner', 'admin'])
              or private.is_platform_admin() as ok`,
      [input.tenantId],
    );
    if (!allowed?.ok) {
      throw new HttpError(
        403,
        'forbidden',
        "Only the workspace's owners and admins test retrieval.",
      );
    }
    return sql.query<Omit<RankedPassage, 'rank' | 'full_text_score' | 'semantic_score'>>(
      `select m.chunk_id, m.document_id, m.title, m.heading, m.content, m.source_url, m.score,
              m.full_text_rank, m.semantic_rank, m.similarity
         from public.match_document_chunks($1, $2, $3::extensions.vector, $4, 1, $5, $6, $7) m
        order by m.score desc, m.full_text_rank nulls last, m.semantic_rank nulls last`,
      [
        input.tenantId,
        input.query,
        embedding ? toSql(embedding) : null,
        input.count,
        weight,
        RRF_K,
        deps.embedder.spellingOnly === true,
      ],
    );
  });
  // With spelling-only vectors the search scales their weight per question; what it applied is read
  // back from any passage the vector side ranked (score = 1/(k + ft) + w/(k + sem)).
  const fullTextScore = (row: (typeof rows)[number]) =>
    row.full_text_rank === null ? 0 : 1 / (RRF_K + row.full_text_rank);
  const ranked = rows.find((row) => row.semantic_rank !== null);
  const applied =
    ranked && ranked.semantic_rank !== null
      ? Number(((ranked.score - fullTextScore(ranked)) * (RRF_K + ranked.semantic_rank)).toFixed(6))
      : weight;
  return {
    query: input.query,
    model: deps.embedder.model,
    full_text_weight: 1,
    semantic_weight: applied,
    rrf_k: RRF_K,
    passages: rows.map((row, i) => ({
      ...row,
      rank: i + 1,
      full_text_score: fullTextScore(row),
      semantic_score: row.semantic_rank === null ? 0 : applied / (RRF_K + row.semantic_rank),
    })),
  };
}
