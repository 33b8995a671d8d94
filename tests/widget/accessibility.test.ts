import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gotoShop,
  openWidget,
  sendMessage,
  shopPage,
  waitForReply,
  widget,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';

// axe-core, injected into the page, finds no violations in the widget — closed (the launcher)
// and open with a conversation (messages, quick replies, sources, composer) — in light and dark,
// left-to-right English and right-to-left Hebrew.

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, {
    llm: 'openai',
    documents: [
      {
        title: 'Shipping',
        content:
          '# Shipping\n\nStandard shipping takes 3 to 5 business days. Express shipping takes 1 to 2 business days.',
      },
    ],
  });
  await runWorker(ui.h);
}, 120_000);

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe over the widget (its host and shadow tree); returns the violations, readable. */
async function axeViolations(page: Page): Promise<Violation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async () => {
    type AxeResult = {
      passes: { id: string; nodes: unknown[] }[];
      violations: {
        id: string;
        impact: string | null;
        help: string;
        nodes: { target: unknown[]; failureSummary?: string }[];
      }[];
    };
    const axe = (window as unknown as { axe: { run(context: Element): Promise<AxeResult> } }).axe;
    const host = document.querySelector('#parley-root');
    if (!host) throw new Error('no #parley-root');
    const result = await axe.run(host);
    // axe must have looked inside the shadow root: the widget's buttons were checked for names.
    const named = result.passes.find((p) => p.id === 'button-name')?.nodes.length ?? 0;
    if (named === 0) throw new Error('axe checked no button inside the widget');
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ''}`),
    }));
  });
}

const CASES = [
  {
    name: 'en, light',
    colorScheme: 'light',
    locale: 'en',
    question: 'How long does shipping take?',
    answer: 'Standard shipping takes 3 to 5 business days.',
  },
  {
    name: 'en, dark',
    colorScheme: 'dark',
    locale: 'en',
    question: 'How long does standard shipping take?',
    answer: 'Standard shipping takes 3 to 5 business days, express 1 to 2.',
  },
  {
    name: 'he, light',
    colorScheme: 'light',
    locale: 'he',
    question: 'כמה זמן לוקח משלוח?',
    answer: 'משלוח רגיל לוקח 3 עד 5 ימי עסקים.',
  },
  {
    name: 'he, dark',
    colorScheme: 'dark',
    locale: 'he',
    question: 'כמה זמן לוקח משלוח רגיל?',
    answer: 'משלוח רגיל לוקח 3 עד 5 ימי עסקים, אקספרס 1 עד 2.',
  },
] as const;

describe('accessibility (axe-core)', () => {
  for (const c of CASES) {
    it(`no violations: ${c.name}`, async () => {
      const { page } = await ui.newPage({ colorScheme: c.colorScheme });
      await page.emulateMedia({ colorScheme: c.colorScheme, reducedMotion: 'reduce' });
      const rtl = c.locale === 'he';
      await gotoShop(
        page,
        ui.shop.page(
          shopPage(ui.h, tenant, {
            locale: c.locale,
            lang: c.locale,
            dir: rtl ? 'rtl' : 'ltr',
            title: rtl ? 'חנות לדוגמה' : 'Test shop',
          }),
        ),
      );

      // Closed: the launcher alone.
      expect(await axeViolations(page), 'closed').toEqual([]);

      // Open, with a conversation: messages, quick replies, sources, composer.
      await openWidget(page);
      ui.h.llm.script({
        text: `${c.answer} <quick_replies>["${rtl ? 'מעקב אחר הזמנה' : 'Track my order'}", "${rtl ? 'משלוח אקספרס' : 'Express options'}"]</quick_replies>`,
      });
      await sendMessage(page, c.question);
      await waitForReply(page, c.answer);
      await expect.poll(() => widget(page).quickReplies.count()).toBe(2);
      await widget(page).input.fill(rtl ? 'טיוטה' : 'A draft');
      await page.waitForTimeout(300);
      expect(await axeViolations(page), 'open').toEqual([]);
    });
  }
});
