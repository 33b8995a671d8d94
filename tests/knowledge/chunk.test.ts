import { describe, expect, it } from 'vitest';
import {
  type Chunk,
  chunkBlocks,
  DEFAULT_OVERLAP_TOKENS,
  DEFAULT_TARGET_TOKENS,
  estimateTokens,
} from '../../functions/_shared/knowledge/chunk.ts';
import { type Block, extractText } from '../../functions/_shared/knowledge/extract-text.ts';

const WORDS = [
  'boots',
  'trail',
  'waterproof',
  'lacing',
  'insole',
  'warranty',
  'parcel',
  'refund',
  'store',
  'fitting',
  'tent',
  'backpack',
  'weather',
  'summit',
  'river',
  'campfire',
];

function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Numbered sentences of 5 to 30 words, so every sentence can be found again by its number. */
function prose(sentences: number, seed = 1, from = 0): string[] {
  const random = mulberry32(seed);
  return Array.from({ length: sentences }, (_, i) => {
    const words = Array.from(
      { length: 4 + Math.floor(random() * 26) },
      () => WORDS[Math.floor(random() * WORDS.length)],
    );
    return `Sentence s${from + i} says ${words.join(' ')}.`;
  });
}

const paragraphs = (sentences: string[], perParagraph = 6): Block[] => {
  const blocks: Block[] = [];
  for (let i = 0; i < sentences.length; i += perParagraph) {
    blocks.push({
      kind: 'text',
      role: 'paragraph',
      text: sentences.slice(i, i + perParagraph).join(' '),
    });
  }
  return blocks;
};

function expectWellFormed(chunks: Chunk[], target = DEFAULT_TARGET_TOKENS) {
  expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  for (const chunk of chunks) {
    expect(chunk.content.trim()).toBe(chunk.content);
    expect(chunk.content.length).toBeGreaterThan(0);
    expect(chunk.tokenCount).toBe(estimateTokens(chunk.content));
    expect(chunk.tokenCount).toBeLessThanOrEqual(target);
  }
}

describe('estimateTokens', () => {
  it('counts about 1.3 tokens a word, more for dense text', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('   ')).toBe(0);
    expect(estimateTokens('ten words are here to be counted by the estimator')).toBe(13);
    expect(estimateTokens('TH-10421-XL-BLK-2025-RIDGELINE')).toBe(8);
    expect(estimateTokens('登山靴のサイズ')).toBeGreaterThanOrEqual(7);
  });
});

