// Writes tests/n8n/fixtures/n8n-node-types.json: the node types, versions and parameter names of the
// pinned n8n release, which the template test checks every template against. Installing n8n's node
// packages into the repository would add hundreds of megabytes to every install for one test, so
// their descriptions are read once from the published tarballs and the relevant part checked in.
//
//   node n8n/scripts/node-types-fixture.mjs
//
// Run it again after changing the pins below (keep them those of the n8n that test:n8n installs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const N8N_VERSION = '1.123.81';
const PACKAGES = [
  { name: 'n8n-nodes-base', version: '1.121.53', prefix: 'n8n-nodes-base' },
  { name: '@n8n/n8n-nodes-langchain', version: '1.122.57', prefix: '@n8n/n8n-nodes-langchain' },
];
// Described in full (parameters and their options); every other node type only by name and versions.
const DETAILED = new Set([
  'n8n-nodes-base.webhook',
  'n8n-nodes-base.respondToWebhook',
  'n8n-nodes-base.code',
  'n8n-nodes-base.if',
  'n8n-nodes-base.wait',
  'n8n-nodes-base.httpRequest',
  'n8n-nodes-base.stickyNote',
  'n8n-nodes-base.set',
  '@n8n/n8n-nodes-langchain.agent',
  '@n8n/n8n-nodes-langchain.lmChatOpenAi',
  '@n8n/n8n-nodes-langchain.memoryBufferWindow',
  '@n8n/n8n-nodes-langchain.chatTrigger',
]);

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const work = mkdtempSync(join(tmpdir(), 'n8n-node-types-'));
const out = { n8n: N8N_VERSION, packages: {}, nodes: {} };
try {
  for (const pkg of PACKAGES) {
    const spec = `${pkg.name}@${pkg.version}`;
    const file = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', work], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['xzf', join(work, file), '-C', work, 'package/dist/types/nodes.json']);
    const descriptions = JSON.parse(
      readFileSync(join(work, 'package/dist/types/nodes.json'), 'utf8'),
    );
    out.packages[pkg.name] = pkg.version;
    for (const description of descriptions) {
      const type = `${pkg.prefix}.${description.name}`;
      const versions = [description.version].flat();
      const entry = { versions };
      if (DETAILED.has(type)) entry.parameters = parameters(description.properties ?? []);
      out.nodes[type] = [...(out.nodes[type] ?? []), entry];
    }
    rmSync(join(work, 'package'), { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Every property of a description, merged by name (n8n declares one name several times, shown
// for different versions or settings): its types, the values an `options` property allows, the
// names a collection holds.
function parameters(properties) {
  const merged = {};
  for (const property of properties) {
    const entry = merged[property.name] ?? { types: [] };
    merged[property.name] = entry;
    if (!entry.types.includes(property.type)) entry.types.push(property.type);
    if (property.type === 'options' && Array.isArray(property.options)) {
      entry.values = [
        ...new Set([...(entry.values ?? []), ...property.options.map((o) => o.value)]),
      ];
    }
    if (
      (property.type === 'collection' || property.type === 'fixedCollection') &&
      Array.isArray(property.options)
    ) {
      entry.fields = [
        ...new Set([...(entry.fields ?? []), ...property.options.map((o) => o.name)]),
      ];
    }
  }
  return merged;
}

const target = join(root, 'tests/n8n/fixtures/n8n-node-types.json');
writeFileSync(target, `${JSON.stringify(out, null, 1)}\n`);
// In the repository's JSON style, so regenerating leaves a clean lint.
execFileSync('npx', ['biome', 'format', '--write', target], { stdio: 'ignore' });
console.log(`wrote ${Object.keys(out.nodes).length} node types to ${target}`);
