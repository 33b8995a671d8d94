import type { Block, ExtractOptions } from './blocks.ts';
import { collapseWhitespace, decodeEntities, linkText, normalizeNewlines } from './text.ts';

// Markdown → blocks. Not a full CommonMark parser: it reads the block structure a help-centre
// article uses (headings, paragraphs, nested lists, tables, block quotes, code) and strips inline
// markup. Link URLs stay as "text (url)" because a support answer often has to hand one over;
// images are dropped because their alt text is rarely more than decoration.

const FRONT_MATTER = /^---\n[\s\S]*?\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
const REFERENCE =
  /^ {0,3}\[([^\]^][^\]]*)\]:[ \t]*<?([^\s>]+)>?(?:[ \t]+(?:"[^"]*"|'[^']*'|\([^)]*\)))?[ \t]*$/;
const FENCE = /^([ \t]*)(`{3,}|~{3,})(.*)$/;
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])(?:[ \t]+(.*))?$/;
const TABLE_SEPARATOR = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;

interface ListLevel {
  indent: number;
  ordered: boolean;
  next: number;
}

interface Pending {
  lines: string[];
  /** Set for list items: their nesting depth and marker. */
  item?: { depth: number; marker: string; continuation: boolean };
}

const indentOf = (line: string) => (/^[ \t]*/.exec(line)?.[0] ?? '').replace(/\t/g, '    ').length;
const referenceKey = (label: string) => collapseWhitespace(label).toLowerCase();

export function extractMarkdown(markdown: string, options: ExtractOptions = {}): Block[] {
  const source = normalizeNewlines(markdown).replace(FRONT_MATTER, '').replace(COMMENT, '');
  const references = new Map<string, string>();
  const lines: string[] = [];
  let fenced = false;
  for (const line of source.split('\n')) {
    if (FENCE.test(line)) fenced = !fenced;
    const reference = fenced ? null : REFERENCE.exec(line);
    if (reference?.[1] && reference[2]) {
      references.set(referenceKey(reference[1]), reference[2]);
    } else {
      lines.push(line);
    }
  }
  const inline = (text: string) => renderInline(text, references, options.baseUrl);

  const blocks: Block[] = [];
  const lists: ListLevel[] = [];
  let pending: Pending | null = null;
  let afterBlank = false;

  const flush = () => {
    if (!pending) return;
    const { lines: parts, item } = pending;
    pending = null;
    // A line ending in two spaces or a backslash is a hard break; other line ends are spaces.
    let joined = '';
    for (const [i, part] of parts.entries()) {
      const hard = /(?: {2,}|\\)$/.test(part);
      joined += part.replace(/(?: {2,}|\\)$/, '');
      if (i < parts.length - 1) joined += hard ? '\n' : ' ';
    }
    const text = inline(joined).split('\n').map(collapseWhitespace).filter(Boolean).join('\n');
    if (!text) return;
    if (item) {
      const indent = '  '.repeat(item.depth);
      const body = item.continuation ? `${indent}  ${text}` : `${indent}${item.marker} ${text}`;
      blocks.push({ kind: 'text', role: 'list-item', text: body });
    } else {
      blocks.push({ kind: 'text', role: 'paragraph', text });
    }
  };

  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    while (QUOTE.test(line)) line = line.replace(QUOTE, '');

    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const [, indent = '', marker = '```'] = fence;
      const quoted = line !== lines[i];
      const code: string[] = [];
      for (i++; i < lines.length; i++) {
        const raw = lines[i] as string;
        const inner = quoted ? raw.replace(QUOTE, '') : raw;
        const close = FENCE.exec(inner);
        if (close && close[2]?.[0] === marker[0] && (close[2]?.length ?? 0) >= marker.length) {
          if (!close[3]?.trim()) break;
        }
        code.push(inner.startsWith(indent) ? inner.slice(indent.length) : inner.trimStart());
      }
      const text = code
        .map((l) => l.replace(/\s+$/, ''))
        .join('\n')
        .replace(/^\n+|\n+$/g, '');
      if (text.trim()) blocks.push({ kind: 'text', role: 'code', text });
      afterBlank = false;
      continue;
    }

    if (!line.trim()) {
      flush();
      afterBlank = true;
      continue;
    }

    const atx = ATX.exec(line);
    if (atx) {
      flush();
      lists.length = 0;
      const text = collapseWhitespace(inline(atx[2] ?? ''));
      if (text) blocks.push({ kind: 'heading', level: atx[1]?.length ?? 1, text });
      afterBlank = false;
      continue;
    }

    const setext = SETEXT.exec(line);
    const paragraph = pending as Pending | null;
    if (setext && paragraph && !paragraph.item && !afterBlank) {
      const text = collapseWhitespace(inline(paragraph.lines.join(' ')));
      pending = null;
      lists.length = 0;
      if (text) blocks.push({ kind: 'heading', level: setext[1]?.startsWith('=') ? 1 : 2, text });
      continue;
    }

    if (RULE.test(line)) {
      flush();
      lists.length = 0;
      afterBlank = false;
      continue;
    }

    const next = lines[i + 1]?.replace(QUOTE, '') ?? '';
    if (line.includes('|') && next.includes('-') && TABLE_SEPARATOR.test(next)) {
      flush();
      lists.length = 0;
      const rows = [line];
      for (i += 2; i < lines.length; i++) {
        const row = (lines[i] as string).replace(QUOTE, '');
        if (!row.trim() || !row.includes('|')) break;
        rows.push(row);
      }
      i--;
      for (const row of rows) {
        const cells = splitRow(row).map((cell) => collapseWhitespace(inline(cell)));
        if (cells.some(Boolean)) {
          blocks.push({ kind: 'text', role: 'table-row', text: cells.join(' | ') });
        }
      }
      afterBlank = false;
      continue;
    }

    const item = ITEM.exec(line);
    if (item) {
      flush();
      const indent = indentOf(item[1] ?? '');
      const ordered = /\d/.test(item[2] ?? '');
      while (lists.length > 0 && indent < (lists.at(-1) as ListLevel).indent) lists.pop();
      let level = lists.at(-1);
      if (!level || indent > level.indent || level.ordered !== ordered) {
        if (level && indent === level.indent) lists.pop();
        level = { indent, ordered, next: ordered ? Number.parseInt(item[2] ?? '1', 10) : 1 };
        lists.push(level);
      }
      const marker = level.ordered ? `${level.next++}.` : '-';
      pending = {
        lines: [item[3] ?? ''],
        item: { depth: lists.length - 1, marker, continuation: false },
      };
      afterBlank = false;
      continue;
    }

    const indent = indentOf(line);
    const current = pending as Pending | null;
    if (current && !afterBlank) {
      // A lazy continuation line: part of whatever block is open.
      current.lines.push(line.trimStart());
    } else if (lists.length > 0 && afterBlank && indent > (lists.at(-1) as ListLevel).indent) {
      // An indented paragraph after a blank line still belongs to the list item above it.
      const depth = lists.length - 1;
      pending = { lines: [line.trimStart()], item: { depth, marker: '', continuation: true } };
    } else if (lists.length === 0 && afterBlank && indent >= 4) {
      const code = [line.slice(4)];
      for (i++; i < lines.length; i++) {
        const inner = lines[i] as string;
        if (inner.trim() && indentOf(inner) < 4) break;
        code.push(inner.replace(/^( {4}|\t)/, ''));
      }
      i--;
      const text = code.join('\n').replace(/\s+$/, '');
      blocks.push({ kind: 'text', role: 'code', text });
    } else {
      flush();
      lists.length = 0;
      pending = { lines: [line.trimStart()] };
    }
    afterBlank = false;
  }
  flush();
  return blocks;
}

