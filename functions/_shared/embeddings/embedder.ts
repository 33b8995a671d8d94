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
  /**
   * Its vectors encode spelling, not meaning: in hybrid search they count for the question's words
   * full text did not find (other spellings, inflections, languages) rather than all of them.
   */
  readonly spellingOnly?: boolean;
}
