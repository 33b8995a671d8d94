import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { drift, functionNames, planImportMaps } from './function-import-maps.ts';

// Deploys Parley to one Supabase project with the Supabase CLI, in the order that works from an
// empty project: link, schema, functions, their secrets, then the Vault secrets pg_cron needs to
// call the worker. What the CLI cannot set (dashboard switches) is the checklist in docs/deploy.md.
//
//   npm run deploy -- --project-ref <ref> [--seed] [--env-file FILE] [--dry-run]

/** Secrets passed on from the caller's environment when set (docs/configuration.md, docs/billing.md). */
export const PASSED_SECRETS = [
  'LLM_PROVIDER',
  'LLM_MODEL',
  'LLM_BASE_URL',
  'LLM_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'LLM_PRICE_INPUT_PER_MTOK',
  'LLM_PRICE_OUTPUT_PER_MTOK',
  'EMBEDDINGS_PROVIDER',
  'EMBEDDINGS_BASE_URL',
  'EMBEDDINGS_API_KEY',
  'EMBEDDINGS_MODEL',
  'CHAT_MAX_MESSAGE_LENGTH',
  'CHAT_MAX_BODY_BYTES',
  'CHAT_VISITOR_MESSAGES_PER_MINUTE',
  'CHAT_TENANT_MESSAGES_PER_MINUTE',
  'CHAT_VISITOR_SESSIONS_PER_MINUTE',
  'CHAT_TENANT_CONVERSATIONS_PER_MINUTE',
  'CHAT_VISITOR_TYPING_PER_MINUTE',
  'JOB_LEASE_SECONDS',
  'PARLEY_N8N_CALLBACK_URL',
  'PARLEY_DB_POOL_MAX',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'STRIPE_PRICE_STARTER_MONTHLY',
  'STRIPE_PRICE_STARTER_YEARLY',
  'STRIPE_PRICE_PRO_MONTHLY',
  'STRIPE_PRICE_PRO_YEARLY',
  'STRIPE_PRICE_BUSINESS_MONTHLY',
  'STRIPE_PRICE_BUSINESS_YEARLY',
  'BILLING_GRACE_DAYS',
  'BILLING_RETURN_URL',
] as const;

/** Values safe to print; every other secret is shown as ***. */
const PRINTABLE = new Set([
  'PARLEY_VERSION',
  'LLM_PROVIDER',
  'LLM_MODEL',
  'LLM_BASE_URL',
  'EMBEDDINGS_PROVIDER',
  'EMBEDDINGS_BASE_URL',
  'EMBEDDINGS_MODEL',
  'PARLEY_DB_POOL_MAX',
  'JOB_LEASE_SECONDS',
  'BILLING_GRACE_DAYS',
  'BILLING_RETURN_URL',
  'PARLEY_N8N_CALLBACK_URL',
]);

/** Settings that must never reach a deployed project. */
const REFUSED = ['PARLEY_ALLOW_LOOPBACK_OUTBOUND'];

export interface DeployInput {
  projectRef: string;
  seed: boolean;
  version: string;
  functions: string[];
  env: Record<string, string | undefined>;
  /** Extra secrets, e.g. read from --env-file. */
  fileSecrets: Record<string, string>;
}

export interface Step {
  title: string;
  args: string[];
  /** A file the command reads, written to a private temporary folder. */
  file?: { name: string; content: string };
  /** What the plan prints for it, secrets masked. */
  shows: string;
}

export interface DeployPlan {
  steps: Step[];
  missing: string[];
  warnings: string[];
}

const sqlText = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** Creates or replaces a Vault secret by name, so running the deploy twice is harmless. */
export function vaultUpsert(name: string, value: string): string {
  return [
    `select vault.update_secret(id, ${sqlText(value)}) from vault.secrets where name = ${sqlText(name)};`,
    `select vault.create_secret(${sqlText(value)}, ${sqlText(name)})`,
    `  where not exists (select 1 from vault.secrets where name = ${sqlText(name)});`,
  ].join('\n');
}

function envLine(name: string, value: string): string {
  return `${name}=${JSON.stringify(value)}`;
}

