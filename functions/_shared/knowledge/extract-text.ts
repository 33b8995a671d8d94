import type { Block, ExtractOptions } from './blocks.ts';
import { extractHtml } from './extract-html.ts';
import { extractMarkdown } from './extract-markdown.ts';
import { collapseWhitespace, normalizeNewlines } from './text.ts';

export type { Block, ExtractOptions, TextRole } from './blocks.ts';

export const DOCUMENT_MIME_TYPES = ['text/plain', 'text/markdown', 'text/html'] as const;
export type DocumentMimeType = (typeof DOCUMENT_MIME_TYPES)[number];

export class UnsupportedMimeTypeError extends Error {
  override readonly name = 'UnsupportedMimeTypeError';
  constructor(readonly mimeType: string) {
    super(`cannot extract text from ${mimeType || 'an unknown type'}`);
  }
}

export function extractText(
  content: string,
  mimeType: string,
  options: ExtractOptions = {},
): Block[] {
  // "text/html; charset=utf-8" is still HTML; the content is already a decoded string.
  const type = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  switch (type) {
    case 'text/html':
      return extractHtml(content, options);
    case 'text/markdown':
      return extractMarkdown(content, options);
    case 'text/plain':
      return extractPlainText(content);
    default:
      throw new UnsupportedMimeTypeError(mimeType);
  }
}

const BULLET = /^\s*(?:[-*•‣◦▪]|\d{1,3}[.)])\s+\S/u;

/**
 * Plain text: blank lines separate paragraphs; wrapped lines are joined, except lines that look
 * like list items, which stay items of their own.
 */
export function extractPlainText(text: string): Block[] {
  const blocks: Block[] = [];
  for (const paragraph of normalizeNewlines(text).split(/\n\s*\n/)) {
    let pending: string[] = [];
    const flush = () => {
      const joined = collapseWhitespace(pending.join(' '));
      if (joined) blocks.push({ kind: 'text', role: 'paragraph', text: joined });
      pending = [];
    };
    for (const line of paragraph.split('\n')) {
      if (BULLET.test(line)) {
        flush();
        blocks.push({ kind: 'text', role: 'list-item', text: collapseWhitespace(line) });
      } else if (line.trim()) {
        // A wrapped continuation of a list item belongs to it.
        const last = blocks.at(-1);
        if (
          pending.length === 0 &&
          last?.kind === 'text' &&
          last.role === 'list-item' &&
          /^\s/.test(line)
        ) {
          last.text = `${last.text} ${collapseWhitespace(line)}`;
        } else {
          pending.push(line);
        }
      }
    }
    flush();
  }
  return blocks;
}

/** Renders blocks back to readable text: what an operator previews and what tests compare. */
export function blocksToText(blocks: readonly Block[]): string {
  return blocks
    .map((block) =>
      block.kind === 'heading' ? `${'#'.repeat(block.level)} ${block.text}` : block.text,
    )
    .join('\n');
}
