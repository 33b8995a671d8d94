/** Every vector in Parley has this many dimensions (gte-small's size; the schema says vector(384)). */
export const EMBEDDING_DIMENSIONS = 384;

export interface Embedder {
  /** Recorded with what it embedded, so vectors from different models are never compared. */
  readonly model: string;
  embed(texts: string[]): Promise<number[][]>;
  /**
   * The weight of its ranking against full text's 1 in hybrid search; omitted means 1. An
   * embedder that knows no meaning, only spelling, earns less.
   */
  readonly semanticWeight?: number;
}
