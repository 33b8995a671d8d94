// Builds the admin SPA into admin/dist: index.html plus content-hashed, minified ES modules and CSS
// with source maps — static files that any host can serve. PARLEY_SUPABASE_URL /
// PARLEY_SUPABASE_KEY bake in the project; without a URL the SPA talks to the origin that served
// it (the local stack serves it at /admin/), and the key defaults to the local stack's publishable
// key. A config.json next to index.html overrides both at deploy time.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as swc from '@swc/core';
import * as esbuild from 'esbuild';
import { localPublishableKey } from '../supabase/local/publishable-key.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// PARLEY_ADMIN_DIST builds elsewhere (the bundle test builds into a temporary folder).
const outdir = process.env.PARLEY_ADMIN_DIST || join(here, 'dist');

const supabaseUrl = (process.env.PARLEY_SUPABASE_URL || '').replace(/\/+$/, '');
const supabaseKey = process.env.PARLEY_SUPABASE_KEY || (await localPublishableKey());

await rm(outdir, { recursive: true, force: true });

const entryPoint = join(here, 'src/main.tsx');
const options = {
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
  // Every browser the admin supports runs ES2022 as is: nothing is down-levelled.
  target: ['es2022', 'chrome100', 'firefox100', 'safari15.4'],
  // Hebrew as UTF-8 (two bytes a letter) rather than \uXXXX escapes (six).
  charset: 'utf8',
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

const shell = await shellGraph();
const result = await esbuild.build({
  ...options,
  entryPoints: { main: entryPoint },
  write: false,
  plugins: [shellFirst(shell)],
});
await mkdir(outdir, { recursive: true });
await Promise.all(result.outputFiles.filter((f) => !f.path.endsWith('.js.map')).map(emit));

/**
 * What the first load runs: every file main.tsx reaches through static imports, plus the modules
 * that several lazily loaded modules import (`shared`: data access, the settings' copy button…);
 * and what each lazily loaded module exports. Shared modules joined the shell because each one
 * was a chunk of its own, under 2 KB and compressed alone, fetched on top of most pages: in the
 * shell they cost 2 KB less gzipped in all, and a page is one chunk.
 */
async function shellGraph() {
  const { metafile } = await esbuild.build({
    ...options,
    entryPoints: [entryPoint],
    write: false,
    sourcemap: false,
    logLevel: 'silent',
  });
  const files = new Set();
  const visit = (file) => {
    if (files.has(file)) return;
    files.add(file);
    for (const i of metafile.inputs[file]?.imports ?? []) {
      if (i.kind === 'import-statement' && !i.external) visit(i.path);
    }
  };
  const main = Object.values(metafile.outputs).find((o) => o.entryPoint?.endsWith('src/main.tsx'));
  if (!main?.entryPoint) throw new Error('esbuild produced no entry for src/main.tsx');
  visit(main.entryPoint);
  files.delete(main.entryPoint);
  const exports = new Map();
  // How many lazily loaded modules reach each module outside the shell through static imports.
  const reach = new Map();
  for (const output of Object.values(metafile.outputs)) {
    if (!output.entryPoint || output.entryPoint === main.entryPoint) continue;
    exports.set(resolve(output.entryPoint), output.exports);
    const seen = new Set();
    const walk = (file) => {
      if (seen.has(file) || files.has(file)) return;
      seen.add(file);
      for (const i of metafile.inputs[file]?.imports ?? []) {
        if (i.kind === 'import-statement' && !i.external) walk(i.path);
      }
    };
    walk(output.entryPoint);
    for (const file of seen) reach.set(file, (reach.get(file) ?? 0) + 1);
  }
  const scripts = (list) => list.filter((f) => !f.endsWith('.css')).map((f) => resolve(f));
  const shared = scripts([...reach].filter(([, n]) => n > 1).map(([f]) => f));
  return { files: [...scripts([...files]), ...shared], shared, exports };
}

/**
 * esbuild gives a chunk to each set of entry points a module is reachable from, and counts every
 * lazily loaded module as an entry point: the shell's modules that some pages import too were
 * spread over a dozen small chunks (config, router, the Supabase clients, Preact…), each
 * compressed on its own. The first load always runs the whole shell before any page, so each lazy
 * module is built as if it imported the shell as well: the shell becomes one chunk, and a page's
 * chunk holds only what is its own (or shared with other pages).
 */
function shellFirst(shell) {
  return {
    name: 'shell-first',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.namespace !== 'file') return undefined;
        if (!args.importer.startsWith(join(here, 'src'))) return undefined;
        const target = await build.resolve(args.path, {
          kind: 'import-statement',
          resolveDir: args.resolveDir,
          importer: args.importer,
        });
        if (target.errors.length) return { errors: target.errors };
        return {
          path: relative(here, target.path),
          namespace: 'lazy',
          pluginData: target.path,
        };
      });
      // main.tsx imports the shared modules too, so they belong to the shell's chunk.
      build.onLoad({ filter: /src[\\/]main\.tsx$/ }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        const lines = shell.shared.map(
          (f, i) => `import * as shared${i} from ${JSON.stringify(f)};`,
        );
        return { contents: `${source}\n${lines.join('\n')}\n`, loader: 'tsx' };
      });
      build.onLoad({ filter: /.*/, namespace: 'lazy' }, ({ pluginData: real }) => {
        const names = shell.exports.get(real);
        if (!names) throw new Error(`${real} was not a lazily loaded module of the first build`);
        const lines = shell.files.map((f, i) => `import * as shell${i} from ${JSON.stringify(f)};`);
        lines.push(`export * from ${JSON.stringify(real)};`);
        if (names.includes('default'))
          lines.push(`export { default } from ${JSON.stringify(real)};`);
        return { contents: lines.join('\n'), loader: 'js', resolveDir: dirname(real) };
      });
    },
  };
}

