// The local stack's publishable (anon) key, for the builds that bake it in as their default. The
// key is derived from the JWT secret exactly as the stack derives it; keys.ts is TypeScript, so it
// is bundled for Node first.
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

export async function localPublishableKey() {
  const bundled = await esbuild.build({
    entryPoints: [join(here, 'keys.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const file = join(tmpdir(), `parley-keys-${process.pid}-${Date.now()}.mjs`);
  await writeFile(file, bundled.outputFiles[0].text);
  try {
    const { createLocalKeys } = await import(pathToFileURL(file).href);
    return (await createLocalKeys()).anonKey;
  } finally {
    await rm(file, { force: true });
  }
}
