import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PNG } from 'pngjs';

// Screenshots compared with committed baselines. Fonts come from the machine (generic sans-serif),
// so the comparison forgives what differs between two Debian machines and nothing a person would
// notice as a change of layout: colours within a small perceptual distance, and a pixel that
// matches one of its neighbours in the other picture (anti-aliasing, glyph edges off by a pixel).
// What remains is counted; a picture differs when more than `maxRatio` of its pixels do.
//
// PARLEY_UPDATE_SCREENSHOTS=1 writes the baselines instead of comparing (then commit them).

export const UPDATE_SCREENSHOTS = process.env.PARLEY_UPDATE_SCREENSHOTS === '1';

export interface Comparison {
  /** Share of pixels that differ beyond the tolerances, 0–1. */
  ratio: number;
  /** Where the actual picture and a diff (differing pixels in red) were written, when they differ. */
  written: string | null;
  updated: boolean;
}

// YIQ distance as perceptual colour difference; 35215 is the largest possible value.
const MAX_YIQ = 35215;

function yiq(a: Uint8Array, i: number, b: Uint8Array, j: number) {
  // Blend on white first: transparent pixels compare by what is seen.
  const blend = (c: number, alpha: number) => 255 + ((c - 255) * alpha) / 255;
  const [r1, g1, b1] = [0, 1, 2].map((k) => blend(a[i + k] as number, a[i + 3] as number));
  const [r2, g2, b2] = [0, 1, 2].map((k) => blend(b[j + k] as number, b[j + 3] as number));
  const dr = (r1 as number) - (r2 as number);
  const dg = (g1 as number) - (g2 as number);
  const db = (b1 as number) - (b2 as number);
  const y = dr * 0.29889531 + dg * 0.58662247 + db * 0.11448223;
  const iq = dr * 0.59597799 - dg * 0.2741761 - db * 0.32180189;
  const q = dr * 0.21147017 - dg * 0.52261711 + db * 0.31114694;
  return 0.5053 * y * y + 0.299 * iq * iq + 0.1957 * q * q;
}

/** Whether pixel (x, y) of `a` has a look-alike within one pixel of (x, y) in `b`. */
function nearMatch(a: PNG, b: PNG, x: number, y: number, limit: number) {
  const i = (y * a.width + x) * 4;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= b.width || ny >= b.height) continue;
      if (yiq(a.data, i, b.data, (ny * b.width + nx) * 4) <= limit) return true;
    }
  }
  return false;
}

/** Compares `png` with the baseline `path` (written instead under PARLEY_UPDATE_SCREENSHOTS=1). */
export function compareScreenshot(
  path: string,
  png: Buffer,
  { threshold = 0.15, maxRatio = 0.03 }: { threshold?: number; maxRatio?: number } = {},
): Comparison {
  if (UPDATE_SCREENSHOTS) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, png);
    return { ratio: 0, written: null, updated: true };
  }
  if (!existsSync(path)) {
    throw new Error(`no baseline ${path}: run with PARLEY_UPDATE_SCREENSHOTS=1 and commit it`);
  }
  const expected = PNG.sync.read(readFileSync(path));
  const actual = PNG.sync.read(png);
  const limit = MAX_YIQ * threshold * threshold;
  let differing = 0;
  let ratio = 1;
  const diff = new PNG({ width: actual.width, height: actual.height });
  if (expected.width === actual.width && expected.height === actual.height) {
    for (let y = 0; y < actual.height; y++) {
      for (let x = 0; x < actual.width; x++) {
        const i = (y * actual.width + x) * 4;
        const same =
          yiq(actual.data, i, expected.data, i) <= limit ||
          (nearMatch(actual, expected, x, y, limit) && nearMatch(expected, actual, x, y, limit));
        if (!same) differing++;
        diff.data.set(same ? [235, 235, 235, 255] : [255, 0, 0, 255], i);
      }
    }
    ratio = differing / (actual.width * actual.height);
  }
  let written: string | null = null;
  if (ratio > maxRatio) {
    written = mkdtempSync(join(tmpdir(), 'parley-visual-'));
    const name = path.replace(/^.*\//, '').replace(/\.png$/, '');
    writeFileSync(join(written, `${name}.actual.png`), png);
    writeFileSync(join(written, `${name}.diff.png`), PNG.sync.write(diff));
  }
  return { ratio, written, updated: false };
}
