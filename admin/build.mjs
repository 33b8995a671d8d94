// Builds the admin SPA into admin/dist: index.html plus content-hashed, minified ES modules and CSS
// with source maps — static files that any host can serve. PARLEY_SUPABASE_URL /
// PARLEY_SUPABASE_KEY bake in the project; without a URL the SPA talks to the origin that served
// it (the local stack serves it at /admin/), and the key defaults to the local stack's publishable
// key. A config.json next to index.html overrides both at deploy time.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { localPublishableKey } from '../supabase/local/publishable-key.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'dist');

const supabaseUrl = (process.env.PARLEY_SUPABASE_URL || '').replace(/\/+$/, '');
const supabaseKey = process.env.PARLEY_SUPABASE_KEY || (await localPublishableKey());

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

const result = await esbuild.build({
  entryPoints: { main: join(here, 'src/main.tsx') },
  bundle: true,
  splitting: true,
  format: 'esm',
  minify: true,
  sourcemap: true,
  metafile: true,
  outdir,
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  assetNames: '[name]-[hash]',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
  define: {
    __PARLEY_SUPABASE_URL__: JSON.stringify(supabaseUrl),
    __PARLEY_SUPABASE_KEY__: JSON.stringify(supabaseKey),
    'process.env.NODE_ENV': '"production"',
  },
});

const entry = Object.entries(result.metafile.outputs).find(
  ([, output]) =>
    output.entryPoint?.endsWith('src/main.tsx') && !output.entryPoint.endsWith('.map'),
);
if (!entry) throw new Error('esbuild produced no entry for src/main.tsx');
const [script, output] = entry;
const style = output.cssBundle;

const template = await readFile(join(here, 'index.html'), 'utf8');
await writeFile(
  join(outdir, 'index.html'),
  template
    .replace('{{SCRIPT}}', `./${basename(script)}`)
    .replace('{{STYLE}}', style ? `./${basename(style)}` : ''),
);
console.log(
  `admin built into ${outdir} (Supabase: ${supabaseUrl || 'the origin serving the admin'})`,
);