describe('chunkBlocks', () => {
  it('gives every section its own chunk, with the heading path', () => {
    const blocks = extractText(
      `# Returns and exchanges

Intro to returns.

## Policy

You can return unused gear within 60 days of delivery.

## How to return

1. Start a return from your order page.
2. Drop the parcel at any UPS point.
`,
      'text/markdown',
    );
    const chunks = chunkBlocks(blocks, { title: 'Returns' });
    expect(chunks.map(({ index, heading, content }) => ({ index, heading, content }))).toEqual([
      { index: 0, heading: 'Returns and exchanges', content: 'Intro to returns.' },
      {
        index: 1,
        heading: 'Returns and exchanges > Policy',
        content: 'You can return unused gear within 60 days of delivery.',
      },
      {
        index: 2,
        heading: 'Returns and exchanges > How to return',
        content: '1. Start a return from your order page.\n2. Drop the parcel at any UPS point.',
      },
    ]);
    expectWellFormed(chunks);
  });

  it('uses the title for text before the first heading, and tolerates documents without any', () => {
    const chunks = chunkBlocks(extractText('Just one line of text.', 'text/plain'), {
      title: 'Notes',
    });
    expect(chunks).toEqual([
      {
        index: 0,
        heading: 'Notes',
        content: 'Just one line of text.',
        tokenCount: estimateTokens('Just one line of text.'),
      },
    ]);
    expect(chunkBlocks([])).toEqual([]);
    expect(chunkBlocks([{ kind: 'heading', level: 1, text: 'Empty' }])).toEqual([]);
  });

  it('keeps short subsections together under their section, their headings as lines', () => {
    const chunks = chunkBlocks(
      extractText(
        `# FAQ

## Orders

### Can I cancel?

Yes, until it ships.

### Can I change the address?

Yes, ask us in chat.

## Payments

We take cards.
`,
        'text/markdown',
      ),
    );
    expect(chunks.map((c) => [c.heading, c.content])).toEqual([
      [
        'FAQ > Orders > Can I cancel?',
        'Yes, until it ships.\nCan I change the address?\nYes, ask us in chat.',
      ],
      ['FAQ > Payments', 'We take cards.'],
    ]);
  });

  it('cuts a long section between sentences, within the target, repeating the tail', () => {
    const sentences = prose(200);
    const blocks: Block[] = [
      { kind: 'heading', level: 1, text: 'Guide' },
      { kind: 'heading', level: 2, text: 'Long section' },
      ...paragraphs(sentences),
      { kind: 'heading', level: 2, text: 'Next section' },
      ...paragraphs(prose(3, 2, 1000)),
    ];
    const chunks = chunkBlocks(blocks);
    expectWellFormed(chunks);
    const long = chunks.filter((c) => c.heading === 'Guide > Long section');
    expect(long.length).toBeGreaterThan(5);
    let overlapped = 0;
    for (const [i, chunk] of long.entries()) {
      // Whole sentences only: each line starts a sentence and ends one.
      for (const line of chunk.content.split('\n')) {
        expect(line).toMatch(/^Sentence s\d+ .*\.$/);
      }
      // Full chunks, except the section's last.
      if (i < long.length - 1)
        expect(chunk.tokenCount).toBeGreaterThan(DEFAULT_TARGET_TOKENS * 0.7);
      if (i === 0) continue;
      // The overlap: the chunk opens with the previous chunk's last sentences, within budget.
      const previous = long[i - 1] as Chunk;
      const lastSentence = previous.content.match(/Sentence s\d+ [^.]*\.$/)?.[0] as string;
      const end = chunk.content.indexOf(lastSentence);
      if (estimateTokens(lastSentence) <= DEFAULT_OVERLAP_TOKENS) {
        expect(end).toBeGreaterThanOrEqual(0);
        const repeated = chunk.content.slice(0, end + lastSentence.length);
        expect(previous.content.endsWith(repeated)).toBe(true);
        expect(estimateTokens(repeated)).toBeLessThanOrEqual(DEFAULT_OVERLAP_TOKENS);
        overlapped++;
      } else {
        // Too long to repeat whole: the chunk starts with the next new sentence instead.
        expect(end).toBe(-1);
      }
    }
    expect(overlapped).toBeGreaterThan(long.length / 2);
    // Every sentence made it into some chunk.
    const all = long.map((c) => c.content).join(' ');
    for (const sentence of sentences) expect(all).toContain(sentence);
    // A new section starts fresh: nothing of the long section is repeated in it.
    const next = chunks.filter((c) => c.heading === 'Guide > Next section');
    expect(next).toHaveLength(1);
    expect(next[0]?.content.startsWith('Sentence s1000 ')).toBe(true);
  });

  it('cuts a sentence only when it alone is too long', () => {
    const endless = Array.from({ length: 900 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkBlocks([{ kind: 'text', role: 'paragraph', text: endless }], {
      targetTokens: 200,
      overlapTokens: 40,
    });
    expectWellFormed(chunks, 200);
    expect(chunks.length).toBeGreaterThan(5);
    const words = new Set(chunks.flatMap((c) => c.content.split(' ')));
    expect(words.size).toBe(900);
    // A single unbroken "word" (a data blob) is cut too.
    const blob = chunkBlocks([{ kind: 'text', role: 'code', text: 'x'.repeat(10_000) }], {
      targetTokens: 100,
      overlapTokens: 20,
    });
    expectWellFormed(blob, 100);
    expect(
      blob
        .map((c) => c.content)
        .join('')
        .replaceAll('\n', ''),
    ).toBe('x'.repeat(10_000));
  });

  it('keeps table rows and code lines whole', () => {
    const rows = Array.from({ length: 120 }, (_, i) => `Size ${i} | EU ${30 + i} | US ${i}.5`);
    const chunks = chunkBlocks(
      rows.map((text) => ({ kind: 'text', role: 'table-row', text }) as Block),
      { targetTokens: 120, overlapTokens: 20 },
    );
    expectWellFormed(chunks, 120);
    for (const chunk of chunks) {
      for (const line of chunk.content.split('\n')) expect(rows).toContain(line);
    }
  });

  it('chunks a 20,000-word document quickly and within bounds', () => {
    const sentences = prose(1500, 7);
    const sections: string[] = ['# Handbook', ''];
    for (let s = 0; s < 15; s++) {
      sections.push(`## Chapter ${s + 1}`, '');
      const part = sentences.slice(s * 100, (s + 1) * 100);
      for (let p = 0; p < part.length; p += 5) sections.push(part.slice(p, p + 5).join(' '), '');
    }
    const markdown = sections.join('\n');
    expect(markdown.split(/\s+/).length).toBeGreaterThan(20_000);
    const started = performance.now();
    const chunks = chunkBlocks(extractText(markdown, 'text/markdown'));
    expect(performance.now() - started).toBeLessThan(2_000);
    expectWellFormed(chunks);
    expect(chunks.length).toBeGreaterThan(60);
    expect(chunks.length).toBeLessThan(200);
    expect(new Set(chunks.map((c) => c.heading)).size).toBe(15);
    const all = chunks.map((c) => c.content).join(' ');
    for (const sentence of sentences) expect(all).toContain(sentence);
  });
});
