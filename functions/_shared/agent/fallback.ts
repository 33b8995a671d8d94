import { normalizeForEmbedding } from '../embeddings/hashing.ts';
import { type Locale, phrasesFor } from './phrases.ts';
import type { Passage } from './retrieval.ts';

// The answer without a model: the few sentences of the best passages that answer the question,
// as plain text (no heading paths, no table syntax), in the visitor's language, citing only the
// documents quoted. Below a confidence floor it says plainly that nothing matched rather than
// presenting unrelated passages as findings. A person is offered when confidence is low, when
// the visitor asks for one, or when the caller says so (the model or workflow failed).

/** Sentences weaker than this share too little with the question to be an answer. */
export const ANSWER_FLOOR = 0.55;
/** From here on an answer stands on its own, without the offer of a person. */
export const CONFIDENT = 0.8;
const MAX_SENTENCES = 3;
const MAX_DOCUMENTS = 2;
const PASSAGES_READ = 4;

export interface RetrievalAnswerOptions {
  /** The visitor's question: sentences are chosen by how well they answer it. */
  question?: string;
  /** Offer a person whatever the confidence (the model or the workflow failed). Default true. */
  offerHuman?: boolean;
}

export interface RetrievalAnswer {
  content: string;
  quickReplies: string[];
  /** The documents the answer quotes, best first: the only ones it may cite. */
  quoted: string[];
  /** How well the best sentence matches the question, 0 to 1. */
  confidence: number;
}