/**
 * Writes one output; scripts first go through SWC's minifier, whose compressor folds what
 * esbuild's leaves (about 4 % less once gzipped), with the source map carried through.
 */
async function emit(file) {
  if (!file.path.endsWith('.js')) return writeFile(file.path, file.contents);
  const map = result.outputFiles.find((f) => f.path === `${file.path}.map`);
  if (!map) throw new Error(`no source map for ${file.path}`);
  const name = basename(file.path);
  const code = file.text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
  const out = await swc.transform(code, {
    filename: name,
    isModule: true,
    sourceMaps: true,
    inputSourceMap: map.text,
    minify: true,
    jsc: {
      parser: { syntax: 'ecmascript' },
      target: 'es2022',
      minify: { compress: { ecma: 2022, passes: 3 }, mangle: { toplevel: true }, module: true },
    },
  });
  if (!out.map) throw new Error(`SWC returned no source map for ${name}`);
  await writeFile(file.path, `${out.code}\n//# sourceMappingURL=${name}.map\n`);
  await writeFile(`${file.path}.map`, out.map);
}

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
if (process.argv.includes('--analyze')) await analyze();

/**
 * `--analyze`: writes esbuild's metafile next to the build (meta.json, for esbuild's analyzer) and
 * prints each script's biggest modules: their minified bytes as esbuild emitted them, and their
 * share of the chunk's gzip -9 size (the chunk's compressed size split by those bytes).
 */
async function analyze() {
  await writeFile(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`.padStart(9);
  const scripts = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
  const sized = await Promise.all(
    scripts.map(async ([file, output]) => {
      const gz = gzipSync(await readFile(file), { level: 9 }).length;
      return { file, output, gz };
    }),
  );
  for (const { file, output, gz } of sized.sort((a, b) => b.gz - a.gz)) {
    const emitted = Object.values(output.inputs).reduce((t, i) => t + i.bytesInOutput, 0) || 1;
    console.log(`${basename(file)}  ${kb(output.bytes)} by esbuild → ${kb(gz)} gzipped`);
    const modules = Object.entries(output.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .sort(([, a], [, b]) => b.bytesInOutput - a.bytesInOutput)
      .slice(0, 12);
    for (const [path, { bytesInOutput }] of modules) {
      console.log(`  ${kb(bytesInOutput)} ${kb((gz * bytesInOutput) / emitted)}  ${path}`);
    }
  }
}

console.log(
  `admin built into ${outdir} (Supabase: ${supabaseUrl || 'the origin serving the admin'})`,
);
