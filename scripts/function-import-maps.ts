import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

// Supabase bundles each function with its own import map, not with package.json: locally the bare
// names (`hono`, `zod`…) resolve from node_modules, deployed they resolve only through
// functions/<name>/deno.json. This writes that file from what the function really imports, pinned
// to the versions package-lock.json installs, so the deployed code runs what the tests ran.
//
//   deno run --allow-read --allow-write scripts/function-import-maps.ts          write
//   deno run --allow-read scripts/function-import-maps.ts --check                 fail on drift

export interface ImportMapPlan {
  /** functions/<name>/deno.json relative to the project, and its expected text. */
  files: { path: string; text: string }[];
  /** supabase/config.toml's expected text: every function's block names its import map. */
  config: string;
  problems: string[];
}

const PACKAGE = /^(@[^/]+\/[^/]+|[^@/][^/]*)(\/.*)?$/;

/** The deployed functions: folders of functions/ with an index.ts, `_shared` aside. */
export function functionNames(projectDir: string): string[] {
  const root = join(projectDir, 'functions');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('_'))
    .filter((d) => existsSync(join(root, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** Module specifiers of one file: static, re-exported, type-only and literal dynamic imports. */
export function specifiersOf(source: string): string[] {
  // Comments could mention `from '…'`; strings holding `//` are left alone by anchoring line
  // comments to the start of a line.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = new Set<string>();
  const patterns = [
    /\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of code.matchAll(pattern)) found.add(m[1] as string);
  return [...found];
}

/**
 * Walks index.ts's relative imports and returns every bare specifier reached. A relative import
 * that leaves functions/<name>/ and functions/_shared/ is a problem: it would not be deployed.
 */
export function bareImports(
  projectDir: string,
  name: string,
): { specifiers: string[]; problems: string[] } {
  const functionsDir = join(projectDir, 'functions');
  const allowed = [join(functionsDir, name) + sep, join(functionsDir, '_shared') + sep];
  const seen = new Set<string>();
  const bare = new Set<string>();
  const problems: string[] = [];
  const queue = [join(functionsDir, name, 'index.ts')];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.[mc]?[jt]sx?$/.test(file)) continue;
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        const where = relative(projectDir, file);
        if (!allowed.some((dir) => target.startsWith(dir)))
          problems.push(`${name}: ${where} imports ${specifier}, outside the deployed folders`);
        else if (!existsSync(target))
          problems.push(`${name}: ${where} imports missing ${specifier}`);
        else queue.push(target);
      } else if (!/^(node|npm|jsr|https?):/.test(specifier)) {
        bare.add(specifier);
      }
    }
  }
  return { specifiers: [...bare].sort(), problems };
}

interface Manifests {
  dependencies: Record<string, string>;
  locked: Record<string, string | undefined>;
}

function readManifests(projectDir: string): Manifests {
  const pkg = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8')) as {
    packages?: Record<string, { version?: string }>;
  };
  const locked: Record<string, string | undefined> = {};
  for (const [path, entry] of Object.entries(lock.packages ?? {}))
    if (path.startsWith('node_modules/') && !path.slice(13).includes('/node_modules/'))
      locked[path.slice(13)] = entry.version;
  return { dependencies: pkg.dependencies ?? {}, locked };
}

/** One function's deno.json text and what stops it from being complete. */
export function importMapFor(
  projectDir: string,
  name: string,
  manifests: Manifests = readManifests(projectDir),
): { text: string; problems: string[] } {
  const { specifiers, problems } = bareImports(projectDir, name);
  const imports: Record<string, string> = {};
  for (const specifier of specifiers) {
    const [, pkg, subpath] = PACKAGE.exec(specifier) ?? [];
    if (!pkg) {
      problems.push(`${name}: cannot read a package name from "${specifier}"`);
      continue;
    }
    const version = manifests.locked[pkg];
    if (!(pkg in manifests.dependencies)) {
      problems.push(`${name}: imports ${pkg}, which package.json does not list in dependencies`);
    } else if (!version) {
      problems.push(`${name}: ${pkg} is not in package-lock.json; run npm install`);
    } else if (subpath) {
      // A prefix entry, so every subpath (`hono/cors`, `hono/utils/…`) maps with one line.
      imports[`${pkg}/`] = `npm:/${pkg}@${version}/`;
    } else {
      imports[pkg] = `npm:${pkg}@${version}`;
    }
  }
  const sorted = Object.fromEntries(Object.entries(imports).sort(([a], [b]) => a.localeCompare(b)));
  return { text: `${JSON.stringify({ imports: sorted }, null, 2)}\n`, problems };
}

