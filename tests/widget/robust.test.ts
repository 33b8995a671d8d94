import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  inShadow,
  openWidget,
  sendMessage,
  shopPage,
  waitForMessage,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant } from '../support/chat.ts';

// The widget on pages and data it does not control: tenant settings of the wrong type, a message
// whose parts are not what they should be, a page that already uses the widget's element id or
// patches the built-ins the Realtime socket serializes with, and a strict Content Security Policy.

const ui = useBrowserHarness();

describe('the widget on data and pages it does not control', () => {
  it('opens with a greeting that is a list and quick starts that are an object', async () => {
    const tenant = await createTenant(ui.h, { llm: null });
    const { page, problems } = await ui.newPage();
    // Whatever the database allows today, the widget takes the function's answer as it comes.
    await page.route(/\/functions\/v1\/chat\/(config|sessions)/, async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      const config = json.config ?? json;
      Object.assign(config, {
        greeting: ['Hello there.', 'Ask me anything.'],
        quick_starts: { weird: { nested: true } },
        name: 42,
        team: 'nobody',
        prechat_form: { enabled: 'yes', fields: 'name' },
      });
      await route.fulfill({ response, json });
    });
    await page.goto(ui.shop.page(shopPage(ui.h, tenant)));
    await openWidget(page);
    const w = widget(page);
    await expect
      .poll(() => page.locator('[data-parley="greeting"]').textContent())
      .toContain('Ask me anything.');
    expect(await w.quickReplies.count()).toBe(0);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('keeps the log when a message has parts of the wrong type, also after a reload', async () => {
    const tenant = await createTenant(ui.h, { llm: null });
    const { page } = await ui.newPage();
    const [broken, fine] = [crypto.randomUUID(), crypto.randomUUID()];
    const at = new Date().toISOString();
    await page.route(/\/functions\/v1\/chat\/messages\?/, async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      json.messages = [
        ...(json.messages ?? []),
        {
          id: broken,
          role: 'assistant',
          content: 'Broken parts',
          created_at: at,
          sources: [
            { title: { bad: true }, url: 7 },
            { title: 'Returns', url: 'https://docs.example/r' },
          ],
          quick_replies: { not: 'a list' },
          author: 'staff',
          feedback: { up: 1 },
        },
        { id: 'x', role: 'assistant', content: { text: 'not text' }, created_at: at },
        { id: fine, role: 'assistant', content: 'Still here', created_at: at },
      ];
      await route.fulfill({ response, json });
    });
    await page.goto(ui.shop.page(shopPage(ui.h, tenant)));
    await openWidget(page);
    await sendMessage(page, 'hello');
    await page.reload();
    await openWidget(page);
    await waitForMessage(page, 'assistant', 'Broken parts');
    await waitForMessage(page, 'assistant', 'Still here');
    const titles = await inShadow(page, (root) =>
      [...root.querySelectorAll('[data-parley="sources"] a')].map((a) => a.textContent),
    );
    expect(titles).toEqual(['Returns']);
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('a message that cannot be drawn is left out alone, the rest of the log stays', async () => {
    const tenant = await createTenant(ui.h, { llm: null });
    // Something in drawing one message throws (here the page's patched Date, for one date).
    const patch = `<script>
      const toISO = Date.prototype.toISOString;
      Date.prototype.toISOString = function () {
        if (this.getUTCFullYear() === 2001) throw new Error('not this one');
        return toISO.call(this);
      };
    </script>`;
    const html = shopPage(ui.h, tenant).replace('</head>', `${patch}</head>`);
    const { page } = await ui.newPage();
    const [cursed, fine] = [crypto.randomUUID(), crypto.randomUUID()];
    await page.route(/\/functions\/v1\/chat\/messages\?/, async (route) => {
      const response = await route.fetch();
      const json = await response.json();
      json.messages = [
        ...(json.messages ?? []),
        { id: cursed, role: 'assistant', content: 'Cursed', created_at: '2001-01-01T00:00:00Z' },
        {
          id: fine,
          role: 'assistant',
          content: 'Drawn fine',
          created_at: new Date().toISOString(),
        },
      ];
      await route.fulfill({ response, json });
    });
    await page.goto(ui.shop.page(html));
    await openWidget(page);
    await sendMessage(page, 'hello');
    // Stored (it has the server's id) before the reload, so history brings it back.
    await page.locator('[data-parley="message"][data-role="user"][data-id]').waitFor();
    await page.reload();
    await openWidget(page);
    await waitForMessage(page, 'assistant', 'Drawn fine');
    await waitForMessage(page, 'user', 'hello');
    expect(await widget(page).byRole('assistant').filter({ hasText: 'Cursed' }).count()).toBe(0);
    // The log still takes new messages.
    await sendMessage(page, 'still here');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('starts beside an element of the page that already has its id', async () => {
    const tenant = await createTenant(ui.h, { llm: null });
    const html = shopPage(ui.h, tenant).replace(
      '<main>',
      '<div id="parley-root">the page’s own element</div><main>',
    );
    const { page } = await ui.newPage();
    await page.goto(ui.shop.page(html));
    await widget(page).launcher.waitFor({ state: 'visible', timeout: 15_000 });
    await openWidget(page);
    expect(await page.locator('#parley-root').first().textContent()).toBe('the page’s own element');
  });

  it('keeps its Realtime socket on a page that patches Array.prototype.toJSON', async () => {
    const tenant = await createTenant(ui.h, { llm: null });
    // Prototype.js: every array serializes as a JSON string of itself.
    const patch =
      '<script>Array.prototype.toJSON = function () { return JSON.stringify(this.slice()); };</script>';
    const html = shopPage(ui.h, tenant).replace('</head>', `${patch}</head>`);
    const { page, problems } = await ui.newPage();
    await page.goto(ui.shop.page(html));
    await openWidget(page);
    await expect
      .poll(() => widget(page).status.getAttribute('data-state'), { timeout: 15_000 })
      .toBe('online');
    await sendMessage(page, 'still connected?');
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });

  it('works under a strict CSP: style-src self and Trusted Types required', async () => {
    const tenant = await createTenant(ui.h, { llm: null });
    const stack = new URL(ui.h.stack.url);
    const csp = [
      "default-src 'none'",
      `script-src ${stack.origin}`,
      `connect-src ${stack.origin} ws://${stack.host}`,
      "style-src 'self'",
      `img-src ${stack.origin} https: data:`,
      "require-trusted-types-for 'script'",
      "trusted-types 'none'",
    ].join('; ');
    // The page's own inline styles go too, so any violation reported is the widget's.
    const html = shopPage(ui.h, tenant).replace(/<style[\s\S]*?<\/style>/g, '');
    // Served with the policy as a real response header, as a site would send it.
    const server = createServer((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': csp,
      });
      res.end(html);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const { page, problems } = await ui.newPage();
    await page.addInitScript(() => {
      (window as unknown as { violations: string[] }).violations = [];
      document.addEventListener('securitypolicyviolation', (event) =>
        (window as unknown as { violations: string[] }).violations.push(
          `${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`,
        ),
      );
    });
    await page.goto(url);
    const w = widget(page);
    await w.launcher.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await w.launcher.evaluate((el) => getComputedStyle(el).width)).toBe('56px');
    await openWidget(page);
    expect(await w.window.evaluate((el) => getComputedStyle(el).position)).toBe('fixed');
    await expect
      .poll(() => w.status.getAttribute('data-state'), { timeout: 15_000 })
      .toBe('online');
    await sendMessage(page, 'under a strict policy');
    expect(
      await page.evaluate(() => (window as unknown as { violations: string[] }).violations),
    ).toEqual([]);
    expect(problems).toEqual([]);
    server.closeAllConnections();
    server.close();
  });
});