export function deployPlan(input: DeployInput): DeployPlan {
  const { projectRef: ref, env } = input;
  const missing: string[] = [];
  const warnings: string[] = [];
  const need = (name: string): string => {
    const value = env[name];
    if (value) return value;
    missing.push(name);
    return `<${name}>`;
  };

  const secrets: Record<string, string> = {
    JWT_SECRET: need('JWT_SECRET'),
    PARLEY_VERSION: input.version,
  };
  if (env.PARLEY_DB_URL) secrets.PARLEY_DB_URL = env.PARLEY_DB_URL;
  else
    warnings.push(
      "PARLEY_DB_URL is not set: functions will use SUPABASE_DB_URL; set it to the pooler's transaction-mode string (port 6543, docs/deploy.md)",
    );
  for (const name of PASSED_SECRETS) {
    const value = env[name];
    if (value) secrets[name] = value;
  }
  Object.assign(secrets, input.fileSecrets);
  for (const name of REFUSED) {
    if (name in secrets) {
      delete secrets[name];
      warnings.push(`${name} is never set on a deployed project; left out`);
    }
  }
  for (const name of Object.keys(secrets))
    if (name.startsWith('SUPABASE_')) {
      delete secrets[name];
      warnings.push(`${name}: the SUPABASE_ prefix is reserved by Supabase; left out`);
    }

  const workerUrl = `https://${ref}.supabase.co/functions/v1/worker`;
  const serviceKey = need('SUPABASE_SERVICE_ROLE_KEY');
  const names = Object.keys(secrets).sort();
  const shown = names.map((n) => `${n}=${PRINTABLE.has(n) ? secrets[n] : '***'}`).join(' ');

  const steps: Step[] = [
    {
      title: 'Link this folder to the project',
      args: ['link', '--project-ref', ref],
      shows: `supabase link --project-ref ${ref}`,
    },
    {
      title: 'Apply supabase/migrations (schema, RLS, buckets, cron schedules)',
      args: ['db', 'push', '--linked', ...(input.seed ? ['--include-seed'] : [])],
      shows: `supabase db push --linked${input.seed ? ' --include-seed' : ''}`,
    },
    {
      title: 'Deploy every function with its own deno.json',
      args: ['functions', 'deploy', ...input.functions, '--project-ref', ref, '--use-api'],
      shows: `supabase functions deploy ${input.functions.join(' ')} --project-ref ${ref} --use-api`,
    },
    {
      title: 'Set the functions’ secrets',
      args: ['secrets', 'set', '--project-ref', ref, '--env-file', 'secrets.env'],
      file: {
        name: 'secrets.env',
        content: `${names.map((n) => envLine(n, secrets[n] as string)).join('\n')}\n`,
      },
      shows: `supabase secrets set --project-ref ${ref} --env-file <private file>: ${shown}`,
    },
    {
      title: 'Give pg_cron the worker’s URL and key (Vault)',
      args: ['db', 'query', '--linked', '--file', 'vault.sql'],
      file: {
        name: 'vault.sql',
        content: `${vaultUpsert('parley_worker_url', workerUrl)}\n${vaultUpsert('parley_service_role_key', serviceKey)}\n`,
      },
      shows: `supabase db query --linked --file <private file>: vault parley_worker_url=${workerUrl} parley_service_role_key=***`,
    },
  ];
  return { steps, missing, warnings };
}

/** KEY=value lines, # comments and blank lines; quotes around a value are removed. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`cannot read this line of the env file: ${line}`);
    const value = (m[2] as string).replace(/^(['"])(.*)\1$/, '$2');
    out[m[1] as string] = value;
  }
  return out;
}

interface Options {
  projectRef?: string;
  seed: boolean;
  dryRun: boolean;
  envFile?: string;
}

function parseArgs(args: string[]): Options {
  const options: Options = { seed: false, dryRun: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--dry-run') options.dryRun = true;
    else if (arg === '--seed') options.seed = true;
    else if (arg === '--project-ref') options.projectRef = value();
    else if (arg.startsWith('--project-ref=')) options.projectRef = arg.slice(14);
    else if (arg === '--env-file') options.envFile = value();
    else if (arg.startsWith('--env-file=')) options.envFile = arg.slice(11);
    else throw new Error(`unknown argument ${arg}`);
  }
  return options;
}

function gitVersion(projectDir: string): string {
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectDir });
  return git.status === 0 ? git.stdout.toString().trim() : 'unknown';
}

function main(args: string[], env: Record<string, string | undefined>): number {
  const projectDir = resolve(dirname(new URL(import.meta.url).pathname), '..');
  const options = parseArgs(args);
  const projectRef = options.projectRef ?? env.SUPABASE_PROJECT_REF;
  if (!projectRef || !/^[a-z0-9]{20}$/.test(projectRef)) {
    console.error('Give the project: --project-ref <20-character ref> (or SUPABASE_PROJECT_REF).');
    return 2;
  }

  const maps = planImportMaps(projectDir);
  const stale = [...maps.problems, ...drift(projectDir, maps)];
  const plan = deployPlan({
    projectRef,
    seed: options.seed,
    version: env.PARLEY_VERSION || gitVersion(projectDir),
    functions: functionNames(projectDir),
    env,
    fileSecrets: options.envFile ? parseEnvFile(readFileSync(options.envFile, 'utf8')) : {},
  });

  const mode = options.dryRun ? ' (dry run: nothing is changed)' : '';
  console.log(`Deploying Parley to ${projectRef}${mode}`);
  console.log(`0. Check the functions' import maps: ${stale.length ? 'STALE' : 'up to date'}`);
  plan.steps.forEach((step, i) => {
    console.log(`${i + 1}. ${step.title}\n   $ ${step.shows}`);
  });
  console.log('Then the dashboard checklist: docs/deploy.md#checklist');
  for (const w of plan.warnings) console.log(`warning: ${w}`);
  for (const s of stale) console.log(`error: ${s} (npm run gen:import-maps)`);
  for (const m of plan.missing) console.log(`error: ${m} is not set`);
  if (stale.length > 0 || plan.missing.length > 0) return 1;
  if (options.dryRun) return 0;

  const cli = join(projectDir, 'node_modules', '.bin', 'supabase');
  const work = mkdtempSync(join(tmpdir(), 'parley-deploy-'));
  chmodSync(work, 0o700);
  try {
    for (const [i, step] of plan.steps.entries()) {
      console.log(`\n== ${i + 1}. ${step.title}`);
      const args = step.args.map((a) => (step.file && a === step.file.name ? join(work, a) : a));
      if (step.file) writeFileSync(join(work, step.file.name), step.file.content, { mode: 0o600 });
      const run = spawnSync(cli, args, { cwd: projectDir, stdio: 'inherit', env });
      if (step.file) rmSync(join(work, step.file.name), { force: true });
      if (run.status !== 0) {
        console.error(
          `Step ${i + 1} failed; fix it and run npm run deploy again (every step is safe to repeat).`,
        );
        return 1;
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log('\nDeployed. Now go through docs/deploy.md#checklist in the dashboard.');
  return 0;
}

if ((import.meta as { main?: boolean }).main) {
  const { exit, argv, env } = await import('node:process');
  try {
    exit(main(argv.slice(2), env));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    exit(2);
  }
}