/**
 * config.toml with `import_map` set in every function's block, right after its entrypoint, so
 * `supabase functions deploy` bundles each function with its own map.
 */
export function configWithImportMaps(
  config: string,
  names: string[],
): { text: string; problems: string[] } {
  const problems: string[] = [];
  const lines = config.split('\n');
  for (const name of names) {
    const header = lines.findIndex((line) => line.trim() === `[functions.${name}]`);
    if (header < 0) {
      problems.push(`${name}: supabase/config.toml has no [functions.${name}] block`);
      continue;
    }
    let end = header + 1;
    while (end < lines.length && !/^\s*\[/.test(lines[end] as string)) end++;
    const wanted = `import_map = "../functions/${name}/deno.json"`;
    const existing = lines.slice(header + 1, end).findIndex((l) => /^\s*import_map\s*=/.test(l));
    if (existing >= 0) {
      lines[header + 1 + existing] = wanted;
      continue;
    }
    const entry = lines.slice(header + 1, end).findIndex((l) => /^\s*entrypoint\s*=/.test(l));
    lines.splice(entry >= 0 ? header + 2 + entry : header + 1, 0, wanted);
  }
  return { text: lines.join('\n'), problems };
}

export function planImportMaps(projectDir: string): ImportMapPlan {
  const manifests = readManifests(projectDir);
  const names = functionNames(projectDir);
  const problems: string[] = [];
  const files = names.map((name) => {
    const map = importMapFor(projectDir, name, manifests);
    problems.push(...map.problems);
    return { path: join('functions', name, 'deno.json'), text: map.text };
  });
  const configPath = join(projectDir, 'supabase', 'config.toml');
  const config = configWithImportMaps(readFileSync(configPath, 'utf8'), names);
  problems.push(...config.problems);
  return { files, config: config.text, problems };
}

/** What differs between the plan and the files on disk, as sentences. */
export function drift(projectDir: string, plan: ImportMapPlan): string[] {
  const out: string[] = [];
  for (const file of plan.files) {
    const path = join(projectDir, file.path);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current === undefined) out.push(`${file.path} is missing`);
    else if (current !== file.text) out.push(`${file.path} differs from its imports`);
  }
  if (readFileSync(join(projectDir, 'supabase', 'config.toml'), 'utf8') !== plan.config)
    out.push('supabase/config.toml lacks an import_map line');
  return out;
}

function main(args: string[]): number {
  const projectDir = resolve(dirname(new URL(import.meta.url).pathname), '..');
  const plan = planImportMaps(projectDir);
  for (const problem of plan.problems) console.error(`error: ${problem}`);
  if (args.includes('--check')) {
    const differences = drift(projectDir, plan);
    for (const d of differences) console.error(`drift: ${d}`);
    if (differences.length > 0)
      console.error('Run `npm run gen:import-maps` and commit the result.');
    return plan.problems.length + differences.length > 0 ? 1 : 0;
  }
  if (plan.problems.length > 0) return 1;
  for (const file of plan.files) writeFileSync(join(projectDir, file.path), file.text);
  writeFileSync(join(projectDir, 'supabase', 'config.toml'), plan.config);
  console.log(`import maps written for ${plan.files.map((f) => f.path).join(', ')}`);
  return 0;
}

if ((import.meta as { main?: boolean }).main) {
  const { exit, argv } = await import('node:process');
  exit(main(argv.slice(2)));
}
