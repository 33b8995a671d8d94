import { unzipSync } from 'fflate';
import { Parser } from 'htmlparser2';

// A Word (.docx) file as simple semantic HTML: headings, paragraphs, list items and tables, which
// the HTML extractor then reads like any page. mammoth does the same, but it rewires promise
// prototypes through `__proto__`, which Deno (and so Supabase's edge runtime) does not offer; the
// zip is read with fflate and WordprocessingML with htmlparser2's XML mode instead.
//
// What is read: word/document.xml's body, in order. A paragraph's style (w:pStyle) is looked up
// in word/styles.xml by id, so "Heading 2" is a heading whatever the id is in the author's
// language; an outline level (w:outlineLvl) counts as a heading as well; a numbered or bulleted
// paragraph (w:numPr) is a list item. Text is w:t; tabs and breaks become spaces and line breaks.
// Deleted text (w:delText) and field codes (w:instrText) are not text.

const MAX_XML_BYTES = 50 * 1024 * 1024;

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Heading level (1–6) of each paragraph style id that names a heading or the title. */
function headingStyles(stylesXml: string | null): Map<string, number> {
  const levels = new Map<string, number>();
  if (!stylesXml) return levels;
  let styleId: string | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'w:style') styleId = attrs['w:styleid'] ?? attrs['w:styleId'] ?? null;
        if (name === 'w:name' && styleId) {
          const value = (attrs['w:val'] ?? '').toLowerCase();
          const heading = /^heading\s*([1-6])$/.exec(value);
          if (heading) levels.set(styleId, Number(heading[1]));
          else if (value === 'title') levels.set(styleId, 1);
        }
        if (name === 'w:outlinelvl' && styleId) {
          const level = Number(attrs['w:val']);
          if (Number.isInteger(level) && level >= 0 && level < 6 && !levels.has(styleId))
            levels.set(styleId, level + 1);
        }
      },
      onclosetag(name) {
        if (name === 'w:style') styleId = null;
      },
    },
    { xmlMode: true, lowerCaseTags: true, lowerCaseAttributeNames: false },
  );
  parser.end(stylesXml);
  return levels;
}

function body(documentXml: string, headings: Map<string, number>): string {
  const out: string[] = [];
  let inText = false;
  let text = '';
  let style: string | null = null;
  let outline: number | null = null;
  let listItem = false;
  let cellDepth = 0;
  let paragraphDepth = 0;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        switch (name) {
          case 'w:p':
            paragraphDepth++;
            text = '';
            style = null;
            outline = null;
            listItem = false;
            break;
          case 'w:pstyle':
            style = attrs['w:val'] ?? null;
            break;
          case 'w:outlinelvl': {
            const level = Number(attrs['w:val']);
            if (Number.isInteger(level) && level >= 0 && level < 6) outline = level + 1;
            break;
          }
          case 'w:numpr':
            listItem = true;
            break;
          case 'w:t':
            inText = true;
            break;
          case 'w:tab':
            if (paragraphDepth > 0) text += ' ';
            break;
          case 'w:br':
          case 'w:cr':
            if (paragraphDepth > 0) text += '\n';
            break;
          case 'w:tbl':
            out.push('<table>');
            break;
          case 'w:tr':
            out.push('<tr>');
            break;
          case 'w:tc':
            cellDepth++;
            out.push('<td>');
            break;
        }
      },
      ontext(data) {
        if (inText) text += data;
      },
      onclosetag(name) {
        switch (name) {
          case 'w:t':
            inText = false;
            break;
          case 'w:p': {
            paragraphDepth--;
            const content = escapeHtml(text.trim()).replace(/\n/g, '<br>');
            if (!content) break;
            const level = (style ? headings.get(style) : undefined) ?? outline;
            if (level && cellDepth === 0) out.push(`<h${level}>${content}</h${level}>`);
            else if (listItem && cellDepth === 0) out.push(`<ul><li>${content}</li></ul>`);
            else out.push(`<p>${content}</p>`);
            break;
          }
          case 'w:tc':
            cellDepth--;
            out.push('</td>');
            break;
          case 'w:tr':
            out.push('</tr>');
            break;
          case 'w:tbl':
            out.push('</table>');
            break;
        }
      },
    },
    // Entities are decoded by the parser; text is escaped again on the way out.
    { xmlMode: true, lowerCaseTags: true, lowerCaseAttributeNames: false, decodeEntities: true },
  );
  parser.end(documentXml);
  return out.join('\n');
}

/** The document's body as HTML. Throws when the bytes are not a Word document. */
export async function docxToHtml(bytes: Uint8Array): Promise<string> {
  const wanted = new Set(['word/document.xml', 'word/styles.xml']);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (file) => wanted.has(file.name) && file.originalSize <= MAX_XML_BYTES,
    });
  } catch {
    throw new Error('not a zip archive');
  }
  const documentXml = entries['word/document.xml'];
  if (!documentXml) throw new Error('no word/document.xml inside');
  const decoder = new TextDecoder();
  const styles = entries['word/styles.xml'];
  const headings = headingStyles(styles ? decoder.decode(styles) : null);
  return `<html><body>${body(decoder.decode(documentXml), headings)}</body></html>`;
}
