import { EMBEDDING_DIMENSIONS, type Embedder } from './embedder.ts';

// A deterministic embedder for local use and tests: no model download, same text → same vector.
// Words and the character trigrams inside them are hashed into the 384 dimensions (the "hashing
// trick", with a sign bit to keep collisions from piling up), then L2-normalised so cosine distance
// behaves. Trigrams make "boot" and "boots" or a typo land close; it knows no synonyms, which is why
// search is hybrid.

const WORD = /[\p{L}\p{N}]+/gu;
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.35;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function addFeature(vector: Float64Array, feature: string, weight: number): void {
  const hash = fnv1a(feature);
  const index = hash % EMBEDDING_DIMENSIONS;
  const sign = (hash >>> 31) & 1 ? -1 : 1;
  vector[index] = (vector[index] ?? 0) + sign * weight;
}

export function normalizeForEmbedding(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(WORD) ?? []
  );
}

export function hashingEmbedding(text: string): number[] {
  const vector = new Float64Array(EMBEDDING_DIMENSIONS);
  for (const word of normalizeForEmbedding(text)) {
    addFeature(vector, `w:${word}`, WORD_WEIGHT);
    const padded = `^${word}$`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      addFeature(vector, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
    }
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm === 0) {
    // Text without a single word still needs a valid direction: a zero vector has no cosine.
    vector[0] = 1;
    return Array.from(vector);
  }
  const scale = 1 / Math.sqrt(norm);
  return Array.from(vector, (value) => Math.round(value * scale * 1e6) / 1e6);
}

export function createHashingEmbedder(): Embedder {
  return {
    model: 'parley-hashing-384',
    embed: (texts) => Promise.resolve(texts.map(hashingEmbedding)),
  };
}
