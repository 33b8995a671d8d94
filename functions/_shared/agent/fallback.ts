import { phrasesFor } from './phrases.ts';
import type { Passage } from './retrieval.ts';

const EXCERPT = 400;

function excerpt(text: string): string {
  if (text.length <= EXCERPT) return text;
  const cut = text.slice(0, EXCERPT);
  const sentenceEnd = Math.max(cut.lastIndexOf('. '), cut.lastIndexOf('! '), cut.lastIndexOf('? '));
  return `${sentenceEnd > 150 ? cut.slice(0, sentenceEnd + 1) : cut.trimEnd()}…`;
}

/**
 * The answer without a model: the best passages with their titles, and the offer of a person.
 * Never silence, never a raw error.
 */
export function retrievalAnswer(passages: Passage[], locale: string | null) {
  const phrases = phrasesFor(locale);
  const best = passages.slice(0, 2);
  const content =
    best.length === 0
      ? `${phrases.nothing} ${phrases.offerHuman}`
      : [
          phrases.found,
          ...best.map((p) => `**${p.heading || p.title}**\n${excerpt(p.content)}`),
          phrases.offerHuman,
        ].join('\n\n');
  return { content, quickReplies: [phrases.talkToHuman] };
}
