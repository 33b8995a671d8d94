import { Readability } from '@mozilla/readability';
import { Parser } from 'htmlparser2';
import { parseHTML } from 'linkedom';

// A crawled page's main content: Mozilla's Readability (Firefox's Reader View) on a linkedom DOM
// finds the article and drops menus, sidebars and footers. A page too short or too fragmented for
// it to find one is kept whole; the HTML extractor still leaves out nav, footer and scripts.

export interface MainContent {
  title: string;
  /** HTML of the main content, or of the whole page when no article was found. */
  html: string;
}

const MIN_ARTICLE_CHARS = 80;

/** What is used of linkedom's document; its DOM types are a browser's, which Deno lacks. */
interface ParsedDocument {
  createElement(tag: string): { setAttribute(name: string, value: string): void };
  head: { prepend(node: unknown): void } | null;
}

function titleOf(html: string): string {
  let inTitle = false;
  let title = '';
  const parser = new Parser({
    onopentag(name) {
      if (name === 'title') inTitle = true;
    },
    ontext(text) {
      if (inTitle) title += text;
    },
    onclosetag(name) {
      if (name === 'title') inTitle = false;
    },
  });
  parser.end(html);
  return title.replace(/\s+/g, ' ').trim();
}

export function mainContent(html: string, url: string): MainContent {
  let article: {
    title?: string | null;
    content?: string | null;
    textContent?: string | null;
  } | null = null;
  try {
    const { document } = parseHTML(html) as unknown as { document: ParsedDocument };
    // Relative links in the article resolve against the page.
    const base = document.createElement('base');
    base.setAttribute('href', url);
    document.head?.prepend(base);
    article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], {
      charThreshold: MIN_ARTICLE_CHARS,
    }).parse();
  } catch {
    article = null;
  }
  const fallbackTitle = titleOf(html) || new URL(url).pathname;
  if (article?.content && (article.textContent ?? '').trim().length >= MIN_ARTICLE_CHARS) {
    return { title: article.title?.trim() || fallbackTitle, html: article.content };
  }
  return { title: fallbackTitle, html };
}

/** Every link of a page (a[href]), resolved against its URL, without fragments. */
export function linksOf(html: string, pageUrl: string): string[] {
  const links = new Set<string>();
  let base = pageUrl;
  const parser = new Parser({
    onopentag(name, attrs) {
      if (name === 'base' && attrs.href) {
        try {
          base = new URL(attrs.href, pageUrl).href;
        } catch {
          // A broken base is ignored, as browsers do.
        }
      }
      if (name !== 'a' || !attrs.href) return;
      if ((attrs.rel ?? '').split(/\s+/).includes('nofollow')) return;
      try {
        const url = new URL(attrs.href, base);
        url.hash = '';
        if (url.protocol === 'http:' || url.protocol === 'https:') links.add(url.href);
      } catch {
        // Not a URL: nothing to follow.
      }
    },
  });
  parser.end(html);
  return [...links];
}
