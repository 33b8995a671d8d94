// Compiles the nodes to CommonJS in n8n/dist (n8n require()s community nodes) and puts the icon
// beside every node and credential file, where n8n resolves `file:parley.svg`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

// The repository's TypeScript; the package itself has no dependencies to install.
const require = createRequire(join(root, '..', 'package.json'));
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

for (const folder of ['nodes/ParleyTrigger', 'nodes/Parley', 'credentials']) {
  const target = join(dist, folder);
  if (!existsSync(target)) throw new Error(`the build produced no ${folder}`);
  copyFileSync(join(root, 'src', 'parley.svg'), join(target, 'parley.svg'));
}
console.log(`n8n-nodes-parley built into ${dist}`);
