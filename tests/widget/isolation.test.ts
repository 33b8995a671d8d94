import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  embedWidget,
  HOSTILE_CSS,
  openWidget,
  shopPage,
  widget,
  widgetEmbed,
} from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The widget lives in its own world: a host page's CSS, however hostile, does not change how it
// looks, and it leaves the host page as it found it (no global CSS, no globals but window.Parley).

const ui = useBrowserHarness();
let tenant: TestTenant;
const shots = mkdtempSync(join(tmpdir(), 'parley-isolation-'));

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: 'openai' });
}, 120_000);

/** Opens the widget on a page and returns an element screenshot of its window. */
async function windowShot(name: string, css?: string) {
  const { page, problems } = await ui.openShop(tenant, css ? { css } : {});
  await openWidget(page);
  const w = widget(page);
  await expect.poll(() => w.status.getAttribute('data-state'), { timeout: 15_000 }).toBe('online');
  await page.mouse.move(0, 0);
  await page.evaluate(() => document.fonts.ready);
  await page.waitForTimeout(300);
  const box = await w.window.boundingBox();
  const png = await w.window.screenshot({ animations: 'disabled', caret: 'hide' });
  const path = join(shots, `${name}.png`);
  writeFileSync(path, png);
  return { png, box, path, problems };
}

/** Share of pixels that differ by more than a little anti-aliasing, and a diff image. */
function pixelDiff(a: Buffer, b: Buffer) {
  const left = PNG.sync.read(a);
  const right = PNG.sync.read(b);
  if (left.width !== right.width || left.height !== right.height) {
    return {
      ratio: 1,
      note: `sizes differ: ${left.width}×${left.height} vs ${right.width}×${right.height}`,
      image: null,
    };
  }
  const diff = new PNG({ width: left.width, height: left.height });
  let differing = 0;
  for (let i = 0; i < left.data.length; i += 4) {
    let delta = 0;
    for (let c = 0; c < 4; c++) {
      delta = Math.max(delta, Math.abs((left.data[i + c] ?? 0) - (right.data[i + c] ?? 0)));
    }
    const differs = delta > 24;
    if (differs) differing++;
    diff.data[i] = differs ? 255 : (left.data[i] ?? 0) >> 2;
    diff.data[i + 1] = differs ? 0 : (left.data[i + 1] ?? 0) >> 2;
    diff.data[i + 2] = differs ? 0 : (left.data[i + 2] ?? 0) >> 2;
    diff.data[i + 3] = 255;
  }
  return {
    ratio: differing / (left.width * left.height),
    note: `${differing} of ${left.width * left.height} pixels differ`,
    image: PNG.sync.write(diff),
  };
}

describe('style isolation', () => {
  it('looks the same on a page with hostile CSS as on a plain page', async () => {
    const plain = await windowShot('plain');
    const hostile = await windowShot('hostile', HOSTILE_CSS);
    expect(plain.problems, plain.problems.join('\n')).toEqual([]);
    expect(hostile.problems, hostile.problems.join('\n')).toEqual([]);

    // Same place, same size…
    expect(plain.box).not.toBeNull();
    expect(hostile.box).not.toBeNull();
    for (const key of ['x', 'y', 'width', 'height'] as const) {
      expect(
        Math.abs((plain.box?.[key] ?? 0) - (hostile.box?.[key] ?? 0)),
        `window ${key}: plain ${JSON.stringify(plain.box)}, hostile ${JSON.stringify(hostile.box)}`,
      ).toBeLessThanOrEqual(1);
    }
    expect(plain.box?.width ?? 0).toBeGreaterThan(200);
    expect(plain.box?.height ?? 0).toBeGreaterThan(200);

    // …and the same pixels, within anti-aliasing.
    const { ratio, note, image } = pixelDiff(plain.png, hostile.png);
    const diffPath = join(shots, 'diff.png');
    if (image) writeFileSync(diffPath, image);
    expect(ratio, `${note}; see ${plain.path}, ${hostile.path}, ${diffPath}`).toBeLessThan(0.01);
  });

  it('the launcher is not restyled by the host page either', async () => {
    const boxes = [];
    for (const css of [undefined, HOSTILE_CSS]) {
      const { page } = await ui.openShop(tenant, css ? { css } : {});
      const launcher = widget(page).launcher;
      boxes.push(await launcher.boundingBox());
      const style = await launcher.evaluate((el) => {
        const s = getComputedStyle(el);
        return { font: s.fontSize, bg: s.backgroundColor, border: s.borderTopStyle };
      });
      boxes.push(style);
    }
    expect(boxes[2]).toEqual(boxes[0]);
    expect(boxes[3]).toEqual(boxes[1]);
  });
});

