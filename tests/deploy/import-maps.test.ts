import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configWithImportMaps,
  drift,
  functionNames,
  planImportMaps,
  specifiersOf,
} from '../../scripts/function-import-maps.ts';
import { projectDir } from '../support/stack.ts';

// Supabase deploys a function with its own deno.json and nothing else: no package.json, no
// node_modules. These tests hold every function to that: the maps match the imports, and each
// function, copied alone with _shared into an empty folder, type-checks and serves under Deno
// with npm packages fetched into a Deno cache of its own.

const deno = join(projectDir, 'node_modules', '.bin', 'deno');
const names = functionNames(projectDir);

describe('the import maps', () => {
  it('cover every function and match what it imports at the installed versions', () => {
    const plan = planImportMaps(projectDir);
    expect(plan.problems).toEqual([]);
    expect(drift(projectDir, plan)).toEqual([]);
  });

  it('pin exact npm versions, never ranges', () => {
    const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    for (const name of names) {
      const map = JSON.parse(
        readFileSync(join(projectDir, 'functions', name, 'deno.json'), 'utf8'),
      ) as { imports: Record<string, string> };
      for (const [key, target] of Object.entries(map.imports)) {
        const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)@([^/]+)\/?$/.exec(target);
        expect(m, `${name}: ${key} → ${target}`).not.toBeNull();
        const [, pkg, version] = m as RegExpExecArray;
        expect(version).toBe(lock.packages[`node_modules/${pkg}`]?.version);
        expect(key.replace(/\/$/, '')).toBe(pkg);
      }
    }
  });

  it('read type-only, re-exported, side-effect and dynamic imports, not commented ones', () => {
    const source = [
      `import { a } from './a.ts';`,
      `import type {\n  B,\n} from 'zod';`,
      `export { c } from "hono/cors";`,
      `import 'side-effect';`,
      `const d = await import('./d.ts');`,
      `// import { e } from 'commented';`,
      `/* import { f } from 'blocked'; */`,
      `const url = 'https://example.com/from'; const g = Array.from('xy');`,
    ].join('\n');
    expect(specifiersOf(source).sort()).toEqual(
      ['./a.ts', './d.ts', 'hono/cors', 'side-effect', 'zod'].sort(),
    );
  });

  it('add import_map after the entrypoint and report a function without a block', () => {
    const config = '[functions.a]\nenabled = true\nentrypoint = "../functions/a/index.ts"\n\n[x]\n';
    const { text, problems } = configWithImportMaps(config, ['a', 'b']);
    expect(text).toBe(
      '[functions.a]\nenabled = true\nentrypoint = "../functions/a/index.ts"\n' +
        'import_map = "../functions/a/deno.json"\n\n[x]\n',
    );
    expect(problems).toEqual(['b: supabase/config.toml has no [functions.b] block']);
    expect(configWithImportMaps(text, ['a']).text).toBe(text);
  });
});

describe('each function alone under Deno, with only its deno.json', () => {
  let work: string;
  let denoDir: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'parley-deploy-'));
    // One npm cache for every function of this file: each package is fetched once.
    denoDir = join(work, 'deno-dir');
    mkdirSync(denoDir);
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  function isolate(name: string): string {
    const dir = join(work, name);
    for (const folder of [name, '_shared'])
      cpSync(join(projectDir, 'functions', folder), join(dir, 'functions', folder), {
        recursive: true,
      });
    for (const absent of ['package.json', 'node_modules', 'deno.json'])
      expect(existsSync(join(dir, absent))).toBe(false);
    return dir;
  }

  function denoEnv(): NodeJS.ProcessEnv {
    // How this machine reaches the npm registry (proxy, extra CA certificates) carries over;
    // nothing else of the calling environment does.
    const network = Object.entries(process.env).filter(([key]) =>
      /proxy|cert|ca_bundle|ssl|^deno_tls|^npm_config_registry$/i.test(key),
    );
    return {
      ...Object.fromEntries(network),
      PATH: process.env.PATH ?? '',
      HOME: work,
      DENO_DIR: denoDir,
      DENO_NO_PACKAGE_JSON: '1',
      NO_COLOR: '1',
    };
  }

  function check(dir: string, name: string): Promise<{ ok: boolean; output: string }> {
    return new Promise((resolve) => {
      execFile(
        deno,
        ['check', '--config', `functions/${name}/deno.json`, `functions/${name}/index.ts`],
        { cwd: dir, env: denoEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ ok: !error, output: `${stdout}${stderr}` }),
      );
    });
  }

  /** Starts index.ts as Supabase would (its own env only) and answers the address it serves. */
  async function boot(dir: string, name: string): Promise<{ child: ChildProcess; url: string }> {
    const child = spawn(
      deno,
      [
        'run',
        '--allow-all',
        '--config',
        `functions/${name}/deno.json`,
        `functions/${name}/index.ts`,
      ],
      {
        cwd: dir,
        env: {
          ...denoEnv(),
          // Deno.serve() in index.ts takes its address from here: any free port.
          DENO_SERVE_ADDRESS: 'tcp:127.0.0.1:0',
          // What the platform sets for every function. Nothing listens on port 9: a request
          // that reaches the database fails fast, which still proves the function serves.
          SUPABASE_URL: 'http://127.0.0.1:9',
          SUPABASE_ANON_KEY: 'anon',
          SUPABASE_SERVICE_ROLE_KEY: 'service',
          SUPABASE_DB_URL: 'postgresql://postgres:postgres@127.0.0.1:9/postgres',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not serve:\n${output}`)),
        120_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /Listening on (http:\/\/[^\s/]+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code}:\n${output}`));
      });
    });
    return { child, url };
  }

  it.each(names)(
    '%s type-checks and serves',
    async (name) => {
      const dir = isolate(name);
      const checked = await check(dir, name);
      expect(checked.ok, checked.output).toBe(true);

      const { child, url } = await boot(dir, name);
      try {
        const response = await fetch(`${url}/${name}/`, { signal: AbortSignal.timeout(30_000) });
        await response.arrayBuffer();
        expect(response.status).toBeGreaterThanOrEqual(200);
      } finally {
        child.kill('SIGKILL');
      }
    },
    420_000,
  );
});
