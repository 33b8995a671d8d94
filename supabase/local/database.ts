import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { vector } from '@electric-sql/pglite/vector';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createEmbedder } from '../../functions/_shared/embeddings/config.ts';
import type { Embedder } from '../../functions/_shared/embeddings/embedder.ts';
import {
  INGEST_DOCUMENT_JOB,
  ingestDocument,
} from '../../functions/_shared/knowledge/ingest-document.ts';

// The local stand-in for a Supabase project's Postgres: PGlite (real Postgres 17 in WASM) with
// pgvector, the SQL objects Supabase itself provides (compat.sql), then the project's migrations
// and seed exactly as `supabase db reset` would apply them.

// PGlite refuses a string parameter where Postgres infers boolean or bytea. Postgres itself takes
// text for both ('true', 'yes', '\\x00ff'…), and the Data API's filters (`?active=eq.true`) only
// have text: let strings through for Postgres to parse, as a real server's driver would.
const TEXT_FRIENDLY_SERIALIZERS = {
  16: (value: unknown) =>
    typeof value === 'string'
      ? value
      : value === true
        ? 't'
        : value === false
          ? 'f'
          : refuse('boolean'),
  17: (value: unknown) =>
    typeof value === 'string'
      ? value
      : value instanceof Uint8Array
        ? `\\x${Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('')}`
        : refuse('bytea'),
};

function refuse(type: string): never {
  throw new Error(`Invalid input for ${type} type`);
}

const supabaseDir = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface LocalDatabaseOptions {
  /** Directory to persist to; omitted or 'memory://' keeps everything in memory. */
  dataDir?: string;
  /** Run supabase/seed.sql (once per content hash). Default true. */
  seed?: boolean;
  /** Vault secrets to create or update, e.g. the worker URL and service key for pg_cron. */
  vaultSecrets?: Record<string, string>;
  /**
   * Ingests the documents left pending (the seed's, say) before the database is handed out, so
   * search works on them at once. Default: the embedder EMBEDDINGS_PROVIDER selects, which is the
   * hashing one unless configured otherwise; null leaves pending documents to the job queue.
   */
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

/**
 * A data folder seeded under one port and opened under another would keep calling (and signing
 * for) whatever listens on the old port: the demo tools follow the stack to its current address.
 * Only loopback URLs of the demo service are touched, never a tenant's own endpoint.
 */
async function repointDemoTools(pg: PGlite, demoN8nUrl: string) {
  await pg.query(
    `update public.tenant_tools
        set webhook_url = $1 || substring(webhook_url from '/demo/n8n(/.*)$')
      where webhook_url ~ '^http://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?/demo/n8n/'
        and webhook_url is distinct from $1 || substring(webhook_url from '/demo/n8n(/.*)$')`,
    [demoN8nUrl],
  );
}

/**
 * Works the pending documents' ingestion here and now instead of waiting for the worker. Their
 * queued ingest_document jobs are then finished as the worker would have finished them, so the
 * queue neither shows them as due nor embeds the same documents a second time. A document that
 * fails keeps its job queued: the worker retries it with backoff, as it would any failed job.
 */
async function ingestPendingDocuments(db: Db, embedder: Embedder): Promise<number> {
  const pending = await db.asService((sql) =>
    sql.query<{ id: string }>(
      // A file's bytes are read through Storage, which is not up yet: the worker takes those.
      `select id from public.documents where status = 'pending' and storage_path is null
        order by created_at, id`,
    ),
  );
  let ingested = 0;
  for (const { id } of pending) {
    let result: Awaited<ReturnType<typeof ingestDocument>>;
    try {
      result = await ingestDocument(db, embedder, id);
    } catch (error) {
      console.error(
        `local database: ingesting document ${id} failed; the job queue will retry`,
        error,
      );
      continue;
    }
    await db.asService((sql) =>
      sql.query(
        `update public.jobs
            set status = 'succeeded', finished_at = now(), last_error = null,
                result = $3::jsonb
          where kind = $1 and status = 'queued' and payload ->> 'document_id' = $2`,
        [
          INGEST_DOCUMENT_JOB,
          id,
          {
            document_id: id,
            status: result.status,
            chunk_count: result.chunkCount,
            model: result.model,
            worker: 'local-database-open',
          },
        ],
      ),
    );
    ingested++;
  }
  return ingested;
}

/** ANALYZE as autovacuum would: the tables written since they were last analyzed, not the catalog. */
async function analyzeChanged(pg: PGlite): Promise<void> {
  // This session's own counts reach the statistics views once flushed.
  await pg.query('select pg_stat_force_next_flush()');
  await pg.query('select 1');
  const { rows } = await pg.query<{ name: string }>(
    `select format('%I.%I', schemaname, relname) as name from pg_stat_user_tables
      where n_mod_since_analyze > 0 or last_analyze is null`,
  );
  if (rows.length > 0) await pg.exec(`analyze ${rows.map((r) => r.name).join(', ')}`);
}

export async function openLocalDatabase(
  options: LocalDatabaseOptions = {},
): Promise<LocalDatabase> {
  const dir = options.supabaseDir ?? supabaseDir;
  const onDisk = options.dataDir && !options.dataDir.startsWith('memory://');
  if (onDisk) await mkdir(dirname(options.dataDir as string), { recursive: true });
  const pg = await PGlite.create({
    dataDir: options.dataDir ?? 'memory://',
    extensions: { vector, pgcrypto, unaccent },
    serializers: TEXT_FRIENDLY_SERIALIZERS,
  });
  try {
    await pg.exec(
      await readFile(join(dirname(fileURLToPath(import.meta.url)), 'compat.sql'), 'utf8'),
    );
    // Role-level search_path applies to new sessions; PGlite has exactly one, already open.
    await pg.exec('set search_path to "$user", public, extensions');
    await pg.exec(TRACKING_SQL);
    const applied = await applyMigrations(pg, join(dir, 'migrations'));
    // Secrets first: the seed reads the stack's own addresses from the vault.
    if (options.vaultSecrets) await upsertVaultSecrets(pg, options.vaultSecrets);
    const seeded = options.seed === false ? false : await applySeed(pg, join(dir, 'seed.sql'));
    const demoN8nUrl = options.vaultSecrets?.parley_demo_n8n_url;
    if (demoN8nUrl) await repointDemoTools(pg, demoN8nUrl);
    const embedder =
      options.embedder === undefined ? createEmbedder(process.env) : options.embedder;
    const ingested = embedder ? await ingestPendingDocuments(createPgliteDb(pg), embedder) : 0;
    // Postgres' autovacuum would analyze after this much change; PGlite runs no autovacuum, and
    // without statistics the planner never picks the HNSW or GIN indexes.
    if (applied.length > 0 || seeded || ingested > 0) await analyzeChanged(pg);
    return { pg, applied, seeded, close: () => pg.close() };
  } catch (error) {
    await pg.close().catch(() => {});
    throw error;
  }
}
