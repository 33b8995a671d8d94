// Builds the embeddable widget into widget/dist: the loader (widget.js, a classic script) and
// the app it imports on demand (parley-app.js, an ES module), minified, with source maps.
// PARLEY_SUPABASE_URL / PARLEY_SUPABASE_KEY bake in the project. Without a URL the widget talks to
// the origin that served widget.js (the local stack serves it on its own origin, on any port), and
// the key is the local stack's publishable key.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { localPublishableKey } from '../supabase/local/publishable-key.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = join(here, 'dist');

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
  define: {
    __PARLEY_SUPABASE_URL__: JSON.stringify(supabaseUrl),
    __PARLEY_SUPABASE_KEY__: JSON.stringify(supabaseKey),
    'process.env.NODE_ENV': '"production"',
  },
};

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await Promise.all([
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
console.log(
  `widget built into ${outdir} (Supabase: ${supabaseUrl || 'the origin serving widget.js'})`,
);
