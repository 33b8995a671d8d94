import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { createJobRunner } from '../../functions/_shared/jobs/runner.ts';
import {
  CRAWL_JOB,
  createCrawler,
  followable,
  parseSitemap,
} from '../../functions/_shared/knowledge/crawl.ts';
import { linksOf, mainContent } from '../../functions/_shared/knowledge/main-content.ts';
import { createOutboundFetch, type Resolver } from '../../functions/_shared/net/outbound.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { page, startSite, type TestSite } from '../support/site.ts';
import { createUser } from '../support/world.ts';

// The crawler against a real site on loopback: robots.txt, the site boundary, the plan's caps,
// change detection by content hash, and the outbound guard, with the crawls written through the
// database as the admin writes them.

const LONG =
  'Our trail boots are resoled in the Denver workshop within ten business days, and every resole comes with new laces and a fresh waterproofing treatment.';

describe('reading pages', () => {
  it('keeps the main content and drops the page chrome', () => {
    const html = `<html><head><title>Resoling</title></head><body>
      <nav><a href="/">Home</a><a href="/shop">Shop</a></nav>
      <article><h1>Resoling</h1><p>${LONG}</p><p>${LONG}</p></article>
      <aside>Subscribe to our newsletter</aside><footer>© Trailhead</footer></body></html>`;
    const main = mainContent(html, 'https://shop.example/resoling');
    expect(main.title).toBe('Resoling');
    expect(main.html).toContain('resoled in the Denver workshop');
    expect(main.html).not.toContain('newsletter');
    expect(main.html).not.toContain('Shop');
  });

  it('follows links on the same site only, without fragments or files', () => {
    const links = linksOf(
      `<a href="/a#top">A</a><a href="https://www.shop.example/b">B</a>
       <a href="https://other.example/c">C</a><a href="mailto:x@shop.example">M</a>
       <a href="/manual.pdf">PDF</a><a rel="nofollow" href="/login">Login</a>`,
      'https://shop.example/',
    );
    expect(followable(links, new URL('https://shop.example/'))).toEqual([
      'https://shop.example/a',
      'https://www.shop.example/b',
    ]);
  });

  it('reads sitemaps and sitemap indexes', () => {
    expect(
      parseSitemap(
        '<urlset><url><loc> https://s.example/a </loc></url><url><loc>https://s.example/b</loc></url></urlset>',
      ),
    ).toEqual({ pages: ['https://s.example/a', 'https://s.example/b'], sitemaps: [] });
    expect(
      parseSitemap(
        '<sitemapindex><sitemap><loc>https://s.example/s1.xml</loc></sitemap></sitemapindex>',
      ),
    ).toEqual({ pages: [], sitemaps: ['https://s.example/s1.xml'] });
  });
});

