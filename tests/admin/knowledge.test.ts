import { createClient } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { admin, createStaff, type Staff } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';
import { makePdf } from '../support/documents.ts';
import { page as sitePage, startSite, type TestSite } from '../support/site.ts';

// The Knowledge page in Chromium against the local stack: a PDF uploaded into Storage with its
// progress shown becomes searchable, a local site crawled through the outbound guard shows its
// progress as the server broadcasts it and becomes searchable too, the retrieval test box ranks
// passages with their scores, a document is previewed and deleted; an agent gets none of it.

const ui = useBrowserHarness();
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;
let site: TestSite;

const TEXT =
  'Every Trailhead stove is tested on the bench before it ships, and a stove that fails is sent back to the maker.';

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
  site = await startSite();
  site.robots = 'User-agent: *\nDisallow: /private\n';
  site.pages.set(
    '/',
    sitePage('Trailhead help', `Welcome to the help centre. ${TEXT}`, ['/lanterns', '/private/x']),
  );
  site.pages.set(
    '/lanterns',
    sitePage(
      'Lantern batteries',
      'The Glowmaster lantern runs forty hours on its rechargeable battery, and charges fully over USB-C in three hours.',
      ['/'],
    ),
  );
}, 120_000);

afterAll(async () => {
  await site?.close();
});

// The stack, the browser and everyone else's tests share two cores: give the UI time.
const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 60_000, interval: 500, ...options });

const part = (page: Page, name: string) => page.locator(`[data-admin="${name}"]`);

async function signIn(page: Page, staff: Staff, hash: string) {
  await page.goto(`${ui.h.stack.url}/admin/${hash}`);
  await page.locator('input[name="email"]').fill(staff.email);
  await page.locator('input[name="password"]').fill(staff.password);
  await page.locator('form button[type="submit"]').click();
}

