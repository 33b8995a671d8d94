import { Parser } from 'htmlparser2';

// Small text helpers shared by the extractors.

export function normalizeNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Runs of whitespace (including no-break spaces and line breaks) become one space. */
export function collapseWhitespace(text: string): string {
  return text.replace(/[\s\u200b]+/g, ' ').trim();
}

/**
 * How a link reads in extracted text: "text (url)" for a URL a customer could follow, just the
 * text for anchors, scripts and relative links that cannot be resolved, since a bare path helps
 * neither the search index nor the reader.
 */
export function linkText(text: string, href: string | undefined, baseUrl?: string | null): string {
  const label = text.trim();
  const url = resolveUrl(href, baseUrl);
  // A link with no text (an icon) adds nothing a reader would see.
  if (!url || !label) return label;
  const bare = url.replace(/^(?:mailto|tel):/i, '');
  if (label === url || label === bare || label.replace(/\/$/, '') === url.replace(/\/$/, '')) {
    return label;
  }
  return `${label} (${bare})`;
}

function resolveUrl(href: string | undefined, baseUrl?: string | null): string | null {
  const raw = href?.trim();
  if (!raw || raw.startsWith('#')) return null;
  let url: URL;
  let absolute = true;
  try {
    url = new URL(raw);
  } catch {
    if (!baseUrl) return null;
    try {
      url = new URL(raw, baseUrl);
      absolute = false;
    } catch {
      return null;
    }
  }
  if (!['http:', 'https:', 'mailto:', 'tel:'].includes(url.protocol)) return null;
  // The author's spelling of an absolute URL reads better than its normalised form.
  return absolute ? raw : url.href;
}

/**
 * Decodes HTML character references (&amp;, &#8217;, &nbsp; …) in text that is not HTML, such as
 * Markdown. htmlparser2 does the decoding; escaping "<" first keeps it from seeing tags.
 */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  let out = '';
  const parser = new Parser({
    ontext: (data) => {
      out += data;
    },
  });
  parser.end(text.replace(/</g, '&lt;'));
  return out;
}
