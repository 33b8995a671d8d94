import { execFile, execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuthConfig } from '../../supabase/local/auth/config.ts';
import { projectDir } from '../support/stack.ts';

// The Supabase CLI has no "validate config" command, but `supabase start` loads and checks
// config.toml, printing its WARN lines, before it first talks to Docker. Pointing DOCKER_HOST at
// a socket that does not exist stops it right there, so no container is ever started, with or
// without a Docker daemon on the machine.

// The lock file pins a CLI release whose every platform build the registry serves; newer
// releases are where deprecations show first, so the check also runs the newest one this
// platform has a build of (Linux x64: the registry serves CLI 3 for it).
const pinnedCli = join(projectDir, 'node_modules', '.bin', 'supabase');
const CURRENT_CLI = '3.1.0';
const clis: { name: string; path: () => string }[] = [
  { name: 'the pinned CLI', path: () => pinnedCli },
];
if (process.platform === 'linux' && process.arch === 'x64') {
  clis.push({ name: `CLI ${CURRENT_CLI}`, path: () => currentCli });
}
let work: string;
let currentCli = '';

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'parley-cli-config-'));
  if (clis.length > 1) {
    const cache = join(tmpdir(), `parley-supabase-cli-${CURRENT_CLI}`);
    currentCli = join(cache, 'package', 'bin', 'supabase');
    if (!existsSync(currentCli)) {
      mkdirSync(cache, { recursive: true });
      const tarball = execFileSync(
        'npm',
        ['pack', `@supabase/cli-linux-x64@${CURRENT_CLI}`, '--silent'],
        { cwd: cache, encoding: 'utf8' },
      ).trim();
      execFileSync('tar', ['xzf', tarball], { cwd: cache });
    }
  }
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A project holding only config.toml (plus `extra` appended), as the CLI reads it. */
function project(name: string, extra = ''): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'supabase'), { recursive: true });
  cpSync(join(projectDir, 'supabase', 'config.toml'), join(dir, 'supabase', 'config.toml'));
  if (extra) writeFileSync(join(dir, 'supabase', 'config.toml'), extra, { flag: 'a' });
  return dir;
}

function loadWithCli(dir: string, cli = pinnedCli): Promise<string> {
  return new Promise((resolve) => {
    execFile(
      cli,
      ['start', '--workdir', dir],
      {
        cwd: dir,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
          SUPABASE_TELEMETRY_DISABLED: '1',
          DO_NOT_TRACK: '1',
        },
      },
      // It always fails at Docker; what matters is what it said on the way.
      (_error, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}

describe('supabase/config.toml under the Supabase CLI', () => {
  it.each(clis)(
    'loads with no warnings under $name, as far as the first Docker call',
    async ({ name, path }) => {
      const output = await loadWithCli(project(`ours-${name.replace(/\W+/g, '-')}`), path());
      expect(output).toMatch(/docker/i);
      expect(output).not.toMatch(/WARN|deprecat|invalid config/i);
    },
    90_000,
  );

  it('would report a deprecated section (the check can fail)', async () => {
    const output = await loadWithCli(project('deprecated', '\n[inbucket]\nenabled = true\n'));
    expect(output).toMatch(/WARN: config section \[inbucket\] is deprecated/);
  }, 90_000);

  it('would report a value the CLI cannot accept before reaching Docker', async () => {
    const output = await loadWithCli(project('invalid', '\n[analytics]\nport = "not a port"\n'));
    expect(output).toMatch(/failed to read config/);
    expect(output).not.toMatch(/docker/i);
  }, 90_000);
});

describe('the local Auth reads the key the CLI turns into GOTRUE_EXTERNAL_EMAIL_ENABLED', () => {
  it('is [auth.email] enabled, or enable_signup before CLI 3', () => {
    expect(readAuthConfig(projectDir, {}).emailEnabled).toBe(true);
    const dir = project('email-off');
    const file = join(dir, 'supabase', 'config.toml');
    const config = parse(readFileSync(file, 'utf8')) as {
      auth: { email: Record<string, unknown> };
    };
    config.auth.email.enabled = false;
    writeFileSync(file, stringify(config));
    expect(readAuthConfig(dir, {}).emailEnabled).toBe(false);
    expect(readAuthConfig(dir, {}).signupEnabled).toBe(true);
    delete config.auth.email.enabled;
    config.auth.email.enable_signup = false;
    writeFileSync(file, stringify(config));
    expect(readAuthConfig(dir, {}).emailEnabled).toBe(false);
  });
});