/** Works the queue now, as pg_cron would within seconds, until `done` holds. */
async function workUntil(done: () => Promise<boolean>) {
  for (let i = 0; i < 40; i++) {
    await runWorker(ui.h);
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the queue did not finish the work');
}

const statusOf = (page: Page, title: string) =>
  page.locator(`tr[data-document="${title}"]`).getAttribute('data-status');

async function search(page: Page, question: string) {
  await part(page, 'search-input').fill(question);
  await part(page, 'retrieval-test').locator('button[type="submit"]').click();
}

describe('the Knowledge page', () => {
  it('an uploaded PDF and a crawled site become searchable, with progress shown', async () => {
    const { page } = await ui.newPage();
    page.on('dialog', (dialog) => void dialog.accept());
    await signIn(page, owner, `#/${tenant.id}/knowledge`);
    await part(page, 'upload-form').waitFor({ state: 'visible', timeout: 30_000 });
    await poll(() => part(page, 'knowledge-live').textContent()).toMatch(/Live updates on/);

    // Upload: the progress bar is watched as it is drawn.
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
      new MutationObserver(() => {
        for (const bar of document.querySelectorAll<HTMLProgressElement>(
          '[data-admin="uploads"] progress',
        ))
          seen.push(bar.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    const pdf = await makePdf([
      ['Stove testing', TEXT],
      ['Warranty', 'Stoves carry a five-year warranty on the burner.'],
    ]);
    await part(page, 'upload-input').setInputFiles({
      name: 'stove-guide.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from(pdf),
    });
    await part(page, 'upload-form').locator('button[type="submit"]').click();
    await poll(() => part(page, 'uploads').locator('li').first().getAttribute('data-state')).toBe(
      'done',
    );
    expect(
      (await page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen))
        .length,
    ).toBeGreaterThan(0);
    await poll(() => page.locator('tr[data-document="stove-guide"]').count()).toBe(1);

    // Ingestion runs as a job; the row follows it over Realtime, without a reload.
    await workUntil(async () => (await statusOf(page, 'stove-guide')) === 'ready');
    await poll(() => statusOf(page, 'stove-guide')).toBe('ready');
    expect(
      Number(
        await page
          .locator('tr[data-document="stove-guide"] [data-admin="chunk-count"]')
          .textContent(),
      ),
    ).toBeGreaterThan(0);

    // The passages of the document, previewed.
    await page.locator('tr[data-document="stove-guide"] button', { hasText: 'Passages' }).click();
    await poll(() => part(page, 'chunk-preview').textContent()).toContain('tested on the bench');

    await search(page, 'Is every stove tested before it ships?');
    const first = part(page, 'passages').locator('li').first();
    await poll(() => first.getAttribute('data-title')).toBe('stove-guide');
    expect(await first.locator('[data-score="fused"]').textContent()).toMatch(/^0\.\d{4}$/);
    expect(await first.locator('[data-score="full-text"]').textContent()).toMatch(/rank 1/);
    expect(await first.locator('[data-score="vector"]').textContent()).toMatch(/similarity/);

    // A crawl of the local site: its progress arrives as the server broadcasts it.
    await part(page, 'crawl-url').fill(`${site.url}/`);
    await part(page, 'crawl-form').locator('button[type="submit"]').click();
    const crawl = page.locator(`[data-crawl="${site.url}/"]`);
    await poll(() => crawl.count()).toBe(1);
    await workUntil(async () => (await crawl.getAttribute('data-status')) === 'done');
    await poll(() => crawl.getAttribute('data-status')).toBe('done');
    expect(await crawl.textContent()).toContain('2 of 3 pages read');
    expect(await crawl.textContent()).toContain('1 skipped');
    expect(site.requests).not.toContain('/private/x');
    await workUntil(async () => (await statusOf(page, 'Lantern batteries')) === 'ready');
    await poll(() => statusOf(page, 'Lantern batteries')).toBe('ready');

    await search(page, 'How long does the lantern battery last?');
    await poll(() => part(page, 'passages').locator('li').first().getAttribute('data-title')).toBe(
      'Lantern batteries',
    );

    // Delete: the document leaves the list and the search.
    await page.locator('tr[data-document="stove-guide"] button', { hasText: 'Delete' }).click();
    await poll(() => page.locator('tr[data-document="stove-guide"]').count()).toBe(0);
    const [left] = await ui.h.db.asService((sql) =>
      sql.query<{ n: number }>(
        `select count(*)::int as n from public.documents where tenant_id = $1 and title = 'stove-guide'`,
        [tenant.id],
      ),
    );
    expect(left?.n).toBe(0);
    // Its file leaves Storage too, by the job the deletion queued.
    const storedFiles = async () =>
      (
        await ui.h.db.asService((sql) =>
          sql.query<{ n: number }>(
            `select count(*)::int as n from storage.objects
              where bucket_id = 'knowledge' and name like $1`,
            [`${tenant.id}/%/stove-guide.pdf`],
          ),
        )
      )[0]?.n;
    await workUntil(async () => (await storedFiles()) === 0);

    expect(await axeViolations(page, { mustCheck: ['button-name', 'label'] })).toEqual([]);
    expect(ui.problems.filter((p) => !p.includes('favicon'))).toEqual([]);
  }, 300_000);

  it('in Hebrew and dark mode the page stays accessible', async () => {
    const { page } = await ui.newPage({ colorScheme: 'dark' });
    await signIn(page, owner, `#/${tenant.id}/knowledge`);
    await part(page, 'upload-form').waitFor({ state: 'visible', timeout: 30_000 });
    await admin(page).locale.selectOption('he');
    await admin(page).theme.selectOption('dark');
    await poll(() => page.evaluate(() => document.documentElement.dir)).toBe('rtl');
    await poll(() => page.locator('tr[data-document]').count()).toBeGreaterThan(0);
    expect(
      await axeViolations(page, { mustCheck: ['label', 'color-contrast', 'button-name'] }),
    ).toEqual([]);
  }, 120_000);

  it('an agent has no Knowledge page, and the Data API and the function refuse it', async () => {
    const { page } = await ui.newPage();
    await signIn(page, agent, `#/${tenant.id}/inbox`);
    await admin(page).list.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator(`a[href="#/${tenant.id}/knowledge"]`).count()).toBe(0);

    const client = createClient(ui.h.stack.url, ui.h.stack.keys.anonKey, {
      auth: { persistSession: false, autoRefreshToken: false },
      realtime: { transport: WebSocket as never },
    });
    const { data, error } = await client.auth.signInWithPassword({
      email: agent.email,
      password: agent.password,
    });
    expect(error).toBeNull();
    const crawlInsert = await client
      .from('crawls')
      .insert({ tenant_id: tenant.id, url: 'https://shop.example/' });
    expect(crawlInsert.error?.code).toBe('42501');
    const docInsert = await client
      .from('documents')
      .insert({ tenant_id: tenant.id, title: 'Sneaky', content: 'x' });
    expect(docInsert.error?.code).toBe('42501');
    const [doc] = await ui.h.db.asService((sql) =>
      sql.query<{ id: string }>('select id from public.documents where tenant_id = $1 limit 1', [
        tenant.id,
      ]),
    );
    const deleted = await client.from('documents').delete().eq('id', doc?.id).select('id');
    expect(deleted.data).toEqual([]);
    const upload = await client.storage
      .from('knowledge')
      .upload(`${tenant.id}/x/sneaky.txt`, new Blob(['x'], { type: 'text/plain' }));
    expect(upload.error).not.toBeNull();
    const res = await fetch(`${ui.h.stack.url}/functions/v1/knowledge/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${data.session?.access_token}`,
        apikey: ui.h.stack.keys.anonKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ tenant_id: tenant.id, query: 'stove' }),
    });
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('forbidden');
    const bad = await fetch(`${ui.h.stack.url}/functions/v1/knowledge/search`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${data.session?.access_token}`,
        apikey: ui.h.stack.keys.anonKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ tenant_id: 'nope' }),
    });
    expect(bad.status).toBe(400);
  }, 120_000);
});
