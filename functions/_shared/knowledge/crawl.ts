import { XMLParser } from 'fast-xml-parser';
import robotsParserModule from 'robots-parser';
import { z } from 'zod';
import type { Db, Sql } from '../db/port.ts';
import { OutboundRefusedError } from '../net/outbound.ts';
import { CRAWL_JOB } from './job-kinds.ts';
import { linksOf, mainContent } from './main-content.ts';

// The crawl job: one step of a crawl's run per job, so no function runs longer than its budget.
// A step fetches queued pages a few at a time until its budget is spent, then queues the next
// step; the last step finishes the run. Every request goes through the outbound guard the caller
// passes in (private and loopback addresses refused, redirects re-checked, size and time capped).
//
// Rules: only pages on the start URL's site (same host, "www." aside) are fetched, and only what
// robots.txt allows ParleyBot; links are followed up to the depth cap, pages up to the page cap
// (the plan's caps, or the crawl's own when lower); each fetch spends one unit of the plan's monthly
// crawl_pages. A page becomes a document of the crawl holding its main content; when a re-sync
// finds the same content hash, the document is not touched, so it is not embedded again.

export { CRAWL_JOB };
export const USER_AGENT = 'ParleyBot/1.0';

/** What is used of robots-parser, whose declarations Deno does not read as a callable default. */
interface Robots {
  isAllowed(url: string, userAgent?: string): boolean | undefined;
}
const robotsParser = robotsParserModule as unknown as (url: string, robotsTxt: string) => Robots;

export const crawlJobPayload = z.object({
  crawl_id: z.guid(),
  run: z.number().int().min(1),
  step: z.number().int().min(0),
});

export interface CrawlDeps {
  db: Db;
  /** The outbound guard's fetch. */
  fetch: typeof fetch;
  /** How long one step fetches before it hands over to the next. */
  stepMs?: number;
  /** Pages fetched at once. */
  concurrency?: number;
  pageTimeoutMs?: number;
  log?: (message: string, error?: unknown) => void;
}

interface CrawlRow {
  id: string;
  tenant_id: string;
  kind: 'site' | 'sitemap';
  url: string;
  status: string;
  run: number;
  robots_txt: string | null;
  depth_cap: number;
  page_cap: number;
}

interface PageRow {
  url: string;
  depth: number;
  content_hash: string | null;
  document_id: string | null;
}

export interface CrawlStepResult {
  crawl_id: string;
  run: number;
  step: number;
  outcome: 'continued' | 'done' | 'failed' | 'skipped';
  pages: number;
  error?: string;
}

const DEFAULT_STEP_MS = 20_000;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_PAGE_TIMEOUT_MS = 15_000;
const MAX_SITEMAPS = 20;
/** Caps when a plan names none. */
const DEFAULT_DEPTH = 3;
const DEFAULT_PAGES = 500;
/** Links to files that are not pages: not worth a request. */
const NOT_PAGES =
  /\.(?:pdf|docx?|xlsx?|pptx?|zip|gz|tar|rar|7z|png|jpe?g|gif|webp|svg|ico|mp[34]|mov|avi|webm|wav|ogg|css|js|json|xml|woff2?|ttf|eot|exe|dmg|apk)$/i;

/** The site a URL belongs to: its host and port, "www." aside. */
export function siteOf(url: URL): string {
  return url.host.toLowerCase().replace(/^www\./, '');
}

export function sameSite(a: URL, b: URL): boolean {
  return siteOf(a) === siteOf(b);
}

