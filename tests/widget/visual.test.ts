import { join } from 'node:path';
import type { BrowserContextOptions } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { RICH_TOOL } from '../../functions/_shared/agent/rich-tool.ts';
import { openWidget, sendMessage, waitForReply, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';
import { compareScreenshot, UPDATE_SCREENSHOTS } from '../support/visual.ts';

// The open window pictured in fixed states — desktop and a 390×844 phone, light and dark, English
// and Hebrew — and compared with the baselines in tests/widget/baselines/ (see support/visual.ts
// for what is forgiven). A change meant to alter the look is committed with new baselines:
// PARLEY_UPDATE_SCREENSHOTS=1 npx vitest run tests/widget/visual.test.ts
//
// Kept still for the camera: the host page sets DejaVu Sans (Debian's default sans-serif, with
// Hebrew; the generic family where it is missing), motion is reduced and CSS animations are
// finished, the caret is hidden, the pointer is parked in a corner, and message times (the
// server's clock) are masked.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
const BASELINES = join(import.meta.dirname, 'baselines');

beforeAll(async () => {
  tenant = await createTenant(ui.h, {
    llm: 'openai',
    botConfig: { greeting: { en: 'Hi! How can we help?', he: 'שלום! איך אפשר לעזור?' } },
  });
}, 120_000);

const SCREENS: Record<string, BrowserContextOptions> = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
};

const WORDS = {
  en: {
    question: 'Which tent is lightest?',
    answer: 'The **Trail 2P** weighs 1.9 kg. It packs small.',
    card: { title: 'Trail 2P tent', text: 'Two people, 1.9 kg', button: 'See the tent' },
    more: 'Compare tents',
  },
  he: {
    question: 'איזה אוהל הכי קל?',
    answer: 'האוהל **Trail 2P** שוקל 1.9 ק״ג. הוא נארז קטן.',
    card: { title: 'אוהל Trail 2P', text: 'לשני אנשים, 1.9 ק״ג', button: 'לאוהל' },
    more: 'השוואת אוהלים',
  },
} as const;

const STATES = Object.keys(SCREENS).flatMap((screen) =>
  (['light', 'dark'] as const).flatMap((scheme) =>
    (['en', 'he'] as const).map((locale) => ({ screen, scheme, locale })),
  ),
);

type State = (typeof STATES)[number];

/** The open window in `state`, after a question answered with text, a card and a button. */
async function picture({ screen, scheme, locale }: State, attributes: Record<string, string> = {}) {
  const words = WORDS[locale];
  const { page, problems } = await ui.openShop(
    tenant,
    { locale, attributes, css: 'html,body{font-family:"DejaVu Sans",sans-serif}' },
    { ...SCREENS[screen], deviceScaleFactor: 1, colorScheme: scheme, reducedMotion: 'reduce' },
  );
  const w = widget(page);
  await openWidget(page, screen === 'phone' ? 'tap' : 'click');
  ui.h.llm.script({
    text: words.answer,
    toolCalls: [
      {
        name: RICH_TOOL,
        arguments: {
          cards: [
            {
              title: words.card.title,
              text: words.card.text,
              buttons: [{ label: words.card.button, url: 'https://shop.example/tent' }],
            },
          ],
          buttons: [{ label: words.more, payload: words.more }],
        },
      },
    ],
  });
  await sendMessage(page, words.question);
  const reply = await waitForReply(page, '1.9');
  await reply.locator('[data-parley="card"]').waitFor({ state: 'visible', timeout: 15_000 });
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  // The log scrolls to the newest message once the card has its height.
  await page.waitForTimeout(400);
  const png = await w.window.screenshot({
    animations: 'disabled',
    caret: 'hide',
    mask: [w.window.locator('time')],
    maskColor: '#808080',
  });
  expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  return png;
}

const MAX_RATIO = 0.03;
const baseline = ({ screen, scheme, locale }: State) =>
  join(BASELINES, `${screen}-${scheme}-${locale}.png`);

describe('the widget looks as it did', () => {
  it.each(STATES)('$screen, $scheme, $locale', async (state) => {
    const result = compareScreenshot(baseline(state), await picture(state), {
      maxRatio: MAX_RATIO,
    });
    const name = `${state.screen}-${state.scheme}-${state.locale}`;
    console.info(`${name}: ${(result.ratio * 100).toFixed(2)} % of pixels differ`);
    if (result.written) console.info(`${name}: actual and diff in ${result.written}`);
    if (!UPDATE_SCREENSHOTS) {
      expect(result.ratio, `${name}: share of pixels that differ`).toBeLessThanOrEqual(MAX_RATIO);
    }
  });

  it.skipIf(UPDATE_SCREENSHOTS)('a change of look is noticed: another brand colour', async () => {
    const state = STATES[0] as State;
    const result = compareScreenshot(
      baseline(state),
      await picture(state, { 'data-color': '#b91c1c' }),
      { maxRatio: MAX_RATIO },
    );
    expect(result.ratio).toBeGreaterThan(MAX_RATIO);
  });
});
