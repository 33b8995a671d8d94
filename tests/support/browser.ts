import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import type { ChatHarness, TestTenant } from './chat.ts';
import { projectDir } from './stack.ts';

// The widget in a real browser: Debian's Chromium driven by playwright-core (no browser is ever
// downloaded), and a tiny HTTP server in the test process serving "shop" pages that embed the
// widget exactly as a tenant's site does — from the local stack's `/widget/widget.js`, on another
// origin than the stack, like any real embedder.
//
// Test files get the stack, the browser and the shop server from `useBrowserHarness`
// (browser-harness.ts); the helpers here drive the page:
//
//   const { page } = await ui.openShop(tenant, { locale: 'he' });
//   await openWidget(page);
//   await sendMessage(page, 'Where is my order?');
//   await waitForReply(page, 'on its way');
//
// Playwright's CSS locators pierce open shadow roots, so `page.locator('[data-parley="log"]')`
// finds the log inside `#parley-root`'s shadow root. `page.evaluate` does not: use `inShadow`.

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const WIDGET_BUILD = join(projectDir, 'widget', 'dist', 'widget.js');

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  }
  if (!existsSync(WIDGET_BUILD)) {
    throw new Error(`no widget build at ${WIDGET_BUILD}: run \`npm run build\` first`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Stable pixels for screenshots compared across pages.
      '--font-render-hinting=none',
      '--disable-lcd-text',
    ],
  });
}

/** A fresh visitor: its own storage, so its own anonymous Supabase user. */
export function newContext(browser: Browser, options: BrowserContextOptions = {}) {
  return browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    reducedMotion: 'reduce',
    ...options,
  });
}

// ---------------------------------------------------------------------------------------------
// Shop pages

export interface ShopPageOptions {
  /** `data-locale` */
  locale?: string;
  /** `data-open` (the attribute's value; `''` for a bare attribute). */
  open?: string;
  /** Any other attributes of the script tag, e.g. `{ 'data-position': 'left' }`. */
  attributes?: Record<string, string>;
  /** Extra CSS of the host page (a hostile stylesheet). */
  css?: string;
  /** `<html lang>` and `<html dir>` of the host page. */
  lang?: string;
  dir?: 'ltr' | 'rtl';
  title?: string;
  /** Leave the script tag out (a blank page, to embed the widget later with `embedWidget`). */
  withoutWidget?: boolean;
}

export interface WidgetEmbed {
  src: string;
  attributes: Record<string, string>;
}

/** The script tag's attributes for this stack and tenant. */
export function widgetEmbed(
  h: ChatHarness,
  tenant: TestTenant,
  options: ShopPageOptions = {},
): WidgetEmbed {
  const attributes: Record<string, string> = {
    'data-key': tenant.key,
    'data-supabase-url': h.stack.url,
    'data-supabase-key': h.stack.keys.anonKey,
  };
  if (options.locale !== undefined) attributes['data-locale'] = options.locale;
  if (options.open !== undefined) attributes['data-open'] = options.open;
  Object.assign(attributes, options.attributes ?? {});
  return { src: `${h.stack.url}/widget/widget.js`, attributes };
}

const escapeHtml = (value: string) =>
  value
    .replaceAll('&', '&amp;')
    .replaceAll('"', '&quot;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;');

/** A small, well-formed shop page embedding the widget as a tenant's site would. */
export function shopPage(h: ChatHarness, tenant: TestTenant, options: ShopPageOptions = {}) {
  const embed = widgetEmbed(h, tenant, options);
  const attributes = Object.entries(embed.attributes)
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('');
  const script = options.withoutWidget
    ? ''
    : `<script src="${escapeHtml(embed.src)}"${attributes} async></script>`;
  return `<!doctype html>
<html lang="${options.lang ?? 'en'}" dir="${options.dir ?? 'ltr'}">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(options.title ?? 'Test shop')}</title>
    <style>
      body { margin: 0; font-family: sans-serif; background: #fafafa; color: #222; }
      main { padding: 2rem; }
    </style>
    ${options.css ? `<style id="host-css">${options.css}</style>` : ''}
  </head>
  <body>
    <main>
      <h1>Test shop</h1>
      <p>Hiking boots, packs and jackets.</p>
      <div class="card"><button type="button">Add to cart</button></div>
    </main>
    ${script}
  </body>
</html>`;
}

