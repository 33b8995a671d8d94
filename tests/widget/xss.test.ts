import { beforeAll, describe, expect, it } from 'vitest';
import {
  gotoShop,
  inShadow,
  openWidget,
  sendMessage,
  shopPage,
  waitForMessage,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';
import { expectClean, inspect, PAYLOADS, PWN } from '../support/xss.ts';

// Whatever a visitor types and whatever the model answers is shown as text: no markup of theirs
// becomes elements, no script runs, no link leads anywhere but http(s) and mailto.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '500' } });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, {
    llm: 'openai',
    documents: [
      {
        title: `<img src=x onerror="${PWN}">Returns policy`,
        content: '# Returns\n\nUnused gear can be returned within 60 days for a full refund.',
      },
    ],
  });
  await runWorker(ui.h);
  // A source whose link would run script if the widget trusted it.
  await ui.h.db.asService((sql) =>
    sql.query(`update public.documents set source_url = $2 where tenant_id = $1`, [
      tenant.id,
      `javascript:${PWN}`,
    ]),
  );
}, 120_000);

async function visitor() {
  const { page, problems } = await ui.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => {});
  });
  await gotoShop(page, ui.shop.page(shopPage(ui.h, tenant)));
  await openWidget(page);
  return { page, dialogs, problems };
}

