import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/axe.ts';
import {
  focusedPart,
  inShadow,
  openWidget,
  refuseNextSend,
  sendMessage,
  shopPage,
  waitForMessage,
  widget,
  writeMessage,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// What a visitor notices in the first minute: where the log opens, how replies look, the header,
// the composer, and how the widget behaves on a phone and in a right-to-left language.

const ui = useBrowserHarness();
let tenant: TestTenant;
let localized: TestTenant;
const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true };
const DESKTOP = { viewport: { width: 1280, height: 800 } };

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
  localized = await createTenant(ui.h, {
    llm: null,
    botConfig: {
      color: '#2f6f4f',
      quick_starts: { en: ['How do returns work?'], he: ['איך עובדות החזרות?'] },
      reply_time: { en: 'Usually replies within an hour', he: 'בדרך כלל עונים תוך שעה' },
    },
  });
}, 120_000);

/** What only the server does: store a bot message (the trigger broadcasts it). */
async function botSays(conversationId: string, content: string, sources: unknown[] = []) {
  await ui.h.db.asService((sql) =>
    sql.query(
      `insert into public.messages (conversation_id, role, content, sources) values ($1, 'assistant', $2, $3::jsonb)`,
      [conversationId, content, sources],
    ),
  );
}

/** Rewrites the public config as the chat function answers it, for settings of any shape. */
async function withConfig(page: Page, patch: Record<string, unknown>) {
  await page.route(/\/functions\/v1\/chat\/(config|sessions)/, async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    Object.assign(json.config ?? json, patch);
    await route.fulfill({ response, json });
  });
}

const parley = (page: Page, call: string) => page.evaluate(`window.Parley.${call}`);

async function latestConversation(page: Page, of = tenant, not?: string): Promise<string> {
  const key = `parley:${of.key}:conversation`;
  let id: string | undefined;
  for (let i = 0; i < 100 && !id; i++) {
    id = await page.evaluate((k) => JSON.parse(localStorage.getItem(k) ?? 'null')?.id, key);
    if (id === not) id = undefined;
    if (!id) await page.waitForTimeout(100);
  }
  if (!id) throw new Error('no conversation stored');
  return id;
}

const fromBottom = (page: Page) =>
  inShadow(page, (root) => {
    const log = root.querySelector('[data-parley="log"]') as HTMLElement;
    return log.scrollHeight - log.scrollTop - log.clientHeight;
  });