/** A stylesheet that breaks every page-level assumption a widget could make. */
export const HOSTILE_CSS = `
* { all: unset !important; }
html { font-size: 40px !important; }
body { color: red !important; font-family: "Comic Sans MS", fantasy, serif !important;
  line-height: 3 !important; letter-spacing: 4px !important; word-spacing: 12px !important;
  text-transform: uppercase !important; font-style: italic !important; font-weight: 900 !important;
  text-align: right !important; white-space: pre !important; cursor: wait !important;
  background: #ff00ff !important; }
div, button { color: red !important; font-size: 40px !important; display: block !important;
  padding: 30px !important; margin: 30px !important; border: 5px dashed blue !important; }
button { background: lime !important; }
textarea, input { background: yellow !important; font-size: 40px !important; }
a { color: orange !important; text-decoration: line-through !important; }
p, span, ul, li, ol { display: block !important; font-size: 40px !important; }
[role="dialog"], [role="log"], [data-parley] { display: none !important; }
`;

export interface ShopServer {
  /** `http://127.0.0.1:<port>` — another origin than the stack's. */
  origin: string;
  /** Serves `html` at a new path; returns its URL. */
  page(html: string): string;
  close(): Promise<void>;
}

export async function startShopServer(): Promise<ShopServer> {
  const pages = new Map<string, string>();
  let next = 0;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const html = pages.get(path);
    if (req.method !== 'GET' || html === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    page(html) {
      const path = `/shop-${++next}.html`;
      pages.set(path, html);
      return `${origin}${path}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Inserts the widget's script tag into an already loaded page (as a tag manager would). */
export async function embedWidget(page: Page, embed: WidgetEmbed) {
  await page.evaluate(({ src, attributes }) => {
    const script = document.createElement('script');
    for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
    script.async = true;
    script.src = src;
    document.body.append(script);
  }, embed);
}

// ---------------------------------------------------------------------------------------------
// The widget's DOM (the contract: data-parley names inside the open shadow root of #parley-root)

export function widget(page: Page) {
  const part = (name: string) => page.locator(`[data-parley="${name}"]`);
  return {
    host: page.locator('#parley-root'),
    launcher: part('launcher'),
    badge: part('badge'),
    window: part('window'),
    status: part('status'),
    log: part('log'),
    messages: part('message'),
    byRole: (role: 'user' | 'assistant' | 'agent' | 'system') =>
      page.locator(`[data-parley="message"][data-role="${role}"]`),
    quickReplies: part('quick-reply'),
    sources: page.locator('[data-parley="sources"] a'),
    typing: part('typing'),
    partial: part('partial'),
    input: part('input'),
    send: part('send'),
    counter: part('counter'),
    human: part('human'),
    newConversation: part('new-conversation'),
    close: part('close'),
    csat: page.locator('[data-parley="csat"] button'),
  };
}

/** Runs `fn` in the page with the widget's shadow root (page.evaluate does not pierce it). */
export async function inShadow<R, A = undefined>(
  page: Page,
  fn: (root: ShadowRoot, arg: A) => R,
  arg?: A,
): Promise<R> {
  const root = await page.evaluateHandle(() => {
    const shadow = document.querySelector('#parley-root')?.shadowRoot;
    if (!shadow) throw new Error('no open shadow root on #parley-root');
    return shadow;
  });
  try {
    return (await root.evaluate(fn as (root: ShadowRoot, arg: unknown) => R, arg)) as R;
  } finally {
    await root.dispose();
  }
}

/** The data-parley name of the element focused inside the widget, or null. */
export function focusedPart(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const host = document.querySelector('#parley-root');
    if (!host || document.activeElement !== host) return null;
    return host.shadowRoot?.activeElement?.getAttribute('data-parley') ?? null;
  });
}

/** Loads a page and waits for the widget's launcher. */
export async function gotoShop(page: Page, url: string) {
  await page.goto(url);
  await widget(page).launcher.waitFor({ state: 'visible', timeout: 15_000 });
}

/**
 * Opens the widget and waits until it can take a message: by clicking (or tapping) the launcher
 * of a closed widget, or with `Parley.open()` (idempotent: for a widget that may reopen by itself).
 */
export async function openWidget(page: Page, via: 'click' | 'tap' | 'api' = 'click') {
  const w = widget(page);
  if (via === 'api') {
    await page.waitForFunction(() => 'Parley' in window);
    await page.evaluate(() => (window as unknown as { Parley: { open(): void } }).Parley.open());
  } else if (!(await w.window.isVisible())) {
    if (via === 'tap') await w.launcher.tap();
    else await w.launcher.click();
  }
  await w.window.waitFor({ state: 'visible', timeout: 15_000 });
  await w.input.waitFor({ state: 'visible', timeout: 15_000 });
  await expectEnabled(w.input, 15_000);
}

async function expectEnabled(locator: Locator, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await locator.isEnabled())) {
    if (Date.now() > deadline) throw new Error('the widget composer never became enabled');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Types a message in the composer and sends it with the send button; waits for it in the log. */
/**
 * The visitor's next message meets a passing outage: its first attempt is answered 503 (the
 * widget tries again a second later); every other request goes through. Returns whether it has
 * been refused yet.
 */
export async function refuseNextSend(page: Page): Promise<() => boolean> {
  let refused = false;
  await page.route(/\/functions\/v1\/chat\/messages$/, async (route) => {
    if (route.request().method() !== 'POST' || refused) return route.continue();
    refused = true;
    await route.fulfill({
      status: 503,
      json: { error: { code: 'unavailable', message: 'Try again shortly' } },
    });
  });
  return () => refused;
}

/** Sends `text` as the visitor and waits until the log shows it, stored or still on its way. */
export async function writeMessage(page: Page, text: string, via: 'button' | 'enter' = 'button') {
  const w = widget(page);
  await w.input.fill(text);
  if (via === 'button') await w.send.click();
  else await w.input.press('Enter');
  await waitForMessage(page, 'user', text);
}

/**
 * Sends `text` as the visitor and waits until the server has stored it. The log shows a message
 * at once, marked as sending, before its conversation may even exist; what a test does next on
 * the server side (a reply inserted into the latest conversation) needs the stored one.
 */
export async function sendMessage(page: Page, text: string, via: 'button' | 'enter' = 'button') {
  await writeMessage(page, text, via);
  await page
    .locator('[data-parley="message"][data-role="user"]:not([data-local])')
    .filter({ has: page.locator('[data-parley="content"]', { hasText: text }) })
    .last()
    .waitFor({ state: 'visible', timeout: 20_000 });
}

/** Waits for a message of `role` whose content includes `text`; returns its locator. */
export async function waitForMessage(
  page: Page,
  role: 'user' | 'assistant' | 'agent' | 'system',
  text: string,
  timeoutMs = 20_000,
): Promise<Locator> {
  const message = widget(page)
    .byRole(role)
    .filter({ has: page.locator('[data-parley="content"]', { hasText: text }) })
    .last();
  await message.waitFor({ state: 'visible', timeout: timeoutMs });
  return message;
}

/** Waits for the bot's reply that includes `text`. */
export function waitForReply(page: Page, text: string, timeoutMs = 20_000) {
  return waitForMessage(page, 'assistant', text, timeoutMs);
}

export interface RenderedMessage {
  id: string | null;
  role: string | null;
  dir: string | null;
  text: string;
}

/** Every message in the log, in order, as the visitor sees it. */
export function renderedMessages(page: Page): Promise<RenderedMessage[]> {
  return inShadow(page, (root) =>
    [...root.querySelectorAll('[data-parley="message"]')].map((m) => ({
      id: m.getAttribute('data-id'),
      role: m.getAttribute('data-role'),
      dir: m.getAttribute('dir'),
      text: (m.querySelector('[data-parley="content"]')?.textContent ?? '').trim(),
    })),
  );
}

/** Page errors and console errors, to print when a test fails; each also goes to every `also`. */
export function recordProblems(page: Page, ...also: string[][]): string[] {
  const problems: string[] = [];
  const record = (problem: string) => {
    for (const list of [problems, ...also]) list.push(problem);
  };
  page.on('pageerror', (error) => record(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') {
      record(`console: ${message.text()} (${message.location().url || 'page'})`);
    }
  });
  return problems;
}

export async function closeContexts(contexts: BrowserContext[]) {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
}
