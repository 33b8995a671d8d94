import type { Block } from './blocks.ts';

/** A passage of a document as it is stored, embedded and retrieved. */
export interface Chunk {
  index: number;
  /** The headings above the passage, outermost first: "Returns and exchanges > How to return". */
  heading: string;
  content: string;
  tokenCount: number;
}

export interface ChunkOptions {
  /** Upper size of a chunk, overlap included. */
  targetTokens?: number;
  /** How much of the end of a chunk the next one in the same section repeats. */
  overlapTokens?: number;
  /**
   * A subsection starts its own chunk once the running chunk holds this much; smaller
   * subsections are kept together, their heading as a line of text.
   */
  minTokens?: number;
  /** The heading of text that comes before the document's first heading. */
  title?: string;
}

export const DEFAULT_TARGET_TOKENS = 350;
export const DEFAULT_OVERLAP_TOKENS = 60;

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu;

/**
 * A model-independent token estimate: about 1.3 tokens per word for prose, 4 characters per
 * token for dense text (codes, URLs, numbers), one per character for scripts written without
 * spaces. It errs high, so that chunks stay inside an embedding model's input limit.
 */
export function estimateTokens(text: string): number {
  return measure(sizeOf(text.trim()));
}

/** The additive parts of a token estimate, so that a chunk can be measured as it grows. */
interface Size {
  words: number;
  chars: number;
  ideographs: number;
}

const EMPTY: Size = { words: 0, chars: 0, ideographs: 0 };

function sizeOf(text: string): Size {
  return {
    words: text.split(/\s+/).filter(Boolean).length,
    chars: text.length,
    ideographs: text.match(CJK)?.length ?? 0,
  };
}

function measure(size: Size): number {
  if (size.chars === 0) return 0;
  return Math.ceil(
    Math.max(size.words * 1.3, (size.chars - size.ideographs) / 4 + size.ideographs),
  );
}

interface Unit extends Size {
  text: string;
  /** What joins it to the unit before: a space inside a paragraph, a line break between blocks. */
  separator: ' ' | '\n';
}

/** The size of text followed by a separator and the unit. */
const grow = (base: Size, unit: Unit): Size => ({
  words: base.words + unit.words,
  chars: base.chars + unit.chars + (base.chars > 0 ? 1 : 0),
  ideographs: base.ideographs + unit.ideographs,
});

let segmenter: Intl.Segmenter | null | undefined;

