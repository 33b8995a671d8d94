import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openWidget, sendMessage, waitForReply, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Layout, not pixels: on a phone the open widget fills the screen; in Hebrew it is right-to-left.
// Screenshots are kept in a temporary folder (printed) for a person to look at.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
const shots = mkdtempSync(join(tmpdir(), 'parley-screenshots-'));

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
  console.info(`widget screenshots: ${shots}`);
}, 120_000);

function save(name: string, png: Buffer) {
  const path = join(shots, `${name}.png`);
  writeFileSync(path, png);
  expect(statSync(path).size).toBeGreaterThan(1000);
  const { width, height } = PNG.sync.read(png);
  return { path, width, height };
}

const HEBREW = /[\u0590-\u05FF]/;

describe('layout', () => {
  it('on a phone (390×844) the open widget fills the screen', async () => {
    const viewport = { width: 390, height: 844 };
    const { page, problems } = await ui.openShop(
      tenant,
      {},
      { viewport, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    );
    const w = widget(page);

    // Closed: a launcher inside the screen, big enough to tap.
    const launcher = await w.launcher.boundingBox();
    expect(launcher).not.toBeNull();
    if (launcher) {
      expect(launcher.width).toBeGreaterThanOrEqual(44);
      expect(launcher.height).toBeGreaterThanOrEqual(44);
      expect(launcher.x).toBeGreaterThanOrEqual(0);
      expect(launcher.y).toBeGreaterThanOrEqual(0);
      expect(launcher.x + launcher.width).toBeLessThanOrEqual(viewport.width);
      expect(launcher.y + launcher.height).toBeLessThanOrEqual(viewport.height);
    }
    const closed = save('mobile-closed', await page.screenshot({ animations: 'disabled' }));
    expect([closed.width, closed.height]).toEqual([viewport.width * 2, viewport.height * 2]);

    await openWidget(page, 'tap');
    ui.h.llm.script({ text: 'A reply that fits on a phone: OSPREY.' });
    await sendMessage(page, 'Does this fit on my phone?');
    await waitForReply(page, 'OSPREY');
    await page.waitForTimeout(300);

    const box = await w.window.boundingBox();
    expect(box).not.toBeNull();
    if (box) {
      expect(Math.abs(box.x)).toBeLessThanOrEqual(2);
      expect(Math.abs(box.y)).toBeLessThanOrEqual(2);
      expect(Math.abs(box.width - viewport.width)).toBeLessThanOrEqual(2);
      expect(Math.abs(box.height - viewport.height)).toBeLessThanOrEqual(2);
    }
    // The composer and the close button are on screen.
    for (const part of [w.input, w.send, w.close]) {
      const b = await part.boundingBox();
      expect(b).not.toBeNull();
      if (b) {
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.y).toBeGreaterThanOrEqual(0);
        expect(b.x + b.width).toBeLessThanOrEqual(viewport.width + 1);
        expect(b.y + b.height).toBeLessThanOrEqual(viewport.height + 1);
      }
    }
    // Nothing wider than the screen.
    expect(
      await w.window.evaluate((el) => el.scrollWidth <= el.clientWidth + 1),
      'the window scrolls sideways',
    ).toBe(true);

    const open = save('mobile-open', await page.screenshot({ animations: 'disabled' }));
    expect([open.width, open.height]).toEqual([viewport.width * 2, viewport.height * 2]);
    const shot = save('mobile-window', await w.window.screenshot({ animations: 'disabled' }));
    expect(Math.abs(shot.width - viewport.width * 2)).toBeLessThanOrEqual(4);
    expect(Math.abs(shot.height - viewport.height * 2)).toBeLessThanOrEqual(4);
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });

  it('in Hebrew (data-locale="he") the widget is right-to-left and speaks Hebrew', async () => {
    const { page, problems } = await ui.openShop(tenant, { locale: 'he' });
    const w = widget(page);
    await openWidget(page);

    expect(await w.window.getAttribute('dir')).toBe('rtl');
    expect(await w.window.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    const labels = [
      await w.launcher.getAttribute('aria-label'),
      await w.input.getAttribute('placeholder'),
      await w.input.getAttribute('aria-label'),
      await w.send.getAttribute('aria-label'),
      await w.close.getAttribute('aria-label'),
    ].join(' ');
    expect(labels, 'the widget’s own words are Hebrew').toMatch(HEBREW);

    ui.h.llm.script({ text: 'ההזמנה שלך נשלחה היום. מספר מעקב: TH-5501.' });
    await sendMessage(page, 'איפה ההזמנה שלי?');
    const reply = await waitForReply(page, 'TH-5501');
    const user = w.byRole('user').last();
    for (const message of [user, reply]) {
      expect(await message.getAttribute('dir')).toMatch(/^(rtl|auto)$/);
      expect(
        await message
          .locator('[data-parley="content"]')
          .evaluate((el) => getComputedStyle(el).direction),
      ).toBe('rtl');
    }

    // The input sits on the visual row with the send button: in RTL the send button is to its left.
    const input = await w.input.boundingBox();
    const send = await w.send.boundingBox();
    expect(input && send && send.x + send.width <= input.x + 1).toBe(true);

    const win = await w.window.boundingBox();
    const shot = save('rtl-window', await w.window.screenshot({ animations: 'disabled' }));
    expect(win).not.toBeNull();
    if (win) {
      expect(Math.abs(shot.width - win.width)).toBeLessThanOrEqual(2);
      expect(Math.abs(shot.height - win.height)).toBeLessThanOrEqual(2);
      // A floating window on a desktop, inside the viewport.
      expect(win.width).toBeLessThan(1280);
      expect(win.x).toBeGreaterThanOrEqual(0);
      expect(win.y).toBeGreaterThanOrEqual(0);
      expect(win.x + win.width).toBeLessThanOrEqual(1280);
      expect(win.y + win.height).toBeLessThanOrEqual(800);
    }
    save('rtl-page', await page.screenshot({ animations: 'disabled' }));
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });

  it('Parley.setLocale switches direction live; English is left-to-right', async () => {
    const { page } = await ui.openShop(tenant, { locale: 'en', dir: 'rtl', lang: 'ar' });
    const w = widget(page);
    await openWidget(page);
    // English on a right-to-left page is still left-to-right.
    expect(await w.window.evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
    await page.evaluate(() =>
      (window as unknown as { Parley: { setLocale(l: string): void } }).Parley.setLocale('he'),
    );
    await expect.poll(() => w.window.getAttribute('dir')).toBe('rtl');
    await page.evaluate(() =>
      (window as unknown as { Parley: { setLocale(l: string): void } }).Parley.setLocale('en'),
    );
    await expect.poll(() => w.window.evaluate((el) => getComputedStyle(el).direction)).toBe('ltr');
  });
});
