import type { Block, ExtractOptions } from './blocks.ts';
import { docxToHtml } from './docx.ts';
import { extractHtml } from './extract-html.ts';
import { extractPlainText, extractText, UnsupportedMimeTypeError } from './extract-text.ts';

// Files → blocks. PDF through unpdf (pdf.js built for every runtime), Word as the semantic HTML
// docx.ts reads out of it (headings stay headings), the text types through the text extractors.
// unpdf is loaded on first use: it is large, and most functions that compose the job handlers
// never open a file.

export const PDF = 'application/pdf';
export const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** Every type a knowledge file may have, by the extensions people upload. */
export const FILE_TYPES: Readonly<Record<string, string>> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  html: 'text/html',
  htm: 'text/html',
  pdf: PDF,
  docx: DOCX,
};

export interface ExtractedFile {
  blocks: Block[];
  /** Pages of a PDF; null for formats without pages. */
  pages: number | null;
}

/** A file that is damaged or not what its type says: trying again cannot help. */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';
}

async function extractPdf(bytes: Uint8Array): Promise<ExtractedFile> {
  const { extractText: pdfText, getDocumentProxy } = await import('unpdf');
  let pages: string[];
  let total: number;
  try {
    // pdf.js takes ownership of the buffer it is given; a copy keeps the caller's bytes intact.
    const pdf = await getDocumentProxy(bytes.slice());
    const result = await pdfText(pdf, { mergePages: false });
    pages = result.text;
    total = result.totalPages;
  } catch (error) {
    throw new UnreadableFileError(
      `the PDF could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // A page's lines are joined into paragraphs the way plain text is: blank lines separate them.
  return { blocks: pages.flatMap((page) => extractPlainText(page)), pages: total };
}

async function extractDocx(bytes: Uint8Array, options: ExtractOptions): Promise<ExtractedFile> {
  let html: string;
  try {
    html = await docxToHtml(bytes);
  } catch (error) {
    throw new UnreadableFileError(
      `the Word document could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { blocks: extractHtml(html, options), pages: null };
}

/** Text of a file in any of the knowledge base's formats. */
export async function extractFile(
  bytes: Uint8Array,
  mimeType: string,
  options: ExtractOptions = {},
): Promise<ExtractedFile> {
  const type = mimeType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === PDF) return extractPdf(bytes);
  if (type === DOCX) return extractDocx(bytes, options);
  if (!type.startsWith('text/')) throw new UnsupportedMimeTypeError(mimeType);
  // fatal: a "text" file that is not UTF-8 is more likely a mislabelled binary than prose.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UnreadableFileError('the file is not UTF-8 text');
  }
  return { blocks: extractText(text, type, options), pages: null };
}
