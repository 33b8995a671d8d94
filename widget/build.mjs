// Builds the embeddable widget into widget/dist: the loader (widget.js, a classic script) and
// the app it imports on demand (parley-app.js, an ES module), minified, with source maps.
// PARLEY_SUPABASE_URL / PARLEY_SUPABASE_KEY bake in the project. Without a URL the widget talks to
// the origin that served widget.js (the local stack serves it on its own origin, on any port), and
// the key is the local stack's publishable key.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { localPublishableKey } from '../supabase/local/publishable-key.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// PARLEY_WIDGET_DIST builds elsewhere (the bundle test builds into a temporary directory).
const outdir = process.env.PARLEY_WIDGET_DIST || join(here, 'dist');

const supabaseUrl = (process.env.PARLEY_SUPABASE_URL || '').replace(/\/+$/, '');
const supabaseKey = process.env.PARLEY_SUPABASE_KEY || (await localPublishableKey());

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['es2022', 'chrome94', 'firefox93', 'safari15.4'],
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
  metafile: true,
  define: {
    __PARLEY_SUPABASE_URL__: JSON.stringify(supabaseUrl),
    __PARLEY_SUPABASE_KEY__: JSON.stringify(supabaseKey),
    'process.env.NODE_ENV': '"production"',
  },
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const results = await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: { widget: join(here, 'src/loader/index.ts') },
    format: 'iife',
    outdir,
  }),
  // Proactive greetings, which the loader fetches only for a tenant that has rules.
  esbuild.build({
    ...common,
    entryPoints: { 'parley-proactive': join(here, 'src/loader/proactive.ts') },
    format: 'esm',
    outdir,
  }),
  esbuild.build({
    ...common,
    entryPoints: { 'parley-app': join(here, 'src/app/main.tsx') },
    format: 'esm',
    // Each language's words are a chunk beside the app, fetched when a visitor uses it.
    splitting: true,
    chunkNames: 'parley-[name]-[hash]',
    outdir,
  }),
]);
if (process.argv.includes('--analyze')) await analyze();

/**
 * `--analyze`: writes esbuild's metafiles next to the build (meta-*.json, for esbuild's analyzer)
 * and prints each script's biggest modules: their minified bytes as esbuild emitted them, and
 * their share of the script's gzip -9 size (the script's compressed size split by those bytes).
 */
async function analyze() {
  const names = ['loader', 'proactive', 'app'];
  const outputs = [];
  for (const [i, { metafile }] of results.entries()) {
    await writeFile(join(outdir, `meta-${names[i]}.json`), JSON.stringify(metafile));
    outputs.push(...Object.entries(metafile.outputs).filter(([f]) => f.endsWith('.js')));
  }
  const size = (bytes) => `${bytes}`.padStart(7);
  const sized = await Promise.all(
    outputs.map(async ([file, output]) => {
      const gz = gzipSync(await readFile(file), { level: 9 }).length;
      return { file, output, gz };
    }),
  );
  for (const { file, output, gz } of sized.sort((a, b) => b.gz - a.gz)) {
    const emitted = Object.values(output.inputs).reduce((t, i) => t + i.bytesInOutput, 0) || 1;
    console.log(`${basename(file)}  ${size(output.bytes)} B by esbuild → ${size(gz)} B gzipped`);
    const modules = Object.entries(output.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .sort(([, a], [, b]) => b.bytesInOutput - a.bytesInOutput)
      .slice(0, 14);
    for (const [path, { bytesInOutput }] of modules) {
      console.log(
        `  ${size(bytesInOutput)} ${size(Math.round((gz * bytesInOutput) / emitted))}  ${path}`,
      );
    }
  }
}

console.log(
  `widget built into ${outdir} (Supabase: ${supabaseUrl || 'the origin serving widget.js'})`,
);
