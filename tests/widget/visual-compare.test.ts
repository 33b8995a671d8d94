import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { compareScreenshot, UPDATE_SCREENSHOTS } from '../support/visual.ts';

// What the screenshot comparison forgives and what it does not, on pictures drawn here: a text
// stroke moved by one pixel or a slightly different grey passes; a block of another colour or a
// different size does not.

const dir = mkdtempSync(join(tmpdir(), 'parley-visual-test-'));

/** A 100×100 white picture with a dark 1-pixel vertical stroke at `strokeX` and optional block. */
function draw(
  strokeX: number,
  { grey = 30, block = 0, width = 100 }: { grey?: number; block?: number; width?: number } = {},
) {
  const png = new PNG({ width, height: 100 });
  for (let y = 0; y < 100; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const dark = x === strokeX || (x < block && y < block);
      const v = dark ? grey : 255;
      png.data.set([x < block && y < block ? 200 : v, v, v, 255], i);
    }
  }
  return PNG.sync.write(png);
}

describe.skipIf(UPDATE_SCREENSHOTS)('screenshot comparison', () => {
  const base = join(dir, 'base.png');
  writeFileSync(base, draw(50));

  it('passes the same picture, a stroke one pixel over and a near grey', () => {
    expect(compareScreenshot(base, draw(50)).ratio).toBe(0);
    expect(compareScreenshot(base, draw(51)).ratio).toBe(0);
    expect(compareScreenshot(base, draw(50, { grey: 40 })).ratio).toBe(0);
  });

  it('counts a block of another colour and refuses another size', () => {
    const changed = compareScreenshot(base, draw(50, { block: 30 }), { maxRatio: 0.03 });
    expect(changed.ratio).toBeCloseTo(0.09, 2);
    expect(changed.written).not.toBeNull();
    expect(compareScreenshot(base, draw(50, { width: 101 })).ratio).toBe(1);
  });

  it('asks for a baseline that is not there', () => {
    expect(() => compareScreenshot(join(dir, 'missing.png'), draw(50))).toThrow(
      /PARLEY_UPDATE_SCREENSHOTS=1/,
    );
  });
});
