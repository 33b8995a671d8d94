import { type ComponentChildren, h, type VNode } from 'preact';

// The Markdown subset replies use, parsed straight into vnodes: every piece of message text
// ends up as a text node, so no markup in a message is ever interpreted by the browser.
// Paragraphs, line breaks, - and 1. lists, ``` blocks, GFM tables, **bold**, *italic*, `code`,
// links. Underscores only emphasize at word boundaries, so snake_case and __init__ stay as typed.

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

export function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return SAFE_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

const link = (href: string, children: ComponentChildren) =>
  h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, children);

const INLINE =
  /`([^`\n]+)`|\*\*(?=\S)([\s\S]*?\S)\*\*|(?<!\w)__(?=\S)([\s\S]*?\S)__(?!\w)|\*(?=[^\s*])([\s\S]*?[^\s*])\*|(?<![\w])_(?=\S)([^_]*?\S)_(?![\w])|\[([^\]\n]+)\]\(\s*<?([^)\s>]+)>?\s*\)|(https?:\/\/[^\s<>()]+[^\s<>().,:;!?'"])/g;

export function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  const pattern = new RegExp(INLINE.source, 'g');
  let last = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    if (match.index > last) out.push(text.slice(last, match.index));
    last = match.index + match[0].length;
    const [whole, code, bold, bold2, italic, italic2, label, target, bare] = match;
    if (code !== undefined) out.push(h('code', null, code));
    else if (bold !== undefined || bold2 !== undefined)
      out.push(h('strong', null, inline(bold ?? bold2 ?? '')));
    else if (italic !== undefined || italic2 !== undefined)
      out.push(h('em', null, inline(italic ?? italic2 ?? '')));
    else if (label !== undefined) {
      const href = safeHref(target ?? '');
      // A link we will not open still shows its words, never the raw target.
      out.push(href ? link(href, inline(label)) : inline(label));
    } else if (bare !== undefined) {
      const href = safeHref(bare);
      out.push(href ? link(href, bare) : bare);
    } else out.push(whole);
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const withBreaks = (lines: string[]) =>
  lines.flatMap((line, i) => (i === 0 ? inline(line) : [h('br', null), ...inline(line)]));

const BULLET = /^\s*[-*+•]\s+(.*)$/;
const NUMBERED = /^\s*\d{1,3}[.)]\s+(.*)$/;
const FENCE = /^\s*```/;
const DELIMITER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const MAX_COLUMNS = 12;

/** A row's cells: outer pipes are optional, and `\|` is a pipe inside a cell. */
function cells(line: string): string[] {
  const row = line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return row
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'))
    .slice(0, MAX_COLUMNS);
}

type Align = 'left' | 'center' | 'right' | undefined;

function table(header: string, delimiter: string, rows: string[]): VNode {
  const aligns: Align[] = cells(delimiter).map((d) =>
    d.startsWith(':') && d.endsWith(':')
      ? 'center'
      : d.endsWith(':')
        ? 'right'
        : d.startsWith(':')
          ? 'left'
          : undefined,
  );
  const width = cells(header).length;
  const row = (line: string, tag: 'th' | 'td') => {
    const values = cells(line);
    // GFM: every row has the header's width, padded or cut.
    return h(
      'tr',
      null,
      Array.from({ length: width }, (_, i) =>
        h(
          tag,
          {
            dir: 'auto',
            ...(tag === 'th' ? { scope: 'col' } : {}),
            ...(aligns[i] ? { style: { textAlign: aligns[i] } } : {}),
          },
          inline(values[i] ?? ''),
        ),
      ),
    );
  };
  return h('table', null, [
    h('thead', null, row(header, 'th')),
    rows.length
      ? h(
          'tbody',
          null,
          rows.map((line) => row(line, 'td')),
        )
      : null,
  ]);
}

export function markdown(source: string): VNode[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: VNode[] = [];
  let paragraph: string[] = [];
  let list: { ordered: boolean; items: string[] } | null = null;

  const flush = () => {
    if (paragraph.length) blocks.push(h('p', { dir: 'auto' }, withBreaks(paragraph)));
    if (list) {
      const items = list.items.map((item) => h('li', { dir: 'auto' }, inline(item)));
      blocks.push(h(list.ordered ? 'ol' : 'ul', null, items));
    }
    paragraph = [];
    list = null;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (FENCE.test(line)) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !FENCE.test(lines[i] ?? ''); i++) code.push(lines[i] ?? '');
      blocks.push(h('pre', null, h('code', null, code.join('\n'))));
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    const next = lines[i + 1] ?? '';
    if (
      line.includes('|') &&
      DELIMITER.test(next) &&
      next.includes('-') &&
      cells(next).length === cells(line).length
    ) {
      flush();
      const rows: string[] = [];
      for (i += 2; i < lines.length && lines[i]?.includes('|') && lines[i]?.trim(); i++)
        rows.push(lines[i] ?? '');
      i--;
      blocks.push(table(line, next, rows));
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet ? null : NUMBERED.exec(line);
    const item = bullet ?? numbered;
    if (item) {
      const ordered = !!numbered;
      if (paragraph.length || (list && list.ordered !== ordered)) flush();
      list ??= { ordered, items: [] };
      list.items.push(item[1] ?? '');
      continue;
    }
    if (list) {
      // An indented line continues the item above it.
      if (/^\s+/.test(line) && list.items.length) {
        list.items[list.items.length - 1] += ` ${line.trim()}`;
        continue;
      }
      flush();
    }
    paragraph.push(line);
  }
  flush();
  return blocks;
}
