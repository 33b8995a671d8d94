// `npm run bench:ingest`: knowledge ingestion throughput, printed, never asserted.
//   - a crawl of a local 200-page site (robots.txt, links two levels deep) through the outbound
//     guard: pages per second fetched and stored, then pages per second made searchable (chunked
//     and embedded by the ingestion jobs), then a re-sync of the unchanged site (hash skip)
//   - PDF: pages per second extracted with unpdf, and pages per second through the whole
//     ingestion job (extract, chunk, embed, store)
// The database is PGlite in this process with every migration; the embedder is the local hashing
// one, so the figures are the pipeline's own, not a model's.
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import { createHashingEmbedder } from '../functions/_shared/embeddings/hashing.ts';
import { createJobRunner } from '../functions/_shared/jobs/runner.ts';
import { createCrawler } from '../functions/_shared/knowledge/crawl.ts';
import { extractFile, PDF } from '../functions/_shared/knowledge/extract-file.ts';
import {
  handleIngestJob,
  INGEST_DOCUMENT_JOB,
} from '../functions/_shared/knowledge/ingest-document.ts';
import { CRAWL_JOB } from '../functions/_shared/knowledge/job-kinds.ts';
import { createOutboundFetch } from '../functions/_shared/net/outbound.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import { makePdf } from '../tests/support/documents.ts';

const PUBLIC_PAGES = 200;
const SECTIONS = 19;
const ARTICLES = PUBLIC_PAGES - 1 - SECTIONS;
const PDF_PAGES = Number(Deno.args.find((a) => a.startsWith('--pdf-pages='))?.slice(12) ?? 60);

const WORDS =
  'tent stove lantern boot jacket trail river camp summit pack strap buckle zipper seam rain wind snow sun map compass'.split(
    ' ',
  );

/** Deterministic prose: `n` sentences for page `seed`. */
function prose(seed: number, n: number): string {
  const out: string[] = [];
  let x = seed * 7919 + 17;
  for (let s = 0; s < n; s++) {
    const words: string[] = [];
    for (let w = 0; w < 14; w++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      words.push(WORDS[x % WORDS.length] as string);
    }
    out.push(`${words.join(' ')}.`);
  }
  return out.join(' ');
}

function page(title: string, body: string, links: string[]): string {
  return `<!doctype html><html lang="en"><head><title>${title}</title></head><body>
<nav>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}</nav>
<main><article><h1>${title}</h1><h2>Overview</h2><p>${body}</p><h2>Details</h2><p>${body}</p></article></main>
<footer>Bench site</footer></body></html>`;
}

/** A home page, sections and articles (200 public pages), and 10 that robots.txt hides. */
function site(): Map<string, string> {
  const pages = new Map<string, string>();
  const sections = Array.from({ length: SECTIONS }, (_, s) => `/s${s}`);
  pages.set('/', page('Home', prose(0, 8), [...sections, '/private/p0']));
  for (let s = 0; s < SECTIONS; s++) {
    const articles: string[] = [];
    for (let a = s; a < ARTICLES; a += SECTIONS) articles.push(`/s${s}/a${a}`);
    pages.set(`/s${s}`, page(`Section ${s}`, prose(s + 1, 8), ['/', ...articles, '/private/p1']));
    for (const article of articles) {
      const n = Number(article.split('/a')[1]);
      pages.set(article, page(`Article ${n}`, prose(1000 + n, 12), [`/s${s}`]));
    }
  }
  for (let p = 0; p < 10; p++) pages.set(`/private/p${p}`, page(`Private ${p}`, prose(p, 4), []));
  return pages;
}

const perSecond = (n: number, ms: number) => ((n * 1000) / ms).toFixed(1);

const pages = site();
const server = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, (req) => {
  const path = new URL(req.url).pathname;
  if (path === '/robots.txt') return new Response('User-agent: *\nDisallow: /private/\n');
  const html = pages.get(path);
  return html
    ? new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8' } })
    : new Response('not found', { status: 404 });
});
const origin = `http://127.0.0.1:${server.addr.port}`;

