import { beforeAll, describe, expect, it } from 'vitest';
import {
  focusedPart,
  gotoShop,
  openWidget,
  renderedMessages,
  sendMessage,
  shopPage,
  waitForMessage,
  waitForReply,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness, type Visit } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';

// A visitor's conversation in a real Chromium: the widget embedded in a shop page on another
// origin, talking to the local stack; the bot's model is the fake LLM.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let url: string;

beforeAll(async () => {
  tenant = await createTenant(ui.h, {
    llm: 'openai',
    documents: [
      {
        title: 'Shipping',
        content:
          '# Shipping\n\n## Delivery times\n\nStandard shipping takes 3 to 5 business days. Express shipping takes 1 to 2 business days.',
      },
    ],
  });
  await runWorker(ui.h);
  url = ui.shop.page(shopPage(ui.h, tenant));
}, 120_000);

async function visitor(): Promise<Visit> {
  const visit = await ui.newPage();
  await gotoShop(visit.page, url);
  return visit;
}

describe('a conversation in the widget', () => {
  it('opens from the launcher, sends, and the bot reply arrives over Realtime', async () => {
    const { page } = await visitor();
    const w = widget(page);
    expect(await w.launcher.getAttribute('aria-label')).toBeTruthy();
    expect(await w.window.isVisible()).toBe(false);

    await openWidget(page);
    expect(await w.window.getAttribute('role')).toBe('dialog');
    expect(await w.log.getAttribute('role')).toBe('log');
    await expect
      .poll(() => w.status.getAttribute('data-state'), { timeout: 15_000 })
      .toBe('online');

    // Watch for the typing indicator or the partial reply while the model streams.
    await page.evaluate(() => {
      const seen = { typing: false, partial: false };
      (window as unknown as { __seen: typeof seen }).__seen = seen;
      const timer = setInterval(() => {
        const root = document.querySelector('#parley-root')?.shadowRoot;
        if (root?.querySelector('[data-parley="typing"]')) seen.typing = true;
        if (root?.querySelector('[data-parley="partial"]')) seen.partial = true;
      }, 10);
      setTimeout(() => clearInterval(timer), 20_000);
    });
    ui.h.llm.script({
      text: 'Your parcel ZEBRA-7731 left our warehouse this morning and arrives on Friday.',
      chunkDelayMs: 60,
    });
    await sendMessage(page, 'Where is my parcel?');
    const userMessage = await waitForMessage(page, 'user', 'Where is my parcel?');
    // Shown at once, before the server has stored it; it gets its id once stored.
    await expect.poll(() => userMessage.getAttribute('data-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await userMessage.getAttribute('dir')).toBeTruthy();
    expect(await w.input.inputValue()).toBe('');

    const reply = await waitForReply(page, 'ZEBRA-7731');
    expect(await reply.getAttribute('data-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await reply.getAttribute('dir')).toBeTruthy();
    const seen = await page.evaluate(
      () => (window as unknown as { __seen: { typing: boolean; partial: boolean } }).__seen,
    );
    expect(seen.typing || seen.partial).toBe(true);

    // The model saw the visitor's words, and the reply is shown once, complete.
    expect(ui.h.llm.lastRequest()?.lastUserText).toContain('Where is my parcel?');
    const messages = await renderedMessages(page);
    const replies = messages.filter((m) => m.role === 'assistant' && m.text.includes('ZEBRA'));
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toBe(
      'Your parcel ZEBRA-7731 left our warehouse this morning and arrives on Friday.',
    );
    await expect.poll(() => w.partial.count()).toBe(0);
    await expect.poll(() => w.typing.count()).toBe(0);
    const ids = messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps the conversation across a reload, and a second tab shows and follows it', async () => {
    const { context, page } = await visitor();
    await openWidget(page);
    ui.h.llm.script({ text: 'The KESTREL jacket comes in three sizes.' });
    await sendMessage(page, 'Which sizes does the jacket come in?');
    await waitForReply(page, 'KESTREL');

    await page.reload();
    await widget(page).launcher.waitFor({ state: 'visible', timeout: 15_000 });
    await openWidget(page, 'api');
    await waitForMessage(page, 'user', 'Which sizes does the jacket come in?');
    await waitForReply(page, 'KESTREL');
    const afterReload = await renderedMessages(page);
    expect(afterReload.filter((m) => m.text.includes('KESTREL'))).toHaveLength(1);
    expect(afterReload.filter((m) => m.text.includes('Which sizes'))).toHaveLength(1);

    // Same visitor (same storage), second tab: the same conversation.
    const { page: second } = await ui.newPage(context);
    await gotoShop(second, url);
    await openWidget(second, 'api');
    await waitForMessage(second, 'user', 'Which sizes does the jacket come in?');
    await waitForReply(second, 'KESTREL');

    // What one tab sends, the other sees, live.
    await expect
      .poll(() => widget(page).status.getAttribute('data-state'), { timeout: 15_000 })
      .toBe('online');
    ui.h.llm.script({ text: 'Yes, the PLOVER pack fits a 15 inch laptop.' });
    await sendMessage(second, 'Does the pack fit a laptop?');
    await waitForReply(second, 'PLOVER');
    await waitForMessage(page, 'user', 'Does the pack fit a laptop?');
    await waitForReply(page, 'PLOVER');

    const first = await renderedMessages(page);
    const other = await renderedMessages(second);
    const summary = (list: typeof first) =>
      list.filter((m) => m.role === 'user' || m.role === 'assistant').map((m) => [m.role, m.text]);
    expect(summary(first)).toEqual(summary(other));
    expect(first.filter((m) => m.text.includes('PLOVER'))).toHaveLength(1);
  });

  it('renders quick replies and sources; a quick reply sends its text', async () => {
    const { page } = await visitor();
    await openWidget(page);
    ui.h.llm.script({
      text: 'Standard shipping takes 3 to 5 business days. <quick_replies>["Track my order", "Express options"]</quick_replies>',
    });
    await sendMessage(page, 'How long does shipping take?');
    const reply = await waitForReply(page, 'Standard shipping takes 3 to 5 business days.');
    expect(await reply.locator('[data-parley="content"]').textContent()).not.toContain(
      'quick_replies',
    );

    const w = widget(page);
    await expect
      .poll(() => w.quickReplies.allTextContents())
      .toEqual(['Track my order', 'Express options']);
    const sources = reply.locator('[data-parley="sources"] a');
    await expect.poll(() => sources.count()).toBeGreaterThan(0);
    const links = await sources.evaluateAll((anchors) =>
      anchors.map((a) => ({
        text: a.textContent?.trim() ?? '',
        href: a.getAttribute('href'),
        rel: a.getAttribute('rel') ?? '',
      })),
    );
    expect(links).toContainEqual(
      expect.objectContaining({ text: expect.stringContaining('Shipping') }),
    );
    for (const link of links) {
      expect(link.href).toMatch(/^https:\/\/docs\.example\//);
      expect(link.rel).toContain('noopener');
    }

    ui.h.llm.script({ text: 'Your order TH-4242 ships tomorrow.' });
    await w.quickReplies.filter({ hasText: 'Track my order' }).click();
    await waitForMessage(page, 'user', 'Track my order');
    await waitForReply(page, 'TH-4242');
    expect(ui.h.llm.lastRequest()?.lastUserText).toContain('Track my order');
  });

  it('Enter sends, Shift+Enter adds a line, Esc closes and gives focus back to the launcher', async () => {
    const { page } = await visitor();
    const w = widget(page);
    await openWidget(page);
    // Opening moves focus into the dialog.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('parley-root');
    await expect.poll(() => focusedPart(page)).not.toBe('launcher');

    ui.h.llm.script({ text: 'Noted both lines, ORIOLE.' });
    await w.input.click();
    await w.input.pressSequentially('first line');
    await w.input.press('Shift+Enter');
    await w.input.pressSequentially('second line');
    expect(await w.input.inputValue()).toBe('first line\nsecond line');
    expect(await w.byRole('user').count()).toBe(0);

    await w.input.press('Enter');
    const sent = await waitForMessage(page, 'user', 'second line');
    // As rendered (a <br> or pre-wrap both count as a line break), so innerText, not textContent.
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
    const text = (await sent.locator('[data-parley="content"]').innerText()).trim();
    expect(text).toMatch(/^first line\s*\nsecond line$/);
    expect(await w.input.inputValue()).toBe('');
    await waitForReply(page, 'ORIOLE');
    expect(ui.h.llm.lastRequest()?.lastUserText).toContain('first line\nsecond line');

    // Enter on an empty composer sends nothing.
    await w.input.press('Enter');
    await page.waitForTimeout(300);
    expect(await w.byRole('user').count()).toBe(1);

    await w.input.press('Escape');
    await w.window.waitFor({ state: 'hidden' });
    await expect.poll(() => focusedPart(page)).toBe('launcher');
    expect(await w.launcher.getAttribute('aria-expanded')).not.toBe('true');
  });
});
