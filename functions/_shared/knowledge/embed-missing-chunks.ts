import { toSql } from 'pgvector';
import type { Sql } from '../db/port.ts';
import type { Embedder } from '../embeddings/embedder.ts';

/**
 * Embeds chunks stored without a vector (seeded or imported as text), a batch at a time.
 * Returns how many were embedded. Idempotent: chunks that have a vector are left alone.
 */
export async function embedMissingChunks(
  sql: Sql,
  embedder: Embedder,
  options: { tenantId?: string; batchSize?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 64;
  let total = 0;
  for (;;) {
    const rows = await sql.query<{ id: string; heading: string; content: string }>(
      `select id, heading, content from public.document_chunks
        where embedding is null and ($1::uuid is null or tenant_id = $1::uuid)
        order by id limit $2`,
      [options.tenantId ?? null, batchSize],
    );
    if (rows.length === 0) return total;
    const vectors = await embedder.embed(rows.map((r) => `${r.heading}\n${r.content}`.trim()));
    for (const [i, row] of rows.entries()) {
      await sql.query(
        'update public.document_chunks set embedding = $2::extensions.vector where id = $1',
        [row.id, toSql(vectors[i])],
      );
    }
    total += rows.length;
  }
}