function splitRow(row: string): string[] {
  const trimmed = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return trimmed.split(/(?<!\\)\|/).map((cell) => cell.replace(/\\\|/g, '|'));
}

const OPEN = '\uE000';
const CLOSE = '\uE001';
const PLACEHOLDER = /\uE000(\d+)\uE001/g;

const LINK_TARGET = String.raw`\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)`;
const LABEL = String.raw`\[((?:[^\[\]]|\[[^\[\]]*\])*)\]`;
const IMAGE = new RegExp(String.raw`!${LABEL}(?:${LINK_TARGET}|\[[^\]]*\])`, 'g');
const INLINE_LINK = new RegExp(LABEL + LINK_TARGET, 'g');
const REFERENCE_LINK = new RegExp(String.raw`${LABEL}\[([^\]]*)\]`, 'g');
const SHORTCUT_LINK = /\[([^[\]]+)\](?![(:[])/g;

/** Inline Markdown → plain text: code spans verbatim, links as "text (url)", emphasis unmarked. */
function renderInline(
  text: string,
  references: ReadonlyMap<string, string>,
  baseUrl: string | null | undefined,
): string {
  // Text that must come out exactly as it is (escaped characters, code, finished links) is set
  // aside behind a placeholder so the emphasis and tag rules below cannot touch it.
  const kept: string[] = [];
  const keep = (value: string) => `${OPEN}${kept.push(value) - 1}${CLOSE}`;
  const label = (value: string) => decodeEntities(stripEmphasis(value));

  let out = text
    .replace(/\\([!-/:-@[-`{-~])/g, (_, char: string) => keep(char))
    .replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code: string) =>
      keep(code.replace(/^ (.*) $/, '$1')),
    )
    .replace(/<((?:https?|ftp):\/\/[^\s<>]+)>/gi, (_, url: string) => keep(url))
    .replace(/<(?:mailto:)?([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)>/gi, (_, email: string) => keep(email))
    .replace(IMAGE, '')
    .replace(INLINE_LINK, (_, text: string, href: string) =>
      keep(linkText(label(text), href, baseUrl)),
    )
    .replace(REFERENCE_LINK, (_, text: string, ref: string) =>
      keep(linkText(label(text), references.get(referenceKey(ref || text)), baseUrl)),
    )
    .replace(/\[\^[^\]]+\]/g, '')
    .replace(SHORTCUT_LINK, (whole, text: string) => {
      const href = references.get(referenceKey(text));
      return href ? keep(linkText(label(text), href, baseUrl)) : whole;
    });
  out = stripEmphasis(out)
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/?[A-Za-z][\w-]*(?:\s[^<>]*)?\/?>/g, '');
  out = decodeEntities(out);
  // Kept values may hold placeholders of their own (a code span inside a link's text).
  for (let round = 0; round < 4 && out.includes(OPEN); round++) {
    out = out.replace(PLACEHOLDER, (_, index: string) => kept[Number(index)] ?? '');
  }
  return out;
}

function stripEmphasis(text: string): string {
  return (
    text
      .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '$1')
      .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1$2')
      .replace(/\*(?=[^\s*])([\s\S]*?[^\s*])\*/g, '$1')
      .replace(/(^|[^\w])_(?=[^\s_])([\s\S]*?[^\s_])_(?!\w)/g, '$1$2')
      // Struck-out text is what no longer holds (an old price), so it is left out.
      .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '')
  );
}
