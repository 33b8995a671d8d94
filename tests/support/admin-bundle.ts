import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

// Reads a built admin (admin/build.mjs's output) the way a browser meets it: index.html's script
// and stylesheet, the chunks each script imports statically, the pages' lazily loaded chunks, and
// what every chunk holds according to its source map. The bundle-size test asserts on it and
// `npm run bench:admin` prints it.

export const FIRST_LOAD_BUDGET = 80 * 1024;
export const TOTAL_BUDGET = 150 * 1024;

export interface Chunk {
  name: string;
  raw: number;
  /** gzip -9, as a static host or CDN would serve it. */
  gz: number;
  /** The source files in it, absolute paths. */
  sources: string[];
  /** Characters of source each of them brought (sourcesContent), to say what weighs. */
  weights: number[];
}

export interface AdminBundle {
  chunks: Map<string, Chunk>;
  script: string;
  style: { name: string; raw: number; gz: number } | null;
  /** The entry script and every chunk it imports statically: the first load. */
  initial: Set<string>;
  /** Each page of the page table with its lazily loaded chunk. */
  pages: { id: string; chunk: string }[];
  /** A chunk and every chunk it imports statically, transitively. */
  graph(chunk: string): Set<string>;
  /** gzip bytes of the first load (scripts and style), and of every file once. */
  firstLoad: number;
  total: number;
}

const gz = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).length;

export async function readAdminBundle(dist: string): Promise<AdminBundle> {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const script = /<script[^>]+src="\.\/([^"]+)"/.exec(html)?.[1];
  const styleName = /<link[^>]+href="\.\/([^"]+\.css)"/.exec(html)?.[1];
  if (!script) throw new Error('index.html loads no script');

  const chunks = new Map<string, Chunk>();
  const code = new Map<string, string>();
  for (const name of await readdir(dist)) {
    if (!name.endsWith('.js')) continue;
    const bytes = await readFile(join(dist, name));
    code.set(name, bytes.toString());
    const map = JSON.parse(await readFile(join(dist, `${name}.map`), 'utf8')) as {
      sources: string[];
      sourcesContent?: (string | null)[];
    };
    // Maps name their sources relative to themselves; one source may be named twice.
    const weights = new Map<string, number>();
    map.sources.forEach((source, i) => {
      const path = resolve(dist, source);
      weights.set(path, (weights.get(path) ?? 0) + (map.sourcesContent?.[i]?.length ?? 0));
    });
    chunks.set(name, {
      name,
      raw: bytes.length,
      gz: gz(bytes),
      sources: [...weights.keys()],
      weights: [...weights.values()],
    });
  }

  const graph = (entry: string, seen = new Set<string>()): Set<string> => {
    if (seen.has(entry)) return seen;
    seen.add(entry);
    // esbuild's output: static imports are `import … from"./x.js"` / `import"./x.js"`, dynamic
    // ones are `import("./x.js")` and are left for later.
    for (const match of (code.get(entry) ?? '').matchAll(
      /\bimport\s*(?:[^"'()]*?from\s*)?["']\.\/([^"']+\.js)["']/g,
    )) {
      if (match[1]) graph(match[1], seen);
    }
    return seen;
  };
  const initial = graph(script);

  // The page table in the first load: {id:"…",…,load:()=>import("./x.js")}.
  const pages: AdminBundle['pages'] = [];
  for (const file of initial) {
    for (const match of (code.get(file) ?? '').matchAll(
      /\{id:"([\w-]+)"[^{}]*?load:\(\)=>import\("\.\/([^"]+\.js)"\)/g,
    )) {
      pages.push({ id: match[1] as string, chunk: match[2] as string });
    }
  }

  const css = styleName ? await readFile(join(dist, styleName)) : null;
  const style = styleName && css ? { name: styleName, raw: css.length, gz: gz(css) } : null;
  const sum = (names: Iterable<string>) =>
    [...names].reduce((total, name) => total + (chunks.get(name)?.gz ?? 0), 0);
  return {
    chunks,
    script,
    style,
    initial,
    pages,
    graph: (chunk) => graph(chunk),
    firstLoad: sum(initial) + (style?.gz ?? 0),
    total: sum(chunks.keys()) + (style?.gz ?? 0),
  };
}

/** What a chunk holds: its packages and the admin's folders, biggest first. */
export function contents(chunk: Chunk, most = 4): string {
  const weight = new Map<string, number>();
  chunk.sources.forEach((source, i) => {
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source)?.[1];
    const name =
      pkg ??
      source
        .replace(/^.*?\/(admin\/src|widget\/src)\//, (_, dir) =>
          dir === 'widget/src' ? 'widget/' : '',
        )
        .replace(/\/[^/]+$/, '/');
    weight.set(name, (weight.get(name) ?? 0) + (chunk.weights[i] ?? 0));
  });
  const names = [...weight].sort((a, b) => b[1] - a[1]).map(([name]) => name);
  if (!names.length) return '(re-exports a module of another chunk)';
  return names.length > most
    ? `${names.slice(0, most).join(', ')} +${names.length - most}`
    : names.join(', ');
}