describe('crawling a site', () => {
  let local: LocalDatabase;
  let db: Db;
  let site: TestSite;
  let tenant: string;
  let owner: string;
  let agent: string;
  let otherOwner: string;
  const loopbackFetch = createOutboundFetch({
    fetch,
    resolve: async () => ['127.0.0.1'],
    allowLoopback: true,
  });

  beforeAll(async () => {
    local = await openLocalDatabase({ seed: false, embedder: null });
    db = createPgliteDb(local.pg);
    site = await startSite();
    await db.asService(async (sql) => {
      const make = async (slug: string) => {
        const [t] = await sql.query<{ id: string }>(
          `insert into public.tenants (name, slug) values ($1, $1) returning id`,
          [slug],
        );
        return t?.id as string;
      };
      tenant = await make('crawl-a');
      // Room for the pages of every test here; the free plan's documents limit is tested below.
      await sql.query(`update public.tenants set plan_id = 'starter' where id = $1`, [tenant]);
      const other = await make('crawl-b');
      owner = await createUser(sql);
      agent = await createUser(sql);
      otherOwner = await createUser(sql);
      await sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role)
         values ($1, $2, 'owner'), ($1, $3, 'agent'), ($4, $5, 'owner')`,
        [tenant, owner, agent, other, otherOwner],
      );
    });
  }, 120_000);

  afterAll(async () => {
    await site?.close();
    await local?.close();
  });

  const as = <T>(user: string, fn: (sql: Sql) => Promise<T>) =>
    db.asUser({ role: 'authenticated', sub: user }, fn);

  function resetSite() {
    site.pages.clear();
    site.requests.length = 0;
    site.robots = 'User-agent: *\nDisallow: /private\n';
    site.pages.set(
      '/',
      page('Home', LONG, ['/boots', '/tents', '/private/admin', 'http://elsewhere.example/x']),
    );
    site.pages.set('/boots', page('Boots', `Boots. ${LONG}`, ['/boots/resoling', '/']));
    site.pages.set('/tents', page('Tents', `Tents. ${LONG}`, ['/']));
    site.pages.set('/boots/resoling', page('Resoling', `Resoling. ${LONG}`, ['/boots/deep']));
    site.pages.set('/boots/deep', page('Deep', `Deep. ${LONG}`));
    site.pages.set('/private/admin', page('Admin', 'Secret'));
  }

  async function addCrawl(fields: Record<string, unknown>): Promise<string> {
    const [row] = await as(owner, (sql) =>
      sql.query<{ id: string }>(
        `insert into public.crawls (tenant_id, kind, url, max_depth, max_pages)
         values ($1, $2, $3, $4, $5) returning id`,
        [
          tenant,
          fields.kind ?? 'site',
          fields.url ?? `${site.url}/`,
          fields.max_depth ?? null,
          fields.max_pages ?? null,
        ],
      ),
    );
    return row?.id as string;
  }

  async function runJobs(fetcher: typeof fetch = loopbackFetch) {
    const crawler = createCrawler({ db, fetch: fetcher, stepMs: 60_000 });
    const runner = createJobRunner({
      db,
      handlers: { [CRAWL_JOB]: (job) => crawler.step(job.payload) },
      workerId: 'crawl-test',
      log: () => {},
    });
    return runner.drain({ kinds: [CRAWL_JOB], maxJobs: 20, maxMs: 60_000 });
  }

  const crawlRow = async (id: string) =>
    (
      await db.asService((sql) =>
        sql.query<Record<string, unknown>>('select * from public.crawls where id = $1', [id]),
      )
    )[0] as Record<string, unknown>;

  const pagesOf = (id: string) =>
    db.asService((sql) =>
      sql.query<{ url: string; status: string; depth: number; error: string | null }>(
        'select url, status, depth, error from public.crawl_pages where crawl_id = $1 order by url',
        [id],
      ),
    );

  const documentsOf = (id: string) =>
    db.asService((sql) =>
      sql.query<{
        id: string;
        title: string;
        source_url: string;
        content: string;
        updated_at: Date;
      }>(
        'select id, title, source_url, content, updated_at from public.documents where crawl_id = $1 order by source_url',
        [id],
      ),
    );

  const ingestJobs = () =>
    db.asService(async (sql) => {
      const [row] = await sql.query<{ n: number }>(
        `select count(*)::int as n from public.jobs where kind = 'ingest_document'`,
      );
      return row?.n ?? 0;
    });

  it('fetches the site within robots.txt and its own host, to the plan depth', async () => {
    resetSite();
    const id = await addCrawl({ max_depth: 2 });
    expect((await runJobs()).succeeded).toBeGreaterThan(0);
    const crawl = await crawlRow(id);
    expect(crawl).toMatchObject({ status: 'done', pages_fetched: 4, pages_changed: 4 });
    expect(crawl.pages_skipped).toBe(1);
    const pages = await pagesOf(id);
    expect(pages.map((p) => [new URL(p.url).pathname, p.status, p.depth])).toEqual([
      ['/', 'fetched', 0],
      ['/boots', 'fetched', 1],
      ['/boots/resoling', 'fetched', 2],
      ['/private/admin', 'skipped', 1],
      ['/tents', 'fetched', 1],
    ]);
    expect(pages.find((p) => p.url.endsWith('/private/admin'))?.error).toBe(
      'disallowed by robots.txt',
    );
    // robots.txt was asked first; the disallowed page, the one past the depth cap and the other
    // host were never requested.
    expect(site.requests[0]).toBe('/robots.txt');
    expect(site.requests).not.toContain('/private/admin');
    expect(site.requests).not.toContain('/boots/deep');
    const docs = await documentsOf(id);
    expect(docs.map((d) => d.title)).toEqual(['Home', 'Boots', 'Resoling', 'Tents']);
    expect(docs[1]?.content).toContain('Boots. Our trail boots');
    expect(docs[1]?.content).not.toContain('© Test site');
  });

  it('stops at the page cap and says so', async () => {
    resetSite();
    const id = await addCrawl({ max_pages: 2 });
    await runJobs();
    const crawl = await crawlRow(id);
    expect(crawl).toMatchObject({ status: 'done', pages_found: 2, pages_fetched: 2 });
    expect(crawl.stop_reason).toMatch(/page cap reached: at most 2 pages/);
  });

  it('caps depth and pages by the plan, whatever the crawl asks', async () => {
    resetSite();
    await db.asService((sql) =>
      sql.query(
        `update public.plans set limits = limits || '{"crawl_depth": 1}'::jsonb where id = 'starter'`,
      ),
    );
    try {
      const id = await addCrawl({ max_depth: 5 });
      await runJobs();
      const paths = (await pagesOf(id)).map((p) => new URL(p.url).pathname);
      expect(paths).not.toContain('/boots/resoling');
      expect(paths).toContain('/boots');
    } finally {
      await db.asService((sql) =>
        sql.query(
          `update public.plans set limits = limits || '{"crawl_depth": 3}'::jsonb where id = 'starter'`,
        ),
      );
    }
  });

  it('re-syncs without embedding unchanged pages again, and drops pages the site lost', async () => {
    resetSite();
    const id = await addCrawl({ kind: 'sitemap', url: `${site.url}/sitemap.xml` });
    await runJobs();
    expect(await crawlRow(id)).toMatchObject({
      status: 'done',
      pages_changed: 5,
      pages_skipped: 1,
    });
    const before = await documentsOf(id);
    const jobsBefore = await ingestJobs();

    site.pages.set('/tents', page('Tents', `Tents, now with footprints. ${LONG}`, ['/']));
    site.pages.delete('/boots/deep');
    const [{ run } = { run: 0 }] = await db.asService((sql) =>
      sql.query<{ run: number }>('select private.start_crawl_run($1) as run', [id]),
    );
    expect(run).toBe(2);
    await runJobs();
    const crawl = await crawlRow(id);
    expect(crawl).toMatchObject({
      status: 'done',
      run: 2,
      pages_fetched: 4,
      pages_changed: 1,
      pages_unchanged: 3,
    });
    const after = await documentsOf(id);
    expect(after.map((d) => new URL(d.source_url).pathname)).toEqual([
      '/',
      '/boots',
      '/boots/resoling',
      '/tents',
    ]);
    // Only the changed page was written, so only it queued an ingestion.
    expect(await ingestJobs()).toBe(jobsBefore + 1);
    for (const doc of after) {
      const old = before.find((d) => d.id === doc.id);
      if (doc.source_url.endsWith('/tents')) expect(doc.content).toContain('footprints');
      else expect(doc.updated_at).toEqual(old?.updated_at);
    }
  });

  it('re-reads a site on schedule once its next sync is due', async () => {
    resetSite();
    const [row] = await as(owner, (sql) =>
      sql.query<{ id: string; next_sync_at: Date }>(
        `insert into public.crawls (tenant_id, url, resync) values ($1, $2, 'daily')
         returning id, next_sync_at`,
        [tenant, `${site.url}/tents`],
      ),
    );
    const id = row?.id as string;
    const day = row?.next_sync_at.getTime() ?? 0;
    expect(day - Date.now()).toBeGreaterThan(23 * 3600_000);
    await runJobs();
    const first = await crawlRow(id);
    expect(first).toMatchObject({ status: 'done', run: 1 });
    const due = async () => {
      const [r] = await db.asService((sql) =>
        sql.query<{ n: number }>('select private.queue_due_crawls() as n'),
      );
      return r?.n;
    };
    // Not yet due: nothing starts.
    expect(await due()).toBe(0);
    await db.asService((sql) =>
      sql.query(`update public.crawls set finished_at = now() - interval '2 days' where id = $1`, [
        id,
      ]),
    );
    expect(await due()).toBe(1);
    await runJobs();
    expect(await crawlRow(id)).toMatchObject({
      status: 'done',
      run: 2,
      pages_changed: 0,
      pages_unchanged: first.pages_fetched,
    });
    expect(await due()).toBe(0);
  });

  it('stops at the plan’s documents limit', async () => {
    resetSite();
    await db.asService((sql) =>
      sql.query(`update public.tenants set plan_id = 'free' where id = $1`, [tenant]),
    );
    try {
      const [{ n } = { n: 0 }] = await db.asService((sql) =>
        sql.query<{ n: number }>(
          'select count(*)::int as n from public.documents where tenant_id = $1',
          [tenant],
        ),
      );
      const id = await addCrawl({ kind: 'sitemap', url: `${site.url}/sitemap.xml` });
      await runJobs();
      const crawl = await crawlRow(id);
      expect(crawl).toMatchObject({ status: 'done', pages_changed: Math.max(10 - n, 0) });
      expect(crawl.stop_reason).toBe("the plan's documents limit is reached");
    } finally {
      await db.asService((sql) =>
        sql.query(`update public.tenants set plan_id = 'starter' where id = $1`, [tenant]),
      );
    }
  });

  it('refuses private addresses outside tests', async () => {
    // The database refuses private and internal targets when the crawl is added.
    for (const url of ['http://10.0.0.8/', 'http://192.168.1.1/', 'http://intranet/']) {
      await expect(addCrawl({ url })).rejects.toThrow(/check constraint/);
    }
    // A name that resolves inside, and loopback without the platform setting, are refused at
    // fetch time: the run fails with the guard's reason and nothing is fetched.
    const inside: Resolver = async () => ['10.1.2.3'];
    const guarded = createOutboundFetch({ fetch, resolve: inside, allowLoopback: false });
    const named = await addCrawl({ url: 'https://intranet.shop.example/' });
    const looped = await addCrawl({ url: `${site.url}/` });
    site.requests.length = 0;
    await runJobs(guarded);
    expect(await crawlRow(named)).toMatchObject({ status: 'failed' });
    expect(String((await crawlRow(named)).error)).toMatch(/does not resolve to a public address/);
    expect(String((await crawlRow(looped)).error)).toMatch(/loopback/);
    expect(site.requests).toEqual([]);
  });

  it('lets only the tenant’s owners and admins see, start and change crawls', async () => {
    resetSite();
    const id = await addCrawl({});
    // An agent cannot start a crawl, nor see one.
    await expect(
      as(agent, (sql) =>
        sql.query(`insert into public.crawls (tenant_id, url) values ($1, 'https://a.example/')`, [
          tenant,
        ]),
      ),
    ).rejects.toThrow(/row-level security/);
    expect(await as(agent, (sql) => sql.query('select id from public.crawls'))).toEqual([]);
    // Another tenant's owner neither sees it nor its pages, nor starts it again.
    expect(await as(otherOwner, (sql) => sql.query('select id from public.crawls'))).toEqual([]);
    expect(await as(otherOwner, (sql) => sql.query('select url from public.crawl_pages'))).toEqual(
      [],
    );
    await expect(
      as(otherOwner, (sql) => sql.query('select public.recrawl($1)', [id])),
    ).rejects.toThrow(/No such crawl/);
    await expect(
      as(otherOwner, (sql) =>
        sql.query(`insert into public.crawls (tenant_id, url) values ($1, 'https://a.example/')`, [
          tenant,
        ]),
      ),
    ).rejects.toThrow(/row-level security/);
    // The owner cannot fake progress, nor write pages.
    const [faked] = await as(owner, (sql) =>
      sql.query<{ status: string; pages_fetched: number }>(
        `update public.crawls set status = 'done', pages_fetched = 99, resync = 'daily' where id = $1
         returning status, pages_fetched`,
        [id],
      ),
    );
    expect(faked).toEqual({ status: 'queued', pages_fetched: 0 });
    await expect(
      as(owner, (sql) =>
        sql.query(
          `insert into public.crawl_pages (crawl_id, tenant_id, url, run) values ($1, $2, 'https://x.example/', 1)`,
          [id, tenant],
        ),
      ),
    ).rejects.toThrow(/permission denied/);
    // The owner may ask for another run once this one is over.
    await runJobs();
    const [again] = await as(owner, (sql) =>
      sql.query<{ run: number }>('select public.recrawl($1) as run', [id]),
    );
    expect(again?.run).toBe(2);
  });
});