describe('the widget as a visitor first sees it', () => {
  for (const [name, device] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(`opens at the latest message after a reload (${name})`, async () => {
      const { page } = await ui.openShop(tenant, {}, device);
      await openWidget(page);
      await sendMessage(page, 'first words');
      const conversationId = await latestConversation(page);
      await ui.h.db.asService((sql) =>
        sql.query(
          `insert into public.messages (conversation_id, role, content, created_at)
           select $1, 'assistant', 'Answer number ' || n || E'\\n\\nwith a second paragraph.',
                  now() + n * interval '1 millisecond'
           from generate_series(1, 30) n`,
          [conversationId],
        ),
      );
      await waitForMessage(page, 'assistant', 'Answer number 30');
      await page.reload();
      await widget(page).launcher.waitFor();
      await openWidget(page);
      await waitForMessage(page, 'assistant', 'Answer number 30');
      await expect.poll(() => fromBottom(page)).toBeLessThan(40);
      const last = widget(page).byRole('assistant').last();
      expect(await last.isVisible()).toBe(true);
    });
  }

  it('keeps what the visitor reads in place when an older message arrives above it', async () => {
    const { page } = await ui.openShop(tenant, {}, DESKTOP);
    await openWidget(page);
    await sendMessage(page, 'many answers please');
    const conversationId = await latestConversation(page);
    await ui.h.db.asService((sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content, created_at)
         select $1, 'assistant', 'Reading ' || n, now() + n * interval '1 millisecond'
         from generate_series(1, 30) n`,
        [conversationId],
      ),
    );
    await waitForMessage(page, 'assistant', 'Reading 30');
    const reading = widget(page)
      .byRole('assistant')
      .filter({ hasText: /^Reading 15/ })
      .first();
    await reading.scrollIntoViewIfNeeded();
    await page.waitForTimeout(200);
    const before = (await reading.boundingBox())?.y;
    await ui.h.db.asService((sql) =>
      sql.query(
        `insert into public.messages (conversation_id, role, content, created_at)
         values ($1, 'assistant', E'From earlier\n\nwith\n\nseveral\n\nparagraphs', now() - interval '1 day')`,
        [conversationId],
      ),
    );
    await waitForMessage(page, 'assistant', 'From earlier');
    expect(Math.abs(((await reading.boundingBox())?.y ?? 0) - (before ?? 0))).toBeLessThan(4);
  });

  for (const locale of ['en', 'he'] as const) {
    it(`renders a Markdown table as a table, never as pipes (${locale})`, async () => {
      const { page } = await ui.openShop(tenant, { locale }, DESKTOP);
      await openWidget(page);
      await sendMessage(page, 'sizes?');
      const id = await latestConversation(page);
      const [a, b] = locale === 'he' ? ['מידה', 'אורך'] : ['Size', 'Length'];
      const intro = locale === 'he' ? 'המידות שלנו:' : 'Our sizes:';
      await botSays(
        id,
        `${intro}\n\n| ${a} | ${b} |\n|:---|---:|\n| 42 | 26.5 cm |\n| 43 | 27 \\| 27.5 cm |\n\n${locale === 'he' ? 'שאלו' : 'Ask'} away.`,
      );
      const reply = await waitForMessage(page, 'assistant', 'away.');
      expect(await reply.locator('th').allTextContents()).toEqual([a, b]);
      expect(await reply.locator('td').allTextContents()).toEqual([
        '42',
        '26.5 cm',
        '43',
        '27 | 27.5 cm',
      ]);
      expect(await reply.locator('[data-parley="content"]').textContent()).not.toContain('---');
      expect(await reply.getAttribute('dir')).toBe(locale === 'he' ? 'rtl' : 'ltr');
      expect(await reply.locator('th').first().getAttribute('dir')).toBe('auto');
      expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
    });
  }

  it('table cells are text: markup in them is shown, links in them follow the URL rules', async () => {
    const { page, problems } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'cells?');
    const cell = '<img src=x onerror="window.__owned=1">';
    await botSays(
      await latestConversation(page),
      `| Payload | Link |\n|---|---|\n| ${cell} | [click](javascript:window.__owned=2) [ok](https://docs.example/ok) |\n\nCells done.`,
    );
    const reply = await waitForMessage(page, 'assistant', 'Cells done.');
    expect(await reply.locator('td').first().textContent()).toBe(cell);
    expect(await reply.locator('img').count()).toBe(0);
    expect(
      await reply.locator('td a').evaluateAll((a) => a.map((l) => l.getAttribute('href'))),
    ).toEqual(['https://docs.example/ok']);
    expect(await page.evaluate(() => (window as unknown as { __owned?: number }).__owned)).toBe(
      undefined,
    );
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });

  it('keeps __ inside a word as typed, and bolds __words__', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'code?');
    await botSays(await latestConversation(page), 'Call snake__case__name, then __really__ done.');
    const reply = await waitForMessage(page, 'assistant', 'done.');
    expect(await reply.locator('strong').allTextContents()).toEqual(['really']);
    expect(await reply.locator('[data-parley="content"]').textContent()).toContain(
      'snake__case__name',
    );
  });

  it('he: quick replies carry their direction and the send arrow points the other way', async () => {
    const { page } = await ui.openShop(localized, { locale: 'he' }, DESKTOP);
    await openWidget(page);
    const w = widget(page);
    await expect.poll(() => w.quickReplies.allTextContents()).toEqual(['איך עובדות החזרות?']);
    expect(await w.quickReplies.first().getAttribute('dir')).toBe('rtl');
    const transform = await w.send.locator('svg').evaluate((el) => getComputedStyle(el).transform);
    expect(transform).toBe('matrix(-1, 0, 0, 1, 0, 0)');
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
  });

  it('switches the quick starts and the reply time with setLocale', async () => {
    const { page } = await ui.openShop(localized, { locale: 'en' });
    await openWidget(page);
    const w = widget(page);
    await expect.poll(() => w.quickReplies.allTextContents()).toEqual(['How do returns work?']);
    await expect.poll(() => w.status.textContent()).toBe('Usually replies within an hour');
    await parley(page, "setLocale('he')");
    await expect.poll(() => w.quickReplies.allTextContents()).toEqual(['איך עובדות החזרות?']);
    await expect.poll(() => w.window.getAttribute('dir')).toBe('rtl');
    // The reply time is worded apart from the quick starts; wait for it as for them.
    await expect.poll(() => w.status.textContent()).toBe('בדרך כלל עונים תוך שעה');
  });

  for (const held of ['config', 'sessions']) {
    it(`${held}: an answer in the old language that arrives after setLocale does not bring it back`, async () => {
      const { page } = await ui.newPage();
      // The English request is held until the visitor has switched to Hebrew and the Hebrew
      // configuration is shown; then it is answered, late.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let asked = false;
      await page.route(new RegExp(`/functions/v1/chat/${held}`), async (route) => {
        const request = route.request();
        if (request.url().includes('locale=en') || request.postData()?.includes('"locale":"en"')) {
          asked = true;
          await gate;
        }
        await route.continue();
      });
      await page.goto(ui.shop.page(shopPage(ui.h, localized, { locale: 'en' })));
      const w = widget(page);
      await w.launcher.click();
      await expect.poll(() => asked).toBe(true);
      await parley(page, "setLocale('he')");
      await expect.poll(() => w.quickReplies.allTextContents()).toEqual(['איך עובדות החזרות?']);
      // Not even for a moment: a later answer could put Hebrew back over a flash of English.
      await inShadow(page, (root) => {
        const seen = () => {
          if (root.textContent?.includes('How do returns work?'))
            (window as unknown as { __english?: boolean }).__english = true;
        };
        new MutationObserver(seen).observe(root, {
          subtree: true,
          childList: true,
          characterData: true,
        });
      });
      release();
      // The visitor still gets a conversation; only the old wording is left behind.
      await latestConversation(page, localized);
      await page.waitForLoadState('networkidle');
      expect(
        await page.evaluate(() => (window as unknown as { __english?: boolean }).__english),
      ).toBe(undefined);
      expect(await w.quickReplies.allTextContents()).toEqual(['איך עובדות החזרות?']);
      expect(await w.status.textContent()).toBe('בדרך כלל עונים תוך שעה');
      await page.unrouteAll({ behavior: 'ignoreErrors' });
    });
  }

  it('desktop: a focus ring in the tenant’s color, a 16 px input, the tenant’s font', async () => {
    const { page } = await ui.newPage(DESKTOP);
    await withConfig(page, { font: 'Georgia, serif' });
    await page.goto(ui.shop.page(shopPage(ui.h, localized)));
    await openWidget(page);
    const w = widget(page);
    await expect.poll(() => focusedPart(page)).toBe('input');
    const input = await w.input.evaluate((el) => {
      const style = getComputedStyle(el);
      return { outline: style.outlineColor, size: style.fontSize, font: style.fontFamily };
    });
    expect(input.outline).toBe('rgb(47, 111, 79)');
    expect(input.size).toBe('16px');
    expect(input.font).toContain('Georgia');
    // A mouse click on a button draws no ring.
    await w.close.hover();
    await page.mouse.down();
    expect(await w.close.evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('none');
    await page.mouse.up();
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('phone: no keyboard popped on open, the page behind does not scroll, restored on close', async () => {
    const { page } = await ui.openShop(localized, {}, PHONE);
    const before = await page.evaluate(() => document.documentElement.getAttribute('style'));
    await openWidget(page, 'tap');
    expect(await focusedPart(page)).not.toBe('input');
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).overflow)).toBe(
      'hidden',
    );
    await widget(page).close.tap();
    await widget(page).window.waitFor({ state: 'hidden' });
    await expect
      .poll(() => page.evaluate(() => document.documentElement.getAttribute('style')))
      .toBe(before);
  });

  it('shows the character counter only near the limit', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    const w = widget(page);
    await w.input.fill('hello');
    expect(await w.counter.isVisible()).toBe(false);
    await w.input.fill('x'.repeat(3700));
    await expect.poll(() => w.counter.isVisible()).toBe(true);
    expect(await w.counter.textContent()).toBe('3700/4000');
  });

  it('header: no "Connecting…" during the pre-chat form; the team and reply time when set', async () => {
    const { page } = await ui.newPage(DESKTOP);
    await withConfig(page, {
      prechat_form: { enabled: true, fields: [{ name: 'name', required: true }] },
      team: [
        { name: 'Dana', avatar_url: 'https://images.example/dana.png' },
        { name: 'Omer', avatar_url: 'javascript:alert(1)' },
      ],
      reply_time: 'Usually replies in a few minutes',
    });
    await page.goto(ui.shop.page(shopPage(ui.h, tenant)));
    await widget(page).launcher.click();
    await page.locator('[data-parley="prechat"]').waitFor();
    await page.waitForTimeout(500);
    const w = widget(page);
    expect(await w.status.textContent()).toBe('Usually replies in a few minutes');
    expect(
      await page
        .locator('[data-parley="team"] img')
        .evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt'))),
    ).toEqual(['Dana']);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('sources: a compact "2 sources" row that opens to the links', async () => {
    const { page } = await ui.openShop(tenant, {}, PHONE);
    await openWidget(page, 'tap');
    await sendMessage(page, 'returns?');
    await botSays(await latestConversation(page), 'Within 60 days.', [
      { title: 'Returns policy', url: 'https://docs.example/returns' },
      { title: 'Shipping', url: 'https://docs.example/shipping' },
    ]);
    const reply = await waitForMessage(page, 'assistant', 'Within 60 days.');
    const summary = reply.locator('[data-parley="sources"] summary');
    expect(await summary.textContent()).toBe('2 sources');
    expect(await reply.locator('[data-parley="sources"] a').first().isVisible()).toBe(false);
    await summary.tap();
    await expect
      .poll(() => reply.locator('[data-parley="sources"] a').first().isVisible())
      .toBe(true);
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
  });

  it('keeps a message written while the conversation is being started, and "+" asks', async () => {
    const { page } = await ui.newPage();
    // The session answers only after the visitor has written, and the message is stored only
    // after the conversation was attached: the log must show it, as sending, all along.
    let answerSession!: () => void;
    const sessionHeld = new Promise<void>((resolve) => (answerSession = resolve));
    let storeMessage!: () => void;
    const messageHeld = new Promise<void>((resolve) => (storeMessage = resolve));
    await page.route(/\/functions\/v1\/chat\/sessions/, async (route) => {
      await sessionHeld;
      await route.continue();
    });
    await page.route(/\/functions\/v1\/chat\/messages$/, async (route) => {
      if (route.request().method() === 'POST') await messageHeld;
      await route.continue();
    });
    await page.goto(ui.shop.page(shopPage(ui.h, tenant)));
    const w = widget(page);
    await w.launcher.click();
    await w.input.waitFor({ state: 'visible' });
    await w.input.fill('written early');
    await w.send.click();
    await waitForMessage(page, 'user', 'written early');
    answerSession();
    // The conversation is stored as it is attached.
    const id = await latestConversation(page);
    expect(await w.byRole('user').count()).toBe(1);
    const confirm = page.locator('[data-parley="confirm-new"]');
    await w.newConversation.click();
    await confirm.waitFor();
    await page.locator('[data-parley="confirm-new-no"]').click();
    storeMessage();
    await expect
      .poll(() =>
        ui.h.db.asService(async (sql) => {
          const rows = await sql.query<{ n: number }>(
            `select count(*)::int as n from public.messages where conversation_id = $1 and role = 'user'`,
            [id],
          );
          return rows[0]?.n;
        }),
      )
      .toBe(1);
    expect(await w.byRole('user').count()).toBe(1);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('a message still on its way when the visitor starts anew is stored in, and shown with, its own conversation', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'first words');
    const first = await latestConversation(page);
    await waitForMessage(page, 'user', 'first words');
    let storeMessage!: () => void;
    const messageHeld = new Promise<void>((resolve) => (storeMessage = resolve));
    await page.route(/\/functions\/v1\/chat\/messages$/, async (route) => {
      if (route.request().method() === 'POST') await messageHeld;
      await route.continue();
    });
    const w = widget(page);
    await writeMessage(page, 'still on its way');
    await w.newConversation.click();
    await page.locator('[data-parley="confirm-new-yes"]').click();
    const second = await latestConversation(page, tenant, first);
    await expect.poll(() => w.byRole('user').count()).toBe(0);
    const answered = page.waitForResponse(
      (r) => r.url().endsWith('/chat/messages') && r.request().method() === 'POST',
    );
    storeMessage();
    await answered;
    const stored = await ui.h.db.asService((sql) =>
      sql.query<{ conversation_id: string }>(
        `select conversation_id from public.messages where content = 'still on its way'`,
      ),
    );
    expect(stored).toEqual([{ conversation_id: first }]);
    // The answer arrived after the new conversation was shown: the new log stays empty.
    for (let i = 0; i < 5; i++) {
      await page.waitForTimeout(100);
      expect(await w.byRole('user').count()).toBe(0);
    }
    expect(await latestConversation(page)).toBe(second);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('a message being retried when the visitor starts anew is retried into its own conversation', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'before the outage');
    const first = await latestConversation(page);
    const refused = await refuseNextSend(page);
    const w = widget(page);
    await writeMessage(page, 'during the outage');
    await expect.poll(refused).toBe(true);
    await w.newConversation.click();
    await page.locator('[data-parley="confirm-new-yes"]').click();
    const second = await latestConversation(page, tenant, first);
    const stored = () =>
      ui.h.db.asService((sql) =>
        sql.query<{ conversation_id: string }>(
          `select conversation_id from public.messages where content = 'during the outage'`,
        ),
      );
    await expect.poll(stored, { timeout: 10_000 }).toEqual([{ conversation_id: first }]);
    expect(await w.byRole('user').count()).toBe(0);
    expect(await latestConversation(page)).toBe(second);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('"+" asks before leaving a conversation the visitor wrote in', async () => {
    const { page } = await ui.openShop(tenant);
    await openWidget(page);
    await sendMessage(page, 'keep me');
    const first = await latestConversation(page);
    const w = widget(page);
    const confirm = page.locator('[data-parley="confirm-new"]');
    await w.newConversation.click();
    await confirm.waitFor();
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
    await page.locator('[data-parley="confirm-new-no"]').click();
    await confirm.waitFor({ state: 'detached' });
    expect(await latestConversation(page)).toBe(first);
    await waitForMessage(page, 'user', 'keep me');
    await w.newConversation.click();
    await page.locator('[data-parley="confirm-new-yes"]').click();
    expect(await latestConversation(page, tenant, first)).not.toBe(first);
    await expect.poll(() => w.byRole('user').count()).toBe(0);
  });
});
