import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile, vaultUpsert } from '../../scripts/deploy.ts';
import { functionNames } from '../../scripts/function-import-maps.ts';
import { projectDir } from '../support/stack.ts';

// `npm run deploy` as an operator runs it, with a stand-in for the Supabase CLI binary (the npm
// package's launcher honours SUPABASE_CLI_BINARY_OVERRIDE) that records what it was asked to do.

const REF = 'abcdefghijklmnopqrst';
const JWT = 'jwt-secret-value';
const SERVICE = 'service-role-key-value';
const OPENAI = 'sk-openai-value';
const deno = join(projectDir, 'node_modules', '.bin', 'deno');
let work: string;
let fakeCli: string;
let log: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'parley-deploy-script-'));
  log = join(work, 'cli.log');
  fakeCli = join(work, 'supabase');
  // Records each call, and the files it was handed while they still exist.
  writeFileSync(
    fakeCli,
    `#!/bin/sh
echo "supabase $*" >> "${log}"
prev=""
for a in "$@"; do
  if [ "$prev" = "--env-file" ] || [ "$prev" = "--file" ]; then cat "$a" >> "${log}"; echo "$a" >> "${log}.files"; fi
  prev="$a"
done
`,
  );
  chmodSync(fakeCli, 0o755);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function deploy(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      deno,
      [
        'run',
        '--allow-read',
        '--allow-write',
        '--allow-env',
        '--allow-run',
        'scripts/deploy.ts',
        ...args,
      ],
      {
        cwd: projectDir,
        timeout: 120_000,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: work,
          NO_COLOR: '1',
          DENO_NO_PACKAGE_JSON: '1',
          SUPABASE_CLI_BINARY_OVERRIDE: fakeCli,
          PARLEY_VERSION: 'v-test',
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

const secrets = { JWT_SECRET: JWT, SUPABASE_SERVICE_ROLE_KEY: SERVICE, OPENAI_API_KEY: OPENAI };

describe('npm run deploy -- --dry-run', () => {
  it('prints every step in order, secrets masked, and runs nothing', async () => {
    const { code, out } = await deploy(['--project-ref', REF, '--dry-run'], {
      ...secrets,
      LLM_PROVIDER: 'openai',
      PARLEY_DB_URL: 'postgresql://postgres.x:pw@aws-0-eu.pooler.supabase.com:6543/postgres',
    });
    expect(code, out).toBe(0);
    const lines = out.split('\n');
    const steps = lines.filter((l) => /^\d\. /.test(l)).map((l) => l.slice(0, 2));
    expect(steps).toEqual(['0.', '1.', '2.', '3.', '4.', '5.']);
    expect(out).toContain("0. Check the functions' import maps: up to date");
    expect(out).toContain(`$ supabase link --project-ref ${REF}`);
    expect(out).toContain('$ supabase db push --linked\n');
    expect(out).toContain(
      `$ supabase functions deploy ${functionNames(projectDir).join(' ')} --project-ref ${REF} --use-api`,
    );
    expect(out).toContain(
      `$ supabase secrets set --project-ref ${REF} --env-file <private file>: JWT_SECRET=*** LLM_PROVIDER=openai OPENAI_API_KEY=*** PARLEY_DB_URL=*** PARLEY_VERSION=v-test`,
    );
    expect(out).toContain(
      `vault parley_worker_url=https://${REF}.supabase.co/functions/v1/worker parley_service_role_key=***`,
    );
    expect(out).toContain('docs/deploy.md#checklist');
    for (const secret of [JWT, SERVICE, OPENAI, 'pw@']) expect(out).not.toContain(secret);
    expect(out).not.toMatch(/warning|error/);
    expect(existsSync(log)).toBe(false);
  });

  it('adds the seed on request and warns without the pooler string', async () => {
    const { code, out } = await deploy(['--project-ref', REF, '--dry-run', '--seed'], secrets);
    expect(code, out).toBe(0);
    expect(out).toContain('$ supabase db push --linked --include-seed');
    expect(out).toMatch(/warning: PARLEY_DB_URL is not set/);
  });

  it('names what is missing and fails', async () => {
    const { code, out } = await deploy(['--project-ref', REF, '--dry-run']);
    expect(code).toBe(1);
    expect(out).toContain('error: JWT_SECRET is not set');
    expect(out).toContain('error: SUPABASE_SERVICE_ROLE_KEY is not set');
  });

  it('refuses a malformed project ref', async () => {
    const { code, out } = await deploy(['--project-ref', 'nope', '--dry-run'], secrets);
    expect(code).toBe(2);
    expect(out).toMatch(/project-ref/);
  });
});

describe('npm run deploy', () => {
  it('runs the CLI step by step with private files it removes afterwards', async () => {
    const envFile = join(work, 'extra.env');
    writeFileSync(
      envFile,
      '# extra\nSTRIPE_SECRET_KEY="sk_test_1"\nPARLEY_ALLOW_LOOPBACK_OUTBOUND=true\n',
    );
    const { code, out } = await deploy(['--project-ref', REF, '--env-file', envFile], secrets);
    expect(code, out).toBe(0);
    expect(out).toMatch(/warning: PARLEY_ALLOW_LOOPBACK_OUTBOUND is never set/);
    const calls = readFileSync(log, 'utf8');
    const commands = calls.split('\n').filter((l) => l.startsWith('supabase '));
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      `supabase link --project-ref`,
      'supabase db push',
      'supabase functions deploy',
      'supabase secrets set',
      'supabase db query',
    ]);
    expect(calls).toContain(`JWT_SECRET="${JWT}"`);
    expect(calls).toContain(`OPENAI_API_KEY="${OPENAI}"`);
    expect(calls).toContain('STRIPE_SECRET_KEY="sk_test_1"');
    expect(calls).not.toContain('PARLEY_ALLOW_LOOPBACK_OUTBOUND');
    expect(calls).toContain(`https://${REF}.supabase.co/functions/v1/worker`);
    expect(calls).toContain(`vault.create_secret('${SERVICE}', 'parley_service_role_key')`);
    for (const file of readFileSync(`${log}.files`, 'utf8').trim().split('\n'))
      expect(existsSync(file)).toBe(false);
  });
});

describe('helpers', () => {
  it('upsert a Vault secret by name, quoting the value', () => {
    const sql = vaultUpsert('n', "it's");
    expect(sql).toContain(`vault.update_secret(id, 'it''s') from vault.secrets where name = 'n'`);
    expect(sql).toContain(`vault.create_secret('it''s', 'n')`);
    expect(sql).toContain(`where not exists (select 1 from vault.secrets where name = 'n')`);
  });

  it('read an env file', () => {
    expect(parseEnvFile(`# c\n\nA=1\nexport B='two'\nC="3 4"\n`)).toEqual({
      A: '1',
      B: 'two',
      C: '3 4',
    });
    expect(() => parseEnvFile('not a line')).toThrow(/cannot read/);
  });
});
