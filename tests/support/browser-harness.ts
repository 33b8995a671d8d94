import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  closeContexts,
  gotoShop,
  launchBrowser,
  newContext,
  recordProblems,
  type ShopPageOptions,
  type ShopServer,
  shopPage,
  startShopServer,
} from './browser.ts';
import { type ChatHarness, startChatHarness, type TestTenant } from './chat.ts';

// One browser-test file's world: the local stack with the fake LLM (a chat harness), Chromium, and
// a shop server on another origin, started once for the file and torn down after it. Every
// context a test opens is closed after that test, the fake LLM's script is reset, and the page
// errors and console errors of its pages are printed when it fails.
//
//   const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
//   let tenant: TestTenant;
//   beforeAll(async () => { tenant = await createTenant(ui.h, { llm: 'openai' }); });
//
//   it('answers', async () => {
//     const { page } = await ui.openShop(tenant);
//     ...
//   });
//
// Register it first in the file, so the stack and the browser are up before the file's own
// beforeAll runs. The admin SPA is served by the same stack (`${ui.h.stack.url}/admin/`).

export interface BrowserHarnessOptions {
  /** The local stack's environment, over the chat harness's defaults. */
  env?: Record<string, string>;
}

export interface Visit {
  /** A fresh context: its own storage, so its own anonymous visitor. */
  context: BrowserContext;
  page: Page;
  /** This page's page errors and console errors, as they happen. */
  problems: string[];
}

export interface BrowserHarness {
  /** The stack, its database, the fake LLM and the tool receiver. */
  readonly h: ChatHarness;
  readonly browser: Browser;
  readonly shop: ShopServer;
  /** Page errors and console errors of every page the running test opened. */
  readonly problems: string[];
  /** A fresh context, closed after the test. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** A new page in `context`, or in a fresh context made with these options. */
  newPage(context?: BrowserContext | BrowserContextOptions): Promise<Visit>;
  /** A new page in a fresh context on a shop page embedding `tenant`'s widget, launcher shown. */
  openShop(
    tenant: TestTenant,
    page?: ShopPageOptions,
    context?: BrowserContextOptions,
  ): Promise<Visit>;
}

/** Registers the file's hooks and returns the harness; its parts exist from the first hook on. */
export function useBrowserHarness(options: BrowserHarnessOptions = {}): BrowserHarness {
  let h: ChatHarness | undefined;
  let browser: Browser | undefined;
  let shop: ShopServer | undefined;
  const contexts: BrowserContext[] = [];
  let problems: string[] = [];

  const started = <T>(part: T | undefined, name: string): T => {
    if (part === undefined) throw new Error(`the browser harness's ${name} is not started yet`);
    return part;
  };

  beforeAll(async () => {
    [h, browser, shop] = await Promise.all([
      startChatHarness(options.env),
      launchBrowser(),
      startShopServer(),
    ]);
  }, 120_000);

  afterEach((context) => {
    h?.llm.reset();
    if (context.task.result?.state === 'fail' && problems.length > 0) {
      console.error(`browser problems during "${context.task.name}":\n${problems.join('\n')}`);
    }
    problems = [];
    return closeContexts(contexts);
  });

  afterAll(async () => {
    await closeContexts(contexts);
    await browser?.close();
    await shop?.close();
    await h?.close();
  });

  const harness: BrowserHarness = {
    get h() {
      return started(h, 'stack');
    },
    get browser() {
      return started(browser, 'browser');
    },
    get shop() {
      return started(shop, 'shop server');
    },
    get problems() {
      return problems;
    },
    async newContext(contextOptions = {}) {
      const context = await newContext(harness.browser, contextOptions);
      contexts.push(context);
      return context;
    },
    async newPage(contextOrOptions = {}) {
      const context = isContext(contextOrOptions)
        ? contextOrOptions
        : await harness.newContext(contextOrOptions);
      const page = await context.newPage();
      return { context, page, problems: recordProblems(page, problems) };
    },
    async openShop(tenant, pageOptions = {}, contextOptions = {}) {
      const visit = await harness.newPage(contextOptions);
      await gotoShop(visit.page, harness.shop.page(shopPage(harness.h, tenant, pageOptions)));
      return visit;
    },
  };
  return harness;
}

function isContext(value: BrowserContext | BrowserContextOptions): value is BrowserContext {
  return typeof (value as BrowserContext).newPage === 'function';
}