/** Candidate pages of the crawl among a page's links. */
export function followable(links: readonly string[], start: URL): string[] {
  const out: string[] = [];
  for (const link of links) {
    const url = new URL(link);
    if (!sameSite(url, start) || NOT_PAGES.test(url.pathname)) continue;
    out.push(url.href);
  }
  return out;
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n')[0]?.trim() || 'failed';
  return line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

/** A failure of the whole run, recorded on the crawl: retrying the job cannot help. */
class CrawlFailed extends Error {}

/** The <loc> entries of a sitemap or sitemap index. */
export function parseSitemap(xml: string): { pages: string[]; sitemaps: string[] } {
  const parsed = new XMLParser({ ignoreAttributes: true, processEntities: true }).parse(xml) as {
    urlset?: { url?: unknown };
    sitemapindex?: { sitemap?: unknown };
  };
  const locs = (entries: unknown): string[] =>
    (Array.isArray(entries) ? entries : entries ? [entries] : [])
      .map((entry) => (entry as { loc?: unknown }).loc)
      .filter((loc): loc is string => typeof loc === 'string')
      .map((loc) => loc.trim());
  return { pages: locs(parsed.urlset?.url), sitemaps: locs(parsed.sitemapindex?.sitemap) };
}

export function createCrawler(deps: CrawlDeps) {
  const { db } = deps;
  const concurrency = Math.max(1, deps.concurrency ?? DEFAULT_CONCURRENCY);
  const pageTimeoutMs = deps.pageTimeoutMs ?? DEFAULT_PAGE_TIMEOUT_MS;

  function get(url: string, accept: string): Promise<Response> {
    return deps.fetch(url, {
      headers: { 'user-agent': USER_AGENT, accept },
      signal: AbortSignal.timeout(pageTimeoutMs),
    });
  }

  async function load(crawlId: string): Promise<CrawlRow | null> {
    const [row] = await db.asService((sql) =>
      sql.query<CrawlRow>(
        `select c.id, c.tenant_id, c.kind, c.url, c.status, c.run, c.robots_txt,
                least(coalesce(c.max_depth, 1000000),
                      coalesce(private.plan_limit(c.tenant_id, 'crawl_depth'), $2))::int as depth_cap,
                least(coalesce(c.max_pages, 1000000),
                      coalesce(private.plan_limit(c.tenant_id, 'crawl_max_pages'), $3))::int as page_cap
           from public.crawls c where c.id = $1`,
        [crawlId, DEFAULT_DEPTH, DEFAULT_PAGES],
      ),
    );
    return row ?? null;
  }

  const update = (crawl: CrawlRow, set: string, params: unknown[] = []) =>
    db.asService((sql) =>
      sql.query(`update public.crawls set ${set} where id = $1 and run = $2`, [
        crawl.id,
        crawl.run,
        ...params,
      ]),
    );

  /** Queues pages of this run, up to the page cap; says whether the cap left some out. */
  async function enqueuePages(crawl: CrawlRow, urls: string[], depth: number): Promise<boolean> {
    if (urls.length === 0) return false;
    return db.asService(async (sql) => {
      const [row] = await sql.query<{ added: number; room: number }>(
        `with room as (
           select greatest($6 - (select count(*) from public.crawl_pages
                                  where crawl_id = $1 and run = $5), 0) as n
         ),
         fresh as (
           select u.url, u.ord from unnest($3::text[]) with ordinality as u (url, ord)
            where not exists (select 1 from public.crawl_pages p
                               where p.crawl_id = $1 and p.url = u.url and p.run = $5)
            order by u.ord
            limit (select n from room)
         ),
         added as (
           insert into public.crawl_pages (crawl_id, tenant_id, url, depth, run, status)
           select $1, $2, f.url, $4, $5, 'queued' from fresh f
           on conflict (crawl_id, url) do update
             set run = excluded.run, status = 'queued', depth = excluded.depth, error = null
           returning 1
         )
         select (select count(*) from added)::int as added,
                (select count(*) from unnest($3::text[]) u
                  where not exists (select 1 from public.crawl_pages p
                                     where p.crawl_id = $1 and p.url = u and p.run = $5))::int
                  - (select n from room)::int as room`,
        [crawl.id, crawl.tenant_id, [...new Set(urls)], depth, crawl.run, crawl.page_cap],
      );
      await sql.query(
        `update public.crawls
            set pages_found = (select count(*) from public.crawl_pages where crawl_id = $1 and run = $2)
          where id = $1 and run = $2`,
        [crawl.id, crawl.run],
      );
      return (row?.room ?? 0) > 0;
    });
  }

  async function capped(crawl: CrawlRow) {
    await update(crawl, `stop_reason = coalesce(stop_reason, $3)`, [
      `page cap reached: at most ${crawl.page_cap} pages per crawl`,
    ]);
  }

  async function readRobots(start: URL): Promise<string> {
    const robotsUrl = new URL('/robots.txt', start).href;
    let response: Response;
    try {
      response = await get(robotsUrl, 'text/plain');
    } catch (error) {
      if (error instanceof OutboundRefusedError) throw new CrawlFailed(message(error));
      throw new CrawlFailed(`robots.txt could not be read: ${message(error)}`);
    }
    if (response.ok) return (await response.text()).slice(0, 500_000);
    await response.body?.cancel();
    // No robots.txt (4xx) allows everything; a server error says nothing, so nothing is crawled.
    if (response.status >= 500) {
      throw new CrawlFailed(`robots.txt answered ${response.status}: the site is not crawled`);
    }
    return '';
  }

  async function sitemapPages(start: URL, robots: Robots) {
    const pages: string[] = [];
    const queue = [start.href];
    const seen = new Set<string>();
    while (queue.length > 0 && seen.size < MAX_SITEMAPS) {
      const url = queue.shift() as string;
      if (seen.has(url)) continue;
      seen.add(url);
      let xml: string;
      try {
        const response = await get(url, 'application/xml, text/xml');
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`answered ${response.status}`);
        }
        xml = await response.text();
      } catch (error) {
        if (url === start.href)
          throw new CrawlFailed(`the sitemap could not be read: ${message(error)}`);
        continue;
      }
      const found = parseSitemap(xml);
      for (const nested of found.sitemaps) {
        const next = new URL(nested, url);
        if (sameSite(next, start) && robots.isAllowed(next.href, USER_AGENT) !== false)
          queue.push(next.href);
      }
      for (const page of found.pages) {
        try {
          const next = new URL(page, url);
          next.hash = '';
          if (sameSite(next, start)) pages.push(next.href);
        } catch {
          // Not a URL: left out.
        }
      }
    }
    if (pages.length === 0 && seen.size === 1 && queue.length === 0) {
      // A sitemap that lists nothing is a finished crawl, not a failure.
    }
    return pages;
  }

  /** The first step of a run: robots.txt, then the start page or the sitemap's pages. */
  async function begin(crawl: CrawlRow): Promise<CrawlRow> {
    const start = new URL(crawl.url);
    const robotsTxt = await readRobots(start);
    await update(crawl, `status = 'running', started_at = now(), robots_txt = $3`, [robotsTxt]);
    const next = { ...crawl, status: 'running', robots_txt: robotsTxt };
    const robots = robotsParser(new URL('/robots.txt', start).href, robotsTxt);
    const seeds = crawl.kind === 'sitemap' ? await sitemapPages(start, robots) : [start.href];
    if (await enqueuePages(next, seeds, 0)) await capped(next);
    return next;
  }

  type Fetched =
    | { page: PageRow; kind: 'skipped' | 'failed'; error: string; status?: number; gone?: boolean }
    | {
        page: PageRow;
        kind: 'page';
        status: number;
        title: string;
        html: string;
        hash: string;
        links: string[];
      };

  async function fetchPage(crawl: CrawlRow, page: PageRow, start: URL): Promise<Fetched> {
    let response: Response;
    try {
      response = await get(page.url, 'text/html, application/xhtml+xml');
    } catch (error) {
      return { page, kind: 'failed', error: message(error) };
    }
    if (!response.ok) {
      await response.body?.cancel();
      return {
        page,
        kind: 'failed',
        error: `answered ${response.status}`,
        status: response.status,
        gone: response.status === 404 || response.status === 410,
      };
    }
    const finalUrl = response.url || page.url;
    if (!sameSite(new URL(finalUrl), start)) {
      await response.body?.cancel();
      return { page, kind: 'skipped', error: 'redirected off the site', status: response.status };
    }
    const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'text/html' && type !== 'application/xhtml+xml') {
      await response.body?.cancel();
      return {
        page,
        kind: 'skipped',
        error: `not an HTML page (${type || 'no type'})`,
        status: response.status,
      };
    }
    let html: string;
    try {
      html = await response.text();
    } catch (error) {
      return { page, kind: 'failed', error: message(error), status: response.status };
    }
    const main = mainContent(html, finalUrl);
    const title = (main.title || finalUrl).slice(0, 500);
    const hash = await sha256(`${title}\n${main.html}`);
    const links =
      crawl.kind === 'site' && page.depth < crawl.depth_cap
        ? followable(linksOf(html, finalUrl), start)
        : [];
    return { page, kind: 'page', status: response.status, title, html: main.html, hash, links };
  }

  /** Writes one page's outcome; answers whether the crawl must stop (a limit was reached). */
  async function record(crawl: CrawlRow, result: Fetched): Promise<string | null> {
    const { page } = result;
    if (result.kind !== 'page') {
      await db.asService(async (sql) => {
        await sql.query(
          `update public.crawl_pages set status = $3, error = $4, http_status = $5, fetched_at = now()
            where crawl_id = $1 and url = $2`,
          [crawl.id, page.url, result.kind, result.error, result.status ?? null],
        );
        // A page the site no longer has leaves the knowledge base.
        if (result.gone && page.document_id) {
          await sql.query('delete from public.documents where id = $1', [page.document_id]);
        }
        await sql.query(
          `update public.crawls set ${result.kind === 'failed' ? 'pages_failed = pages_failed + 1' : 'pages_skipped = pages_skipped + 1'}
            where id = $1 and run = $2`,
          [crawl.id, crawl.run],
        );
      });
      return null;
    }
    if (page.content_hash === result.hash && page.document_id) {
      await db.asService(async (sql) => {
        await sql.query(
          `update public.crawl_pages set status = 'unchanged', error = null, http_status = $3, fetched_at = now()
            where crawl_id = $1 and url = $2`,
          [crawl.id, page.url, result.status],
        );
        await sql.query(
          `update public.crawls set pages_fetched = pages_fetched + 1, pages_unchanged = pages_unchanged + 1
            where id = $1 and run = $2`,
          [crawl.id, crawl.run],
        );
      });
      return null;
    }
    return db.asService(async (sql) => {
      let documentId = page.document_id;
      if (documentId) {
        const updated = await sql.query(
          `update public.documents set title = $2, content = $3, mime_type = 'text/html', source_url = $4
            where id = $1 returning id`,
          [documentId, result.title, result.html, page.url],
        );
        if (updated.length === 0) documentId = null;
      }
      if (!documentId) {
        const [allowed] = await sql.query<{ ok: boolean }>(
          `select private.count_quota_allows($1, 'documents') as ok`,
          [crawl.tenant_id],
        );
        if (!allowed?.ok) {
          await sql.query(
            `update public.crawl_pages set status = 'skipped', error = 'the plan''s documents limit is reached', fetched_at = now()
              where crawl_id = $1 and url = $2`,
            [crawl.id, page.url],
          );
          await sql.query(
            `update public.crawls set pages_fetched = pages_fetched + 1, pages_skipped = pages_skipped + 1
              where id = $1 and run = $2`,
            [crawl.id, crawl.run],
          );
          return "the plan's documents limit is reached";
        }
        const [inserted] = await sql.query<{ id: string }>(
          `insert into public.documents (tenant_id, title, source_url, mime_type, content, crawl_id)
           values ($1, $2, $3, 'text/html', $4, $5) returning id`,
          [crawl.tenant_id, result.title, page.url, result.html, crawl.id],
        );
        documentId = inserted?.id ?? null;
      }
      await sql.query(
        `update public.crawl_pages
            set status = 'fetched', error = null, http_status = $3, content_hash = $4,
                document_id = $5, fetched_at = now()
          where crawl_id = $1 and url = $2`,
        [crawl.id, page.url, result.status, result.hash, documentId],
      );
      await sql.query(
        `update public.crawls set pages_fetched = pages_fetched + 1, pages_changed = pages_changed + 1
          where id = $1 and run = $2`,
        [crawl.id, crawl.run],
      );
      return null;
    });
  }

  /** Leaves the run's remaining pages unfetched, saying why. */
  async function stop(crawl: CrawlRow, reason: string) {
    await db.asService(async (sql) => {
      const skipped = await sql.query(
        `update public.crawl_pages set status = 'skipped', error = $3
          where crawl_id = $1 and run = $2 and status = 'queued' returning 1`,
        [crawl.id, crawl.run, `not fetched: ${reason}`],
      );
      await sql.query(
        `update public.crawls set stop_reason = coalesce(stop_reason, $3),
                pages_skipped = pages_skipped + $4
          where id = $1 and run = $2`,
        [crawl.id, crawl.run, reason, skipped.length],
      );
    });
  }

  async function finish(crawl: CrawlRow) {
    await db.asService(async (sql: Sql) => {
      const [state] = await sql.query<{ stop_reason: string | null }>(
        'select stop_reason from public.crawls where id = $1',
        [crawl.id],
      );
      // A complete run saw every page the site still has: pages from earlier runs it did not
      // find again are gone from the site, and their documents go too. A run cut short by a cap
      // or a quota proves nothing about the pages it did not reach.
      if (!state?.stop_reason) {
        await sql.query(
          `delete from public.documents where id in (
             select document_id from public.crawl_pages
              where crawl_id = $1 and run < $2 and document_id is not null)`,
          [crawl.id, crawl.run],
        );
        await sql.query('delete from public.crawl_pages where crawl_id = $1 and run < $2', [
          crawl.id,
          crawl.run,
        ]);
      }
      await sql.query(
        `update public.crawls set status = 'done', finished_at = now() where id = $1 and run = $2`,
        [crawl.id, crawl.run],
      );
    });
  }

  async function queueNextStep(crawl: CrawlRow, step: number) {
    await db.asService((sql) =>
      sql.query(
        `select private.enqueue_job($1, $2::jsonb, $3, p_ordering_key => $4, p_dedupe_key => $5)`,
        [
          CRAWL_JOB,
          { crawl_id: crawl.id, run: crawl.run, step },
          crawl.tenant_id,
          `crawl:${crawl.id}`,
          `${CRAWL_JOB}:${crawl.id}:${crawl.run}:${step}`,
        ],
      ),
    );
  }

  /** One step of a crawl's run. */
  async function step(payload: unknown): Promise<CrawlStepResult> {
    const { crawl_id, run, step: stepNumber } = crawlJobPayload.parse(payload);
    const base = { crawl_id, run, step: stepNumber };
    let crawl = await load(crawl_id);
    if (!crawl || crawl.run !== run || (crawl.status !== 'queued' && crawl.status !== 'running')) {
      return { ...base, outcome: 'skipped', pages: 0 };
    }
    const deadline = Date.now() + (deps.stepMs ?? DEFAULT_STEP_MS);
    let pages = 0;
    try {
      if (crawl.status === 'queued') crawl = await begin(crawl);
      const start = new URL(crawl.url);
      const robots = robotsParser(new URL('/robots.txt', start).href, crawl.robots_txt ?? '');
      while (Date.now() < deadline) {
        const current = crawl;
        const batch = await db.asService((sql) =>
          sql.query<PageRow>(
            `select url, depth, content_hash, document_id from public.crawl_pages
              where crawl_id = $1 and run = $2 and status = 'queued'
              order by depth, url limit $3`,
            [current.id, current.run, concurrency],
          ),
        );
        if (batch.length === 0) {
          await finish(current);
          return { ...base, outcome: 'done', pages };
        }
        const allowed: PageRow[] = [];
        for (const page of batch) {
          if (robots.isAllowed(page.url, USER_AGENT) === false) {
            await record(current, { page, kind: 'skipped', error: 'disallowed by robots.txt' });
          } else {
            allowed.push(page);
          }
        }
        // One unit of the monthly crawl budget per page fetched, spent once per page and run.
        const [grant] = await db.asService((sql) =>
          sql.query<{ n: number }>('select private.spend_crawl_pages($1, $2, $3) as n', [
            current.tenant_id,
            allowed.length,
            `crawl:${current.id}:${current.run}:${stepNumber}:${pages}`,
          ]),
        );
        const granted = allowed.slice(0, grant?.n ?? 0);
        const results = await Promise.all(granted.map((page) => fetchPage(current, page, start)));
        let stopReason: string | null =
          granted.length < allowed.length ? "the plan's monthly crawl pages are used up" : null;
        for (const result of results) {
          pages++;
          const limit = await record(current, result);
          stopReason ??= limit;
          if (result.kind === 'page' && result.links.length > 0 && !stopReason) {
            if (await enqueuePages(current, result.links, result.page.depth + 1))
              await capped(current);
          }
        }
        if (stopReason) {
          await stop(current, stopReason);
          await finish(current);
          return { ...base, outcome: 'done', pages };
        }
      }
      await queueNextStep(crawl, stepNumber + 1);
      return { ...base, outcome: 'continued', pages };
    } catch (error) {
      if (!(error instanceof CrawlFailed)) throw error;
      const failed = crawl;
      await update(failed, `status = 'failed', error = $3, finished_at = now()`, [message(error)]);
      return { ...base, outcome: 'failed', pages, error: message(error) };
    }
  }

  return { step };
}
