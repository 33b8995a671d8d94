import type { WebSocketRoute } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gotoShop,
  openWidget,
  renderedMessages,
  sendMessage,
  shopPage,
  waitForMessage,
  waitForReply,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Realtime goes away (the websocket is dropped and every reconnect refused): the widget says it is
// offline, keeps the conversation going by polling GET /chat/messages, and when Realtime comes
// back it says so again — with every message shown exactly once.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
}, 120_000);

describe('when Realtime drops', () => {
  it('shows offline, polls for replies, recovers, and shows no message twice', async () => {
    const { page, problems } = await ui.newPage();

    // Every Realtime websocket goes through here: passed to the stack while `blocked` is false,
    // refused (opened and closed at once) while it is true.
    let blocked = false;
    let refused = 0;
    const live = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();
    await page.routeWebSocket(/\/realtime\/v1\/websocket/, (ws) => {
      if (blocked) {
        refused++;
        void ws.close({ code: 1011, reason: 'realtime unavailable (test)' });
        return;
      }
      const server = ws.connectToServer();
      const pair = { page: ws, server };
      live.add(pair);
      ws.onClose((code, reason) => {
        live.delete(pair);
        void server.close({ code, reason });
      });
      server.onClose((code, reason) => {
        live.delete(pair);
        void ws.close({ code, reason });
      });
    });
    const polls: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'GET' && /\/functions\/v1\/chat\/messages\?/.test(request.url())) {
        polls.push(request.url());
      }
    });

    await gotoShop(page, ui.shop.page(shopPage(ui.h, tenant)));
    await openWidget(page);
    const w = widget(page);
    await expect
      .poll(() => w.status.getAttribute('data-state'), { timeout: 15_000 })
      .toBe('online');
    expect(live.size).toBeGreaterThan(0);

    ui.h.llm.script({ text: 'Before the outage: ALPHA-1.' });
    await sendMessage(page, 'First question, before the outage');
    await waitForReply(page, 'ALPHA-1');

    // Drop Realtime.
    blocked = true;
    for (const pair of [...live]) {
      await pair.server.close({ code: 1001, reason: 'going away (test)' });
      await pair.page.close({ code: 1001, reason: 'going away (test)' }).catch(() => {});
    }
    await expect
      .poll(() => w.status.getAttribute('data-state'), { timeout: 20_000 })
      .toBe('offline');
    const pollsBefore = polls.length;

    // Replies still come, through polling.
    ui.h.llm.script({ text: 'During the outage: BRAVO-2.' });
    await sendMessage(page, 'Second question, during the outage');
    await waitForReply(page, 'BRAVO-2', 30_000);
    expect(polls.length).toBeGreaterThan(pollsBefore);
    expect(refused).toBeGreaterThan(0); // it kept trying to reconnect
    expect(await w.status.getAttribute('data-state')).toBe('offline');

    // Restore: the widget reconnects by itself and says so.
    blocked = false;
    await expect
      .poll(() => w.status.getAttribute('data-state'), { timeout: 40_000, interval: 250 })
      .toBe('online');
    expect(live.size).toBeGreaterThan(0);

    ui.h.llm.script({ text: 'After the outage: CHARLIE-3.' });
    await sendMessage(page, 'Third question, after the outage');
    await waitForReply(page, 'CHARLIE-3');
    await waitForMessage(page, 'assistant', 'BRAVO-2');

    // Let any late poll or replay land, then count.
    await page.waitForTimeout(3_000);
    const messages = await renderedMessages(page);
    const texts = messages.map((m) => m.text);
    for (const text of [
      'First question, before the outage',
      'Before the outage: ALPHA-1.',
      'Second question, during the outage',
      'During the outage: BRAVO-2.',
      'Third question, after the outage',
      'After the outage: CHARLIE-3.',
    ]) {
      expect(
        texts.filter((t) => t === text),
        `"${text}" in ${JSON.stringify(texts)}`,
      ).toHaveLength(1);
    }
    const ids = messages.map((m) => m.id);
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // In order: each question before its answer.
    const order = [
      'First question',
      'ALPHA-1',
      'Second question',
      'BRAVO-2',
      'Third question',
      'CHARLIE-3',
    ].map((needle) => texts.findIndex((t) => t.includes(needle)));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });
});