const ASKS_FOR_PERSON =
  /\b(human|person|people|agent|operator|representative|someone real|real person|staff|mensch|mitarbeiter|berater|humain|conseiller|quelqu'un|persona|agente|humano|pessoa|atendente)\b|נציג|בן אדם/iu;

/** True when the visitor asks to talk to a person. */
export function asksForPerson(question: string): boolean {
  return ASKS_FOR_PERSON.test(question.normalize('NFKD').replace(/\p{M}+/gu, ''));
}

const MARKERS: Record<Exclude<Locale, 'he'>, string[]> = {
  en: ['the', 'is', 'do', 'you', 'my', 'how', 'what', 'can', 'i', 'and', 'does', 'are', 'to'],
  de: ['der', 'die', 'das', 'ist', 'ich', 'wie', 'was', 'kann', 'und', 'mein', 'meine', 'nicht'],
  fr: ['le', 'la', 'les', 'est', 'je', 'comment', 'quand', 'puis', 'et', 'mon', 'ma', 'une'],
  es: ['el', 'los', 'las', 'es', 'como', 'cuanto', 'cuando', 'puedo', 'y', 'mi', 'una', 'del'],
  pt: ['o', 'os', 'as', 'e', 'como', 'quanto', 'quando', 'posso', 'meu', 'minha', 'uma', 'do'],
};

/** The language to answer in: the question's own when it clearly has one, else the widget's. */
export function answerLanguage(question: string, locale: string | null): string | null {
  if (/[\u0590-\u05ff]/u.test(question)) return 'he';
  const words = normalizeForEmbedding(question);
  let best: string | null = null;
  let bestCount = 0;
  for (const [language, markers] of Object.entries(MARKERS)) {
    const count = words.filter((w) => markers.includes(w)).length;
    if (count > bestCount) {
      best = language;
      bestCount = count;
    }
  }
  const widget = (locale ?? '').slice(0, 2).toLowerCase();
  // One marker word is weak evidence ("a", "de" exist in several languages): it only confirms.
  if (best && (bestCount >= 2 || best === widget)) return best;
  return locale;
}

/** The passage as sentences of plain text: Markdown headings, tables and list markers gone. */
export function plainSentences(content: string): string[] {
  const out: string[] = [];
  const lines = content.split('\n');
  const separator = (line: string | undefined) => /^\|?[\s:|-]+\|?$/.test(line?.trim() ?? '');
  // Ingestion keeps a table's rows as "cell | cell" lines, the header first.
  const row = (line: string | undefined) => /(^\|)|( \| )/.test(line?.trim() ?? '');
  for (const [i, raw] of lines.entries()) {
    let line = raw.trim();
    if (!line || /^#{1,6}\s/.test(line)) continue;
    if (row(line) || (separator(line) && line.includes('-'))) {
      // A header row names columns; it answers nothing on its own.
      if (separator(line) || separator(lines[i + 1]) || !row(lines[i - 1])) continue;
      const cells = line
        .split('|')
        .map((c) => c.trim())
        .filter(Boolean);
      line = cells.join(', ');
      if (line) out.push(line);
      continue;
    }
    line = line
      .replace(/^([-*+]|\d+[.)])\s+/, '')
      .replace(/\*\*|__/g, '')
      .replace(/`/g, '');
    // Split after sentence-ending punctuation only where a space follows, so $19.95 stays whole.
    const pieces = line.split(/(?<=[.!?])\s+/);
    for (const piece of pieces) {
      const sentence = piece.trim();
      if (sentence.length > 1) out.push(sentence);
    }
  }
  return out;
}

// Words that ask rather than say what about: they never count as matching evidence.
const GENERIC = new Set(
  'sell sells buy need want have get make take give know like good tell please help question thanks thank hello hi anything something someone way much many long'.split(
    ' ',
  ),
);

/** The question's content words: its function words and generic verbs left out. */
function contentWords(text: string): string[] {
  return [...new Set(normalizeForEmbedding(text))].filter(
    (w) => w.length > 1 && !GENERIC.has(w) && !STOP.has(w),
  );
}

const STOP = new Set(Object.values(MARKERS).flat());

function trigrams(word: string): Set<string> {
  const padded = `^${word}$`;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  return out;
}

/** Same word, same root, or a likely typo of it. */
function sameWord(a: string, b: string): boolean {
  if (a === b) return true;
  const n = Math.min(a.length, b.length);
  if (n >= 4 && a.slice(0, Math.max(4, n - 2)) === b.slice(0, Math.max(4, n - 2))) return true;
  if (n < 5) return false;
  const ta = trigrams(a);
  const tb = trigrams(b);
  let shared = 0;
  for (const t of ta) if (tb.has(t)) shared++;
  return shared / (ta.size + tb.size - shared) >= 0.45;
}

/** The share of the question's content words that the text contains, longer words counting more. */
function coverage(asked: string[], text: string): number {
  if (asked.length === 0) return 0;
  const words = [...new Set(normalizeForEmbedding(text))];
  let total = 0;
  let found = 0;
  for (const word of asked) {
    const weight = Math.min(word.length, 8);
    total += weight;
    if (words.some((w) => sameWord(word, w))) found += weight;
  }
  return found / total;
}

interface Candidate {
  sentence: string;
  documentId: string;
  passage: number;
  position: number;
  score: number;
}

function candidates(passages: Passage[], question: string): Candidate[] {
  const asked = contentWords(question);
  const out: Candidate[] = [];
  passages.slice(0, PASSAGES_READ).forEach((p, passage) => {
    plainSentences(p.content).forEach((sentence, position) => {
      // The title says what the sentence is about ("It takes 3 days" under "Shipping").
      const score = question.trim() ? coverage(asked, `${p.title} ${sentence}`) : 1;
      // Retrieval already ranked the passages: a later one needs a clearly better sentence.
      out.push({
        sentence,
        documentId: p.document_id,
        passage,
        position,
        score: score / (1 + 0.25 * passage),
      });
    });
  });
  return out;
}

/**
 * How well the passages answer the question, 0 to 1. Judged on whole passages, so a question in
 * several parts can be covered by several sentences.
 */
export function answerConfidence(passages: Passage[], question: string): number {
  const asked = contentWords(question);
  return Math.max(
    0,
    ...passages
      .slice(0, PASSAGES_READ)
      .map((p, i) => coverage(asked, `${p.title} ${p.heading} ${p.content}`) / (1 + 0.25 * i)),
  );
}

export function retrievalAnswer(
  passages: Passage[],
  locale: string | null,
  options: RetrievalAnswerOptions = {},
): RetrievalAnswer {
  const question = options.question ?? '';
  const phrases = phrasesFor(question ? answerLanguage(question, locale) : locale);
  const wantsPerson = question !== '' && asksForPerson(question);
  const ranked = candidates(passages, question).sort(
    (a, b) => b.score - a.score || a.passage - b.passage || a.position - b.position,
  );
  const best = ranked[0];
  const confidence = question.trim() ? answerConfidence(passages, question) : best ? 1 : 0;
  if (!best || (question && confidence < ANSWER_FLOOR)) {
    return {
      content: wantsPerson ? phrases.offerHuman : `${phrases.nothing} ${phrases.offerHuman}`,
      quickReplies: [phrases.talkToHuman],
      quoted: [],
      confidence,
    };
  }
  const chosen: Candidate[] = [];
  const documents: string[] = [];
  for (const c of ranked) {
    if (chosen.length === MAX_SENTENCES) break;
    if (c.score <= 0 || c.score < best.score * 0.75) break;
    if (!documents.includes(c.documentId)) {
      if (documents.length === MAX_DOCUMENTS) continue;
      documents.push(c.documentId);
    }
    if (chosen.some((o) => o.sentence === c.sentence)) continue;
    chosen.push(c);
  }
  // Read in the documents' own order, so the sentences follow on from each other.
  chosen.sort(
    (a, b) =>
      documents.indexOf(a.documentId) - documents.indexOf(b.documentId) ||
      a.passage - b.passage ||
      a.position - b.position,
  );
  const offer = wantsPerson || confidence < CONFIDENT || (options.offerHuman ?? true);
  const body = chosen.map((c) => c.sentence.replace(/([^.!?:])$/, '$1.')).join(' ');
  return {
    content: [phrases.found, body, offer ? phrases.offerHuman : ''].filter(Boolean).join('\n\n'),
    quickReplies: offer ? [phrases.talkToHuman] : [],
    quoted: documents,
    confidence,
  };
}

/** The citations of an answer: only the documents it quotes. */
export function citedSources<T extends { document_id: string }>(
  sources: T[],
  answer: Pick<RetrievalAnswer, 'quoted'>,
): T[] {
  return answer.quoted
    .map((id) => sources.find((s) => s.document_id === id))
    .filter((s): s is T => s !== undefined);
}

/**
 * The retrieval answer as a reply draft's text, quick replies and citations, for the visitor's
 * message in its conversation.
 */
export function retrievalDraft<T extends { document_id: string }>(
  passages: Passage[],
  sources: T[],
  context: { message: { content: string }; conversation: { locale: string | null } },
  options: Omit<RetrievalAnswerOptions, 'question'> = {},
) {
  const answer = retrievalAnswer(passages, context.conversation.locale, {
    ...options,
    question: context.message.content,
  });
  return {
    content: answer.content,
    quickReplies: answer.quickReplies,
    sources: citedSources(sources, answer),
  };
}