const local = await openLocalDatabase({ seed: false, embedder: null });
const db = createPgliteDb(local.pg);
const embedder = createHashingEmbedder();
const pdfFiles = new Map<string, Uint8Array>();
const [tenant] = await db.asService((sql) =>
  sql.query<{ id: string }>(
    `insert into public.tenants (name, slug, plan_id) values ('Bench', 'bench', 'business') returning id`,
  ),
);
const tenantId = tenant?.id as string;
const crawler = createCrawler({
  db,
  fetch: createOutboundFetch({ fetch, resolve: async () => ['127.0.0.1'], allowLoopback: true }),
});
const runner = createJobRunner({
  db,
  workerId: 'bench',
  log: () => {},
  handlers: {
    [CRAWL_JOB]: (job) => crawler.step(job.payload),
    [INGEST_DOCUMENT_JOB]: (job) =>
      handleIngestJob(
        {
          db,
          embedder,
          options: {
            readFile: async (path) => pdfFiles.get(path) ?? new Uint8Array(),
          },
        },
        job.payload,
      ),
  },
});
const drain = async (kinds: string[]) => {
  let total = 0;
  for (;;) {
    const { processed } = await runner.drain({ kinds, maxJobs: 500, maxMs: 600_000 });
    total += processed;
    if (processed === 0) return total;
  }
};
const crawlRow = async (id: string) =>
  (
    await db.asService((sql) =>
      sql.query<{
        status: string;
        pages_fetched: number;
        pages_changed: number;
        pages_unchanged: number;
        pages_skipped: number;
      }>(
        'select status, pages_fetched, pages_changed, pages_unchanged, pages_skipped from public.crawls where id = $1',
        [id],
      ),
    )
  )[0];

console.log(
  `Crawl of a local site (${PUBLIC_PAGES} pages, links two deep, robots.txt hiding more)`,
);
const [crawl] = await db.asService((sql) =>
  sql.query<{ id: string }>(
    `insert into public.crawls (tenant_id, url, max_depth) values ($1, $2, 2) returning id`,
    [tenantId, `${origin}/`],
  ),
);
const crawlId = crawl?.id as string;
let started = performance.now();
await drain([CRAWL_JOB]);
const crawlMs = performance.now() - started;
const first = await crawlRow(crawlId);
console.log(
  `  fetched, extracted and stored: ${first?.pages_fetched} pages in ${(crawlMs / 1000).toFixed(1)} s = ${perSecond(first?.pages_fetched ?? 0, crawlMs)} pages/s (${first?.pages_skipped} refused by robots.txt)`,
);
started = performance.now();
const ingested = await drain([INGEST_DOCUMENT_JOB]);
const ingestMs = performance.now() - started;
const [chunks] = await db.asService((sql) =>
  sql.query<{ n: number }>(
    'select count(*)::int as n from public.document_chunks where tenant_id = $1',
    [tenantId],
  ),
);
console.log(
  `  chunked and embedded: ${ingested} pages (${chunks?.n} passages) in ${(ingestMs / 1000).toFixed(1)} s = ${perSecond(ingested, ingestMs)} pages/s`,
);
console.log(
  `  crawl to searchable: ${perSecond(first?.pages_fetched ?? 0, crawlMs + ingestMs)} pages/s`,
);

await db.asService((sql) => sql.query('select private.start_crawl_run($1)', [crawlId]));
started = performance.now();
await drain([CRAWL_JOB]);
const resyncMs = performance.now() - started;
const again = await crawlRow(crawlId);
const reingested = await drain([INGEST_DOCUMENT_JOB]);
console.log(
  `  re-sync of the unchanged site: ${again?.pages_fetched} pages in ${(resyncMs / 1000).toFixed(1)} s = ${perSecond(again?.pages_fetched ?? 0, resyncMs)} pages/s, ${again?.pages_unchanged} unchanged, ${reingested} embedded again`,
);

console.log(`PDF (${PDF_PAGES} pages of text)`);
const pdf = await makePdf(
  Array.from({ length: PDF_PAGES }, (_, p) =>
    Array.from({ length: 30 }, (_, line) => prose(p * 100 + line, 1).slice(0, 90)),
  ),
);
const rounds = 3;
started = performance.now();
for (let i = 0; i < rounds; i++) await extractFile(pdf, PDF);
const extractMs = (performance.now() - started) / rounds;
console.log(
  `  extracted with unpdf: ${(pdf.byteLength / 1024).toFixed(0)} KB in ${extractMs.toFixed(0)} ms = ${perSecond(PDF_PAGES, extractMs)} pages/s`,
);
const path = `${tenantId}/bench/guide.pdf`;
pdfFiles.set(path, pdf);
await db.asService((sql) =>
  sql.query(
    `insert into public.documents (tenant_id, title, mime_type, storage_path) values ($1, 'Guide', $2, $3)`,
    [tenantId, PDF, path],
  ),
);
started = performance.now();
await drain([INGEST_DOCUMENT_JOB]);
const pdfMs = performance.now() - started;
console.log(
  `  ingested (extract, chunk, embed, store): ${(pdfMs / 1000).toFixed(2)} s = ${perSecond(PDF_PAGES, pdfMs)} pages/s`,
);

await server.shutdown();
await local.close();
