// The shapes extraction produces, kept apart from the dispatcher (extract-text.ts) so each
// extractor depends only on them, never on the module that chooses between extractors.

/**
 * A document reduced to what retrieval needs: its headings (so a passage can say which section it
 * belongs to) and its text, one block per paragraph, list item, table row or code block. Markup is
 * gone; line breaks inside a block are kept only where they carry meaning (an address, code).
 */
export type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'text'; role: TextRole; text: string };

/**
 * Why a text block exists: the chunker splits paragraphs and list items into sentences, but keeps
 * table rows and code lines whole.
 */
export type TextRole = 'paragraph' | 'list-item' | 'table-row' | 'code';

export interface ExtractOptions {
  /** Where the document came from: relative links are resolved against it, otherwise dropped. */
  baseUrl?: string | null;
}
