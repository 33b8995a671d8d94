import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small website on loopback for the crawler: pages by path, a robots.txt, a sitemap, and a log
// of what was requested. Pages can change or disappear between crawls.

export interface TestSite {
  url: string;
  /** path → HTML; a missing path answers 404. */
  pages: Map<string, string>;
  robots: string | null;
  requests: string[];
  close(): Promise<void>;
}

/** A page of the test site: a title, a paragraph of text and links. */
export function page(title: string, text: string, links: readonly string[] = []): string {
  const nav = links.map((href) => `<li><a href="${href}">${href}</a></li>`).join('');
  return `<!doctype html><html lang="en"><head><title>${title}</title></head><body>
<nav><ul>${nav}</ul></nav>
<main><article><h1>${title}</h1><p>${text}</p></article></main>
<footer>© Test site</footer></body></html>`;
}

export async function startSite(): Promise<TestSite> {
  const site: Omit<TestSite, 'url' | 'close'> = { pages: new Map(), robots: null, requests: [] };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    site.requests.push(path);
    if (path === '/robots.txt') {
      if (site.robots === null) {
        res.writeHead(404).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(site.robots);
      }
      return;
    }
    if (path === '/sitemap.xml') {
      const base = `http://${req.headers.host}`;
      const urls = [...site.pages.keys()].map((p) => `<url><loc>${base}${p}</loc></url>`).join('');
      res
        .writeHead(200, { 'content-type': 'application/xml' })
        .end(
          `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${urls}</urlset>`,
        );
      return;
    }
    const html = site.pages.get(path);
    if (html === undefined) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...site,
    get pages() {
      return site.pages;
    },
    get robots() {
      return site.robots;
    },
    set robots(value) {
      site.robots = value;
    },
    get requests() {
      return site.requests;
    },
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
