import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { vector } from '@electric-sql/pglite/vector';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Embedder } from '../../functions/_shared/embeddings/embedder.ts';
import { createHashingEmbedder } from '../../functions/_shared/embeddings/hashing.ts';
import { embedMissingChunks } from '../../functions/_shared/knowledge/embed-missing-chunks.ts';

// The local stand-in for a Supabase project's Postgres: PGlite (real Postgres 17 in WASM) with
// pgvector, the SQL objects Supabase itself provides (compat.sql), then the project's migrations
// and seed exactly as `supabase db reset` would apply them.

const supabaseDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalDatabaseOptions {
  /** Directory to persist to; omitted or 'memory://' keeps everything in memory. */
  dataDir?: string;
  /** Run supabase/seed.sql (once per content hash). Default true. */
  seed?: boolean;
  /** Vault secrets to create or update, e.g. the worker URL and service key for pg_cron. */
  vaultSecrets?: Record<string, string>;
  /** Fills in vectors for chunks stored as text. Default: the hashing embedder. */
  embedder?: Embedder | null;
  /** Where migrations and seed.sql live; defaults to this project's supabase/ folder. */
  supabaseDir?: string;
}

export interface LocalDatabase {
  pg: PGlite;
  /** Migration versions applied by this open (empty when the data directory was up to date). */
  applied: string[];
  seeded: boolean;
  close(): Promise<void>;
}

const TRACKING_SQL = `
  create schema if not exists supabase_migrations;
  create table if not exists supabase_migrations.schema_migrations (
    version text primary key,
    name text,
    statements text[],
    applied_at timestamptz not null default now()
  );
  create table if not exists supabase_migrations.seed_files (
    path text primary key,
    hash text not null
  );
`;

export async function listMigrations(dir = join(supabaseDir, 'migrations')) {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return files.map((file) => {
    const [, version = '', name = ''] = /^(\d+)_(.+)\.sql$/.exec(file) ?? [];
    return { version, name, path: join(dir, file) };
  });
}

async function applyMigrations(pg: PGlite, dir: string): Promise<string[]> {
  const done = new Set(
    (
      await pg.query<{ version: string }>(
        'select version from supabase_migrations.schema_migrations',
      )
    ).rows.map((r) => r.version),
  );
  const applied: string[] = [];
  for (const migration of await listMigrations(dir)) {
    if (done.has(migration.version)) continue;
    const sql = await readFile(migration.path, 'utf8');
    try {
      await pg.transaction(async (tx) => {
        await tx.exec(sql);
        await tx.query(
          'insert into supabase_migrations.schema_migrations (version, name, statements) values ($1, $2, $3)',
          [migration.version, migration.name, [sql]],
        );
      });
    } catch (error) {
      throw new Error(
        `migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    applied.push(migration.version);
  }
  return applied;
}

async function applySeed(pg: PGlite, path: string): Promise<boolean> {
  const sql = await readFile(path, 'utf8').catch(() => null);
  if (sql === null) return false;
  const hash = createHash('sha256').update(sql).digest('hex');
  const previous = await pg.query<{ hash: string }>(
    'select hash from supabase_migrations.seed_files where path = $1',
    ['supabase/seed.sql'],
  );
  if (previous.rows[0]?.hash === hash) return false;
  await pg.transaction(async (tx) => {
    await tx.exec(sql);
    await tx.query(
      `insert into supabase_migrations.seed_files (path, hash) values ($1, $2)
       on conflict (path) do update set hash = excluded.hash`,
      ['supabase/seed.sql', hash],
    );
  });
  return true;
}

async function upsertVaultSecrets(pg: PGlite, secrets: Record<string, string>) {
  for (const [name, secret] of Object.entries(secrets)) {
    await pg.query(
      `insert into vault.secrets (name, secret) values ($1, $2)
       on conflict (name) do update set secret = excluded.secret, updated_at = now()`,
      [name, secret],
    );
  }
}

export async function openLocalDatabase(
  options: LocalDatabaseOptions = {},
): Promise<LocalDatabase> {
  const dir = options.supabaseDir ?? supabaseDir;
  const onDisk = options.dataDir && !options.dataDir.startsWith('memory://');
  if (onDisk) await mkdir(dirname(options.dataDir as string), { recursive: true });
  const pg = await PGlite.create({
    dataDir: options.dataDir ?? 'memory://',
    extensions: { vector, pgcrypto },
  });
  try {
    await pg.exec(
      await readFile(join(dirname(fileURLToPath(import.meta.url)), 'compat.sql'), 'utf8'),
    );
    // Role-level search_path applies to new sessions; PGlite has exactly one, already open.
    await pg.exec('set search_path to "$user", public, extensions');
    await pg.exec(TRACKING_SQL);
    const applied = await applyMigrations(pg, join(dir, 'migrations'));
    const seeded = options.seed === false ? false : await applySeed(pg, join(dir, 'seed.sql'));
    if (options.vaultSecrets) await upsertVaultSecrets(pg, options.vaultSecrets);
    const embedder = options.embedder === undefined ? createHashingEmbedder() : options.embedder;
    if (embedder) {
      await createPgliteDb(pg).asService((sql) => embedMissingChunks(sql, embedder));
    }
    return { pg, applied, seeded, close: () => pg.close() };
  } catch (error) {
    await pg.close().catch(() => {});
    throw error;
  }
}
