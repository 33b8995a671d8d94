import { Parser } from 'htmlparser2';
import type { Block, ExtractOptions } from './blocks.ts';
import { collapseWhitespace, linkText, normalizeNewlines } from './text.ts';

// HTML → blocks with htmlparser2's streaming parser. It balances every open tag with a close
// (implied ones included), which is what lets a skipped subtree be tracked with a depth counter.

/** Never content: page chrome, code, media, and what a browser does not render. */
const SKIPPED = new Set([
  'head',
  'title',
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'nav',
  'footer',
  'iframe',
  'object',
  'embed',
  'canvas',
  'audio',
  'video',
  'select',
  'datalist',
  'img',
  'picture',
  // Struck-out text is what no longer holds (an old price).
  'del',
  's',
  'strike',
]);

/** Elements that end the running line of text. */
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'form',
  'header',
  'hgroup',
  'hr',
  'html',
  'legend',
  'main',
  'p',
  'section',
  'summary',
  'tbody',
  'tfoot',
  'thead',
]);

const HEADING = /^h([1-6])$/;

function isHidden(name: string, attribs: Record<string, string>): boolean {
  if (SKIPPED.has(name)) return true;
  if ('hidden' in attribs) return true;
  if (attribs['aria-hidden']?.trim().toLowerCase() === 'true') return true;
  if (attribs.role?.trim().toLowerCase() === 'navigation') return true;
  const style = attribs.style?.toLowerCase().replace(/\s+/g, '');
  return !!style && /(?:^|;)(?:display:none|visibility:hidden)/.test(style);
}

interface ListState {
  ordered: boolean;
  next: number;
}

interface ItemState {
  depth: number;
  marker: string;
  started: boolean;
}

export function extractHtml(html: string, options: ExtractOptions = {}): Block[] {
  const blocks: Block[] = [];
  let skipDepth = 0;
  // The running text; '\n' in it is a <br>, since source whitespace is collapsed on the way in.
  let buffer = '';
  // Bumped on every flush, so a link knows whether its text is still in the buffer.
  let generation = 0;
  let headingLevel: number | null = null;
  let preDepth = 0;
  const lists: ListState[] = [];
  const items: ItemState[] = [];
  const links: { href: string | undefined; start: number; generation: number }[] = [];
  let row: string[] | null = null;
  let cell: string[] | null = null;
  // Tables inside a cell are read as text of that cell.
  let nestedTables = 0;

  const flush = () => {
    const raw = buffer;
    buffer = '';
    generation++;
    if (preDepth > 0) {
      const code = raw
        .split('\n')
        .map((line) => line.replace(/\s+$/, ''))
        .join('\n')
        .replace(/^\n+|\n+$/g, '');
      if (!code.trim()) return;
      if (cell) cell.push(collapseWhitespace(code));
      else blocks.push({ kind: 'text', role: 'code', text: code });
      return;
    }
    const lines = raw.split('\n').map(collapseWhitespace).filter(Boolean);
    if (lines.length === 0) return;
    if (cell) {
      cell.push(lines.join(' '));
    } else if (headingLevel !== null) {
      blocks.push({ kind: 'heading', level: headingLevel, text: lines.join(' ') });
    } else {
      const item = items.at(-1);
      if (item) {
        const indent = '  '.repeat(item.depth);
        const text = lines.join(' ');
        blocks.push({
          kind: 'text',
          role: 'list-item',
          text: item.started ? `${indent}  ${text}` : `${indent}${item.marker} ${text}`,
        });
        item.started = true;
      } else {
        blocks.push({ kind: 'text', role: 'paragraph', text: lines.join('\n') });
      }
    }
  };

  const endRow = () => {
    if (row) {
      const cells = row.filter(Boolean);
      if (cells.length > 0)
        blocks.push({ kind: 'text', role: 'table-row', text: cells.join(' | ') });
    }
    row = null;
  };

  const parser = new Parser(
    {
      onopentag(name, attribs) {
        if (skipDepth > 0 || isHidden(name, attribs)) {
          skipDepth++;
          return;
        }
        const heading = HEADING.exec(name);
        if (heading) {
          flush();
          headingLevel = Number(heading[1]);
        } else if (name === 'br') {
          buffer += '\n';
        } else if (name === 'a') {
          links.push({ href: attribs.href, start: buffer.length, generation });
        } else if (name === 'pre') {
          flush();
          preDepth++;
        } else if (name === 'ul' || name === 'ol' || name === 'menu') {
          flush();
          const start = Number.parseInt(attribs.start ?? '', 10);
          lists.push({ ordered: name === 'ol', next: Number.isFinite(start) ? start : 1 });
        } else if (name === 'li') {
          flush();
          const list = lists.at(-1);
          const marker = list?.ordered ? `${list.next++}.` : '-';
          items.push({ depth: Math.max(0, lists.length - 1), marker, started: false });
        } else if (name === 'table') {
          flush();
          if (cell) nestedTables++;
        } else if (name === 'tr') {
          flush();
          if (nestedTables === 0) {
            endRow();
            row = [];
          }
        } else if (name === 'td' || name === 'th') {
          flush();
          if (nestedTables === 0) {
            row ??= [];
            cell = [];
          }
        } else if (BLOCKS.has(name)) {
          flush();
        }
      },
      ontext(data) {
        if (skipDepth > 0) return;
        buffer += preDepth > 0 ? normalizeNewlines(data) : data.replace(/\s+/g, ' ');
      },
      onclosetag(name) {
        if (skipDepth > 0) {
          skipDepth--;
          return;
        }
        if (HEADING.test(name)) {
          flush();
          headingLevel = null;
        } else if (name === 'a') {
          const link = links.pop();
          if (link && link.generation === generation) {
            const text = buffer.slice(link.start);
            const lead = /^\s*/.exec(text)?.[0] ?? '';
            const trail = /\s*$/.exec(text)?.[0] ?? '';
            const label = linkText(text, link.href, options.baseUrl);
            buffer = `${buffer.slice(0, link.start)}${lead}${label}${label ? trail : ''}`;
          }
        } else if (name === 'pre') {
          flush();
          preDepth = Math.max(0, preDepth - 1);
        } else if (name === 'ul' || name === 'ol' || name === 'menu') {
          flush();
          lists.pop();
        } else if (name === 'li') {
          flush();
          items.pop();
        } else if (name === 'td' || name === 'th') {
          flush();
          if (nestedTables === 0 && cell) {
            row?.push(cell.join(' '));
            cell = null;
          }
        } else if (name === 'tr') {
          flush();
          if (nestedTables === 0) endRow();
        } else if (name === 'table') {
          flush();
          if (nestedTables > 0) nestedTables--;
          else endRow();
        } else if (BLOCKS.has(name)) {
          flush();
        }
      },
      onend() {
        flush();
        endRow();
      },
    },
    { decodeEntities: true },
  );
  parser.end(html);
  return blocks;
}