describe('the host page is left alone', () => {
  it('adds no global CSS, no globals but window.Parley, and only its own host element', async () => {
    const { page, problems } = await ui.newPage();
    await page.goto(ui.shop.page(shopPage(ui.h, tenant, { withoutWidget: true })));

    const snapshot = () =>
      page.evaluate(() => ({
        keys: Object.keys(window),
        styleSheets: document.styleSheets.length,
        adopted: document.adoptedStyleSheets.length,
        styleElements: document.querySelectorAll('style, link[rel~="stylesheet"]').length,
        fonts: document.fonts.size,
        head: document.head.innerHTML,
        htmlAttributes: [...document.documentElement.attributes].map((a) => `${a.name}=${a.value}`),
        bodyAttributes: [...document.body.attributes].map((a) => `${a.name}=${a.value}`),
        bodyChildren: [...document.body.children]
          .filter((e) => e.tagName !== 'SCRIPT')
          .map((e) => e.id || e.tagName),
      }));
    const before = await snapshot();
    await embedWidget(page, widgetEmbed(ui.h, tenant));
    await widget(page).launcher.waitFor({ state: 'visible', timeout: 15_000 });
    // Opening loads the rest of the widget; it must not leak either.
    await openWidget(page);
    await expect
      .poll(() => widget(page).status.getAttribute('data-state'), { timeout: 15_000 })
      .toBe('online');
    await page.evaluate(() => (window as unknown as { Parley: { close(): void } }).Parley.close());
    await widget(page).window.waitFor({ state: 'hidden' });
    const after = await snapshot();

    expect(after.keys.filter((k) => !before.keys.includes(k))).toEqual(['Parley']);
    expect(after.styleSheets).toBe(before.styleSheets);
    expect(after.adopted).toBe(before.adopted);
    expect(after.styleElements).toBe(before.styleElements);
    expect(after.fonts).toBe(before.fonts);
    expect(after.head).toBe(before.head);
    expect(after.htmlAttributes).toEqual(before.htmlAttributes);
    expect(after.bodyAttributes).toEqual(before.bodyAttributes);
    expect(after.bodyChildren).toEqual([...before.bodyChildren, 'parley-root']);
    expect(problems).toEqual([]);

    // An open shadow root, and the JS API of the contract.
    expect(await page.evaluate(() => !!document.querySelector('#parley-root')?.shadowRoot)).toBe(
      true,
    );
    const api = await page.evaluate(() =>
      Object.fromEntries(
        ['open', 'close', 'toggle', 'identify', 'on', 'setLocale'].map((name) => [
          name,
          typeof (window as unknown as { Parley: Record<string, unknown> }).Parley[name],
        ]),
      ),
    );
    expect(api).toEqual({
      open: 'function',
      close: 'function',
      toggle: 'function',
      identify: 'function',
      on: 'function',
      setLocale: 'function',
    });
    await page.evaluate(() =>
      (window as unknown as { Parley: { toggle(): void } }).Parley.toggle(),
    );
    await widget(page).window.waitFor({ state: 'visible' });
    await page.evaluate(() =>
      (window as unknown as { Parley: { toggle(): void } }).Parley.toggle(),
    );
    await widget(page).window.waitFor({ state: 'hidden' });
  });
});