describe('hostile content is shown as text', () => {
  // Each of these walks the whole corpus in one conversation, so it outlasts the default timeout.
  it('visitor messages: every payload is shown verbatim and nothing runs', async () => {
    const { page, dialogs, problems } = await visitor();
    const w = widget(page);
    // One reply per message (the answer cache may answer look-alike questions, so count them).
    const replies = w.byRole('assistant');
    for (const [i, payload] of PAYLOADS.entries()) {
      const before = await replies.count();
      await w.input.fill(payload);
      await w.send.click();
      await expect
        .poll(() => replies.count(), {
          timeout: 20_000,
          message: `no reply to payload ${i}: ${payload}`,
        })
        .toBeGreaterThan(before);
    }
    // Hover and click everything a payload could have turned into a trap.
    const contents = w.byRole('user').locator('[data-parley="content"]');
    expect(await contents.count()).toBe(PAYLOADS.length);
    for (let i = 0; i < PAYLOADS.length; i++) {
      await contents.nth(i).hover();
    }
    const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
    const shown = await contents.allTextContents();
    expect(shown.map(flat)).toEqual(PAYLOADS.map(flat));

    await page.waitForTimeout(500); // let any onerror/onload fire
    expectClean(await inspect(page), dialogs);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  }, 120_000);

  it('bot replies: Markdown and HTML from the model render safely; links are sanitised', async () => {
    const { page, dialogs, problems } = await visitor();
    for (const [i, payload] of PAYLOADS.entries()) {
      ui.h.llm.script({ text: `Reply ${i}: ${payload}`, chunkDelayMs: 5 });
      await sendMessage(page, `Question number ${i}?`);
      await waitForMessage(page, 'assistant', `Reply ${i}:`);
    }
    // Quick replies from the model are text too.
    ui.h.llm.script({
      text: `Pick one. <quick_replies>["<img src=x onerror=\\"${PWN}\\">", "<script>${PWN}</script>", "[a](javascript:${PWN})"]</quick_replies>`,
    });
    await sendMessage(page, 'Show me choices');
    await waitForMessage(page, 'assistant', 'Pick one.');
    const quick = widget(page).quickReplies;
    await expect
      .poll(() => quick.allTextContents())
      .toEqual([
        `<img src=x onerror="${PWN}">`,
        `<script>${PWN}</script>`,
        `[a](javascript:${PWN})`,
      ]);

    // Safe Markdown still works: an https link, with a safe rel.
    ui.h.llm.script({ text: 'See [our returns page](https://shop.example/returns) for details.' });
    await sendMessage(page, 'Where are the returns rules?');
    const reply = await waitForMessage(page, 'assistant', 'for details');
    const link = reply.locator('[data-parley="content"] a');
    expect(await link.getAttribute('href')).toBe('https://shop.example/returns');
    expect(await link.getAttribute('rel')).toContain('noopener');
    expect(await link.textContent()).toBe('our returns page');

    // A source with a hostile title and a javascript: URL, from retrieval.
    ui.h.llm.script({ text: 'Unused gear can be returned within 60 days.' });
    await sendMessage(page, 'Can I return unused gear within 60 days?');
    const sourced = await waitForMessage(page, 'assistant', 'within 60 days.');
    await expect.poll(() => sourced.locator('[data-parley="sources"]').count()).toBe(1);
    expect(await sourced.locator('[data-parley="sources"]').textContent()).toContain(
      'Returns policy',
    );

    // Click every link the bot produced: none may run script (new tabs are closed unseen).
    page.context().on('page', (opened) => void opened.close().catch(() => {}));
    const links = widget(page).log.locator('a');
    for (let i = 0; i < (await links.count()); i++) {
      const href = (await links.nth(i).getAttribute('href')) ?? '';
      if (/^https?:/i.test(href)) continue; // real sites are not ours to visit
      await links.nth(i).click({ modifiers: ['Control'] });
    }
    const bodies = widget(page).log.locator('[data-parley="content"]');
    for (let i = 0; i < (await bodies.count()); i++) {
      await bodies.nth(i).hover({ timeout: 2_000 });
    }

    await page.waitForTimeout(500);
    expectClean(await inspect(page), dialogs);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  }, 120_000);

  it('buttons and cards: every payload in a label, title, text or postback stays text', async () => {
    const { page, dialogs, problems } = await visitor();
    await sendMessage(page, 'Show me rich things');
    await waitForMessage(page, 'user', 'Show me rich things');
    // Links that pass the database's http(s) check yet try to break out of the attribute.
    const sneaky = [
      `https://shop.example/"onmouseover="${PWN}`,
      `https://shop.example/'><img/src=x/onerror=${PWN}>`,
      `http://shop.example/#javascript:${PWN}`,
    ];
    const corpus = PAYLOADS.slice(0, 30);
    const rich = {
      buttons: sneaky.map((url, i) => ({ label: corpus[i] as string, url })),
      cards: corpus.slice(0, 10).map((payload, i) => ({
        title: payload.slice(0, 120),
        text: corpus[(i + 10) % corpus.length] as string,
        image_url: sneaky[i % sneaky.length] as string,
        buttons: [
          {
            label: corpus[(i + 20) % corpus.length]?.slice(0, 80) as string,
            payload: payload.slice(0, 200),
          },
        ],
      })),
    };
    await ui.h.db.asService((sql) =>
      sql.query(
        `insert into public.messages (conversation_id, tenant_id, role, content, rich)
         select c.id, c.tenant_id, 'assistant', 'Rich reply', $2::jsonb from public.conversations c
          where c.tenant_id = $1 order by c.created_at desc limit 1`,
        [tenant.id, rich],
      ),
    );
    const reply = await waitForMessage(page, 'assistant', 'Rich reply', 30_000);
    const cards = reply.locator('[data-parley="card"]');
    await expect.poll(() => cards.count(), { timeout: 20_000 }).toBe(10);
    const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
    expect((await cards.locator('h3').allTextContents()).map(flat)).toEqual(
      rich.cards.map((c) => flat(c.title)),
    );
    expect((await reply.locator('[data-parley="rich-link"]').allTextContents()).map(flat)).toEqual(
      rich.buttons.map((b) => flat(b.label)),
    );
    // Hover everything; clicking a postback sends its payload verbatim as the visitor's text.
    for (let i = 0; i < 10; i++) await cards.nth(i).hover({ timeout: 2_000 });
    page.context().on('page', (opened) => void opened.close().catch(() => {}));
    const postback = reply.locator('[data-parley="rich-postback"]').first();
    await postback.click();
    const sent = widget(page).byRole('user').locator('[data-parley="content"]').last();
    await expect.poll(() => sent.textContent()).toBe(rich.cards[0]?.buttons[0]?.payload);

    await page.waitForTimeout(500);
    const findings = await inspect(page);
    // The card pictures are the only images, and only from http(s).
    const images = await inShadow(page, (root) =>
      [...root.querySelectorAll('[data-parley="card"] img')].map((i) => i.getAttribute('src')),
    );
    for (const src of images) expect(src).toMatch(/^https?:\/\//);
    expectClean(findings, dialogs);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  }, 120_000);

  it('attachment names: every payload is shown as a file name, as text', async () => {
    const { page, dialogs, problems } = await visitor();
    await sendMessage(page, 'Here are my files');
    const corpus = PAYLOADS.slice(0, 30).map((p) => p.slice(0, 255));
    // Five files a message, as the database allows, each inside the conversation's own folder.
    await ui.h.db.asService(async (sql) => {
      const [c] = await sql.query<{ id: string; tenant_id: string }>(
        `select id, tenant_id from public.conversations where tenant_id = $1 order by created_at desc limit 1`,
        [tenant.id],
      );
      for (let i = 0; i < corpus.length; i += 5) {
        const files = corpus.slice(i, i + 5).map((name, j) => ({
          path: `${c?.tenant_id}/${c?.id}/${i + j}.png`,
          name,
          type: j % 2 ? 'application/pdf' : 'image/png',
          size: 10,
        }));
        await sql.query(
          `insert into public.messages (conversation_id, tenant_id, role, content, attachments)
           values ($1, $2, 'user', '', $3::jsonb)`,
          [c?.id, c?.tenant_id, files],
        );
      }
    });
    const names = page.locator('[data-parley="file"] .name');
    const files = page.locator('[data-parley="file"]');
    await expect.poll(() => files.count(), { timeout: 30_000 }).toBe(corpus.length);
    const flat = (text: string) => text.replace(/\s+/g, ' ').trim();
    // None of these files was uploaded, so each is shown by its name alone.
    expect((await names.allTextContents()).map(flat).sort()).toEqual(corpus.map(flat).sort());
    await page.waitForTimeout(500);
    expectClean(await inspect(page), dialogs);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  }, 120_000);
});
