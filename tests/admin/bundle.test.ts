import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AdminBundle,
  FIRST_LOAD_BUDGET,
  readAdminBundle,
  TOTAL_BUDGET,
} from '../support/admin-bundle.ts';

// The admin's production build, as the browser gets it: what the first load holds, that each
// heavy library sits in the one page that needs it, that no module is shipped twice, and that the
// source maps still lead back to the sources after both minifiers, and that the whole admin stays
// within its budget. (Each page's and chunk's size is printed by `npm run bench:admin`.)

const projectDir = join(import.meta.dirname, '..', '..');
let dist: string;
let bundle: AdminBundle;

beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), 'parley-admin-'));
  await promisify(execFile)('node', [join(projectDir, 'admin', 'build.mjs')], {
    env: { ...process.env, PARLEY_ADMIN_DIST: dist },
  });
  bundle = await readAdminBundle(dist);
});

afterAll(async () => {
  if (dist) await rm(dist, { recursive: true, force: true });
});

/** The chunks holding a source whose path contains `part`. */
const holding = (part: string) =>
  [...bundle.chunks.values()].filter((c) => c.sources.some((s) => s.includes(part)));

const pageChunk = (id: string) => {
  const page = bundle.pages.find((p) => p.id === id);
  if (!page) throw new Error(`no lazily loaded page ${id}`);
  return page.chunk;
};

describe('admin bundle', () => {
  it('loads the shell as the entry and one chunk, within the first-load budget', () => {
    expect(bundle.initial.size).toBeLessThanOrEqual(2);
    const shell = [...bundle.initial].flatMap((name) => bundle.chunks.get(name)?.sources ?? []);
    for (const part of [
      'node_modules/preact/',
      '/admin/src/data/auth.ts',
      'node_modules/@supabase/postgrest-js/',
      'node_modules/@supabase/realtime-js/',
      '/admin/src/pages/inbox/index.tsx',
    ]) {
      expect(
        shell.some((s) => s.includes(part)),
        part,
      ).toBe(true);
    }
    expect(bundle.firstLoad).toBeLessThanOrEqual(FIRST_LOAD_BUDGET);
  });

  it('keeps the whole admin, every script once and the style, within its budget', () => {
    expect(bundle.total).toBeLessThanOrEqual(TOTAL_BUDGET);
  });

  it('ships every module once, and no Supabase client the admin does not use or replaces', () => {
    const seen = new Map<string, string>();
    const twice: string[] = [];
    for (const chunk of bundle.chunks.values()) {
      for (const source of chunk.sources) {
        if (seen.has(source)) twice.push(`${source} in ${seen.get(source)} and ${chunk.name}`);
        seen.set(source, chunk.name);
      }
    }
    expect(twice).toEqual([]);
    // auth-js is one class carrying every Auth feature; the staff session is data/auth.ts.
    for (const unused of ['supabase-js/', 'functions-js/', 'storage-js/', 'auth-js/']) {
      expect(holding(`node_modules/@supabase/${unused}`), unused).toEqual([]);
    }
  });

  it('keeps uPlot in the analytics page and the JSON-schema validator in the tools page', () => {
    for (const [library, page] of [
      ['node_modules/uplot/', 'analytics'],
      ['node_modules/@cfworker/json-schema/', 'tools'],
    ] as const) {
      const chunks = holding(library).map((c) => c.name);
      expect(chunks, library).toHaveLength(1);
      expect(bundle.initial.has(chunks[0] as string), library).toBe(false);
      expect(bundle.graph(pageChunk(page)).has(chunks[0] as string), library).toBe(true);
    }
  });

  it('writes Hebrew as UTF-8, and its source maps lead back to the sources', async () => {
    const shell = await Promise.all(
      [...bundle.initial].map((name) => readFile(join(dist, name), 'utf8')),
    );
    expect(shell.some((code) => code.includes('עברית'))).toBe(true);

    for (const [needle, source] of [
      ['parley-admin-auth', 'src/data/client.ts'],
      ['u-legend', 'node_modules/uplot/'],
    ] as const) {
      const file = await findFile(needle);
      const code = await readFile(join(dist, file), 'utf8');
      const before = code.slice(0, code.indexOf(needle)).split('\n');
      const map = new SourceMap(JSON.parse(await readFile(join(dist, `${file}.map`), 'utf8')));
      const entry = map.findEntry(before.length - 1, (before.at(-1) ?? '').length);
      expect('originalSource' in entry ? entry.originalSource : '', needle).toContain(source);
    }
  });
});

async function findFile(needle: string): Promise<string> {
  for (const name of bundle.chunks.keys()) {
    if ((await readFile(join(dist, name), 'utf8')).includes(needle)) return name;
  }
  throw new Error(`no chunk holds ${needle}`);
}