function sentences(text: string): string[] {
  if (segmenter === undefined) {
    segmenter =
      typeof Intl !== 'undefined' && 'Segmenter' in Intl
        ? new Intl.Segmenter(undefined, { granularity: 'sentence' })
        : null;
  }
  if (segmenter) {
    return Array.from(segmenter.segment(text), (s) => s.segment.trimEnd()).filter((s) => s.trim());
  }
  return text.split(/(?<=[.!?…])\s+(?=[\p{Lu}\p{N}"'(])/u).filter((s) => s.trim());
}

/** Cuts text with no usable sentence boundary at word boundaries, each piece within max tokens. */
function splitByWords(text: string, max: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (estimateTokens(word) > max) {
      if (piece) pieces.push(piece);
      piece = '';
      let rest = word;
      while (rest) {
        let length = Math.min(rest.length, max * 4);
        while (length > 1 && estimateTokens(rest.slice(0, length)) > max) length >>= 1;
        pieces.push(rest.slice(0, length));
        rest = rest.slice(length);
      }
      continue;
    }
    const next = piece ? `${piece} ${word}` : word;
    if (piece && estimateTokens(next) > max) {
      pieces.push(piece);
      piece = word;
    } else {
      piece = next;
    }
  }
  if (piece) pieces.push(piece);
  return pieces;
}

function unitsOf(block: Extract<Block, { kind: 'text' }>, maxUnit: number): Unit[] {
  const parts: { text: string; lineStart: boolean }[] = [];
  for (const line of block.text.split('\n')) {
    if (!line.trim()) continue;
    // Table rows and code lines are read whole; prose is cut between sentences.
    const pieces = block.role === 'code' || block.role === 'table-row' ? [line] : sentences(line);
    pieces.forEach((text, i) => {
      parts.push({ text, lineStart: i === 0 });
    });
  }
  const units: Unit[] = [];
  for (const part of parts) {
    const pieces =
      estimateTokens(part.text) > maxUnit ? splitByWords(part.text, maxUnit) : [part.text];
    pieces.forEach((piece, i) => {
      const text = units.length === 0 || part.lineStart ? piece : piece.trimStart();
      units.push({ text, ...sizeOf(text), separator: part.lineStart && i === 0 ? '\n' : ' ' });
    });
  }
  return units;
}

/**
 * The level whose headings open top-level sections. A lone heading at the very top is the
 * document's title, so its sections are the next level down.
 */
function sectionLevel(blocks: readonly Block[]): number {
  const levels = blocks.flatMap((b) => (b.kind === 'heading' ? [b.level] : []));
  if (levels.length === 0) return 1;
  const top = Math.min(...levels);
  const lone = levels.filter((l) => l === top).length === 1 && levels[0] === top;
  const below = levels.filter((l) => l > top);
  return lone && below.length > 0 ? Math.min(...below) : top;
}

/**
 * Blocks → chunks of about targetTokens. Chunks end between sentences (a sentence is only cut
 * when it alone is too long), every top-level section starts a new chunk, and a chunk that
 * continues a section repeats the last sentences of the one before it (up to overlapTokens) so
 * that a passage cut in two can still be found from either half.
 */
export function chunkBlocks(blocks: readonly Block[], options: ChunkOptions = {}): Chunk[] {
  const target = Math.max(16, Math.floor(options.targetTokens ?? DEFAULT_TARGET_TOKENS));
  const overlap = Math.min(
    Math.max(0, Math.floor(options.overlapTokens ?? DEFAULT_OVERLAP_TOKENS)),
    Math.floor(target / 2),
  );
  const minTokens = options.minTokens ?? Math.round(target * 0.3);
  // With at most `overlap` repeated, any single unit up to this size still fits a chunk.
  const maxUnit = target - overlap;
  const topLevel = sectionLevel(blocks);

  const chunks: Chunk[] = [];
  const path: { level: number; text: string }[] = [];
  const livePath = () =>
    path.length > 0 ? path.map((h) => h.text).join(' > ') : (options.title?.trim() ?? '');

  let heading = livePath();
  let units: Unit[] = [];
  let size = EMPTY;
  // Whether the chunk has text of its own, beyond what it repeats from the chunk before.
  let fresh = false;

  const flush = (carryOver: boolean) => {
    if (fresh) {
      const content = units
        .map((u, i) => (i === 0 ? u.text : u.separator + u.text))
        .join('')
        .trim();
      if (content) {
        chunks.push({
          index: chunks.length,
          heading,
          content,
          tokenCount: estimateTokens(content),
        });
      }
    }
    let tail: Unit[] = [];
    if (carryOver && fresh) {
      // Whole sentences from the end, as many as fit the overlap, never the entire chunk.
      for (let i = units.length - 1; i > 0; i--) {
        const candidate = [units[i] as Unit, ...tail];
        if (measure(candidate.reduce(grow, EMPTY)) > overlap) break;
        tail = candidate;
      }
    }
    units = tail;
    size = tail.reduce(grow, EMPTY);
    fresh = false;
    heading = livePath();
  };

  const add = (unit: Unit) => {
    if (fresh && measure(grow(size, unit)) > target) flush(true);
    // The repeated tail gives way when it and a long sentence would not fit together.
    if (measure(grow(size, unit)) > target) {
      units = [];
      size = EMPTY;
    }
    units.push(unit);
    size = grow(size, unit);
    fresh = true;
  };

  for (const block of blocks) {
    if (block.kind === 'heading') {
      while (path.length > 0 && (path.at(-1) as { level: number }).level >= block.level) {
        path.pop();
      }
      path.push({ level: block.level, text: block.text });
      const line: Unit = { text: block.text, ...sizeOf(block.text), separator: '\n' };
      if (
        block.level <= topLevel ||
        !fresh ||
        measure(size) >= minTokens ||
        measure(grow(size, line)) > target
      ) {
        flush(false);
      } else {
        // A short subsection rides along with the chunk it follows; its heading stays visible.
        add(line);
      }
      continue;
    }
    for (const unit of unitsOf(block, maxUnit)) add(unit);
  }
  flush(false);
  return chunks;
}
