import { EMBEDDING_DIMENSIONS, type Embedder } from './embedder.ts';

// Supabase's built-in gte-small, run by the edge runtime itself: no API key, no network, 384
// dimensions natively. The runtime exposes it on the `Supabase` global, which is passed in here so
// that this module stays runtime-neutral and can be tested with a stand-in.

export interface SupabaseAiSession {
  run(input: string, options: { mean_pool: boolean; normalize: boolean }): Promise<unknown>;
}

/** The part of the edge runtime's `Supabase` global this embedder uses. */
export interface SupabaseAiGlobal {
  ai: { Session: new (model: string) => SupabaseAiSession };
}

export const GTE_SMALL_MODEL = 'gte-small';

export function createGteSmallEmbedder(supabase: SupabaseAiGlobal): Embedder {
  let session: SupabaseAiSession | null = null;
  return {
    model: GTE_SMALL_MODEL,
    async embed(texts) {
      // The model loads on the first session; one is enough for the isolate's lifetime.
      session ??= new supabase.ai.Session(GTE_SMALL_MODEL);
      const vectors: number[][] = [];
      // One input at a time: the runtime takes a single string, and running them in turn keeps
      // the isolate's memory flat for a large document.
      for (const [i, text] of texts.entries()) {
        const output = await session.run(text, { mean_pool: true, normalize: true });
        const vector =
          Array.isArray(output) || ArrayBuffer.isView(output)
            ? Array.from(output as ArrayLike<number>, Number)
            : null;
        if (!vector || vector.length !== EMBEDDING_DIMENSIONS) {
          throw new Error(
            `gte-small returned ${vector ? `${vector.length} dimensions` : 'no vector'} for input ${i}, expected ${EMBEDDING_DIMENSIONS}`,
          );
        }
        if (!vector.every(Number.isFinite)) {
          throw new Error(`gte-small returned a vector with non-numbers for input ${i}`);
        }
        vectors.push(vector);
      }
      return vectors;
    },
  };
}
