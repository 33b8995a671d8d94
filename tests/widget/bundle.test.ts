import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The widget's production build, as a host page gets it: the loader every page view pays for,
// the app fetched when the window opens, and the parts fetched only when used, each outside the
// app. (Each script's size is printed by `npm run bench:widget`; `node widget/build.mjs --analyze`
// says what weighs in each.)

const LOADER_BUDGET = 6 * 1024;
const APP_BUDGET = 40 * 1024;

const projectDir = join(import.meta.dirname, '..', '..');
let dist: string;
/** Each script's gzip -9 size and the widget sources its source map names. */
const scripts = new Map<string, { gz: number; sources: string[] }>();

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'parley-widget-'));
  await promisify(execFile)('node', [join(projectDir, 'widget', 'build.mjs')], {
    env: { ...process.env, PARLEY_WIDGET_DIST: dist },
  });
  for (const name of await readdir(dist)) {
    if (!name.endsWith('.js')) continue;
    const map = JSON.parse(await readFile(join(dist, `${name}.map`), 'utf8')) as {
      sources: string[];
    };
    scripts.set(name, {
      gz: gzipSync(await readFile(join(dist, name)), { level: 9 }).length,
      sources: map.sources.map((s) => s.replace(/^.*?widget\/src\//, '')),
    });
  }
}, 120_000);

afterAll(async () => {
  if (dist) await rm(dist, { recursive: true, force: true });
});

const script = (name: string) => {
  const found = scripts.get(name);
  if (!found) throw new Error(`no ${name} in the build`);
  return found;
};

/** The scripts other than the app holding `source`. */
const chunksOf = (source: string) =>
  [...scripts]
    .filter(([name, s]) => name !== 'parley-app.js' && s.sources.includes(source))
    .map(([name]) => name);

describe('widget bundle', () => {
  it('keeps the loader within 6 KB gzipped', () => {
    expect(script('widget.js').gz).toBeLessThanOrEqual(LOADER_BUDGET);
  });

  it('keeps the app the window opens with within 40 KB gzipped', () => {
    expect(script('parley-app.js').gz).toBeLessThanOrEqual(APP_BUDGET);
  });

  it('leaves attachments, emoji, rich cards, proactive messages and the rarer parts out of the app', () => {
    const app = script('parley-app.js').sources;
    for (const source of [
      'app/ui/attach.ts',
      'app/ui/emoji.ts',
      'app/ui/rich.ts',
      'loader/proactive.ts',
      'app/ui/transcript.ts',
      'app/ui/history.ts',
      'app/ui/prechat.ts',
      'app/ui/csat.ts',
    ]) {
      expect(app, source).not.toContain(source);
      expect(chunksOf(source), source).toHaveLength(1);
    }
    expect(app).toContain('app/ui/window.tsx');
  });

  it('imports no chunk statically from the app: the window opens with one request', async () => {
    const code = await readFile(join(dist, 'parley-app.js'), 'utf8');
    expect(code).not.toMatch(/\bimport\s*(?:[^"'()]*?from\s*)?["']\.\/[^"']+\.js["']/);
  });
});
