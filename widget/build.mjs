// Builds the embeddable widget into widget/dist: the loader (widget.js, a classic script) and
// the app it imports on demand (parley-app.js, an ES module), minified, with source maps.
// PARLEY_SUPABASE_URL / PARLEY_SUPABASE_KEY bake in the project. Without a URL the widget talks to
// the origin that served widget.js (the local stack serves it on its own origin, on any port), and
// the key is the local stack's publishable key.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const outdir = join(here, 'dist');

/** The local stack's anon key, derived the same way the stack derives it. */
async function localAnonKey() {
  const bundled = await esbuild.build({
    entryPoints: [join(root, 'supabase/local/keys.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const file = join(tmpdir(), `parley-keys-${process.pid}.mjs`);
  await writeFile(file, bundled.outputFiles[0].text);
  try {
    const { createLocalKeys } = await import(pathToFileURL(file).href);
    return (await createLocalKeys()).anonKey;
  } finally {
    await rm(file, { force: true });
  }
}

const supabaseUrl = (process.env.PARLEY_SUPABASE_URL || '').replace(/\/+$/, '');
const supabaseKey = process.env.PARLEY_SUPABASE_KEY || (await localAnonKey());

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
  esbuild.build({
    ...common,
    entryPoints: { 'parley-app': join(here, 'src/app/main.tsx') },
    format: 'esm',
    outdir,
  }),
]);
console.log(
  `widget built into ${outdir} (Supabase: ${supabaseUrl || 'the origin serving widget.js'})`,
);
