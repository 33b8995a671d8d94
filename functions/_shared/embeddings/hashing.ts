import { EMBEDDING_DIMENSIONS, type Embedder } from './embedder.ts';

// A deterministic embedder for local use and tests: no model download, same text → same vector.
// Features are hashed into the 384 dimensions (the "hashing trick", with a sign bit so collisions
// cancel rather than pile up), then L2-normalised so cosine distance behaves:
//   - each content word, and its crude stem, so "return", "returns" and "returned" meet;
//   - its leading word piece, which is where European languages keep a word's root and cognates
//     agree ("devolución"/"devoluções", "livraison"/"livrée");
//   - its character 3- and 4-grams, weighted down so long words do not drown short ones, so a
//     typo still shares most of a word's features;
//   - pairs of neighbouring content words, for phrases ("gift card", "click and collect").
// Function words of the widget's languages carry no topic and are left out; repeated words count
// sublinearly. It knows no synonyms, which is why search is hybrid and full text leads.

const WORD = /[\p{L}\p{N}]+/gu;

const STOP_WORDS = new Set(
  // English
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in ' +
    'into is it its me my no not of on or our so than that the their them then there these they ' +
    'this to was we were what when where which who why will with would you your am any about ' +
    'also just only up out very get got here ' +
    // German
    'der die das den dem des ein eine einen einem einer und oder ist sind war ich du sie wir ihr ' +
    'es mit von zu zum zur im in auf fur bei wie was wann wo kann konnen ich mein meine nicht auch ' +
    'aber als an ob noch nach dass ' +
    // French
    'le la les un une des et ou est sont je tu il elle nous vous ils de du au aux en dans pour ' +
    'par sur avec que qui quoi quand comment ma mon mes ce cette ne pas se sa son ses puis ' +
    // Spanish and Portuguese
    'el los las unos unas y o es son yo mi mis su sus de del al en por para con que como cuando ' +
    'donde se lo le no si tu os as um uma e do da dos das no na nos nas com para por meu minha ' +
    'seu sua em ao eu voce qual'
  ).split(' '),
);

const SUFFIXES = [
  'ations',
  'ation',
  'ments',
  'ment',
  'ings',
  'ing',
  'edly',
  'ed',
  'ers',
  'er',
  'ies',
  'es',
  's',
  'ungen',
  'ung',
  'en',
  'ciones',
  'cion',
  'coes',
  'cao',
  'ly',
];

const WORD_WEIGHT = 1;
const STEM_WEIGHT = 0.7;
const PIECE_WEIGHT = 1.0;
const NGRAM_WEIGHT = 0.35;
const PAIR_WEIGHT = 0.5;

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
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

function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 4 && word.endsWith(suffix)) {
      return word.slice(0, -suffix.length);
    }
  }
  return word;
}

function features(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const add = (feature: string, weight: number) =>
    out.set(feature, (out.get(feature) ?? 0) + weight);
  const words = normalizeForEmbedding(text).filter((w) => !STOP_WORDS.has(w));
  let previous: string | null = null;
  for (const word of words) {
    const root = stem(word);
    add(`w:${word}`, WORD_WEIGHT);
    if (root !== word) add(`s:${root}`, STEM_WEIGHT);
    else add(`s:${word}`, STEM_WEIGHT);
    if (word.length > 5) add(`p:${word.slice(0, 5)}`, PIECE_WEIGHT);
    const padded = `^${root}$`;
    const grams: string[] = [];
    for (const n of [3, 4]) {
      for (let i = 0; i + n <= padded.length; i++) grams.push(padded.slice(i, i + n));
    }
    const each = NGRAM_WEIGHT;
    for (const gram of grams) add(`g:${gram}`, each);
    if (previous !== null) add(`b:${previous} ${root}`, PAIR_WEIGHT);
    previous = root;
  }
  return out;
}

export function hashingEmbedding(text: string): number[] {
  const vector = new Float64Array(EMBEDDING_DIMENSIONS);
  for (const [feature, weight] of features(text)) {
    const hash = fnv1a(feature);
    const index = hash % EMBEDDING_DIMENSIONS;
    const sign = (hash >>> 31) & 1 ? -1 : 1;
    // A word said five times is not five times the topic.
    vector[index] = (vector[index] ?? 0) + sign * Math.sqrt(weight);
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

// Measured on the evaluation set (npm run bench:rag): with equal weights the hashing side pulls
// paraphrases down at rank 1; at this weight it still lifts typos and other languages.
const SEMANTIC_WEIGHT = 0.5;

export function createHashingEmbedder(): Embedder {
  return {
    model: 'parley-hashing-384',
    semanticWeight: SEMANTIC_WEIGHT,
    spellingOnly: true,
    embed: (texts) => Promise.resolve(texts.map(hashingEmbedding)),
  };
}
