import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
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
  /**
   * An in-memory database starts from a cached copy of the migrated schema when one matches
   * compat.sql and the migrations byte for byte (see docs/testing.md). False replays them all
   * from nothing, as does PARLEY_DB_TEMPLATE=off. Ignored for a data directory on disk.
   */
  template?: boolean;
}

export interface LocalDatabase {
  pg: PGlite;
  /**
   * Migration versions applied by this open, replayed or through the cached template (empty when
   * the data directory was up to date).
   */
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

const EXTENSIONS = { vector, pgcrypto, unaccent, fuzzystrmatch };

function createPglite(dataDir: string, loadDataDir?: Blob) {
  return PGlite.create({
    dataDir,
    extensions: EXTENSIONS,
    serializers: TEXT_FRIENDLY_SERIALIZERS,
    ...(loadDataDir ? { loadDataDir } : {}),
  });
}

// Role-level search_path applies to new sessions; PGlite has exactly one, already open. Being a
// session setting, it is not part of a data directory and is set again after every load.
const SESSION_SQL = 'set search_path to "$user", public, extensions';

const compatPath = join(dirname(fileURLToPath(import.meta.url)), 'compat.sql');

/** What `supabase db reset` builds before the seed: Supabase's own objects, then the migrations. */
async function replaySchema(pg: PGlite, dir: string): Promise<string[]> {
  await pg.exec(await readFile(compatPath, 'utf8'));
  await pg.exec(SESSION_SQL);
  await pg.exec(TRACKING_SQL);
  return applyMigrations(pg, join(dir, 'migrations'));
}

// Starting Postgres from nothing (initdb) and replaying every migration costs seconds per
// in-memory database, and the test suite opens one per file: the migrated data directory is kept
// once as a tarball and later opens start from it. The key covers everything the schema is built
// from, so any change to compat.sql, a migration or PGlite builds a new one.
const TEMPLATE_FORMAT = 'parley-db-template-1';
const TEMPLATES_KEPT = 4;

interface Template {
  path: string;
  versions: string[];
}

function templateDir() {
  return process.env.PARLEY_DB_TEMPLATE_DIR || join(tmpdir(), 'parley-db-templates');
}

async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const manifest = JSON.parse(await readFile(join(dirname(entry), '..', 'package.json'), 'utf8'));
  return String(manifest.version);
}

async function findTemplate(dir: string): Promise<Template | null> {
  try {
    const hash = createHash('sha256').update(TEMPLATE_FORMAT);
    const field = (value: string) => hash.update(`${value.length}:${value}`);
    field(await pgliteVersion());
    field(Object.keys(EXTENSIONS).sort().join(','));
    field(await readFile(compatPath, 'utf8'));
    field(TRACKING_SQL);
    field(SESSION_SQL);
    const migrations = await listMigrations(join(dir, 'migrations'));
    for (const migration of migrations) {
      field(`${migration.version}_${migration.name}`);
      field(await readFile(migration.path, 'utf8'));
    }
    return {
      path: join(templateDir(), `${hash.digest('hex').slice(0, 32)}.tar.gz`),
      versions: migrations.map((m) => m.version),
    };
  } catch {
    return null;
  }
}

async function trackedVersions(pg: PGlite): Promise<string[]> {
  const { rows } = await pg.query<{ version: string }>(
    'select version from supabase_migrations.schema_migrations order by version',
  );
  return rows.map((r) => r.version);
}

/** A template that is missing, unreadable or not the schema it claims to be yields null. */
async function loadTemplate(template: Template): Promise<PGlite | null> {
  const tarball = await readFile(template.path).catch(() => null);
  if (!tarball) return null;
  let pg: PGlite | undefined;
  try {
    pg = await createPglite('memory://', new Blob([tarball]));
    const versions = await trackedVersions(pg);
    if (versions.join() === template.versions.join()) return pg;
  } catch {
    // Replayed and written again below.
  }
  await pg?.close().catch(() => {});
  return null;
}

/** Written aside then renamed, so a concurrent open reads a whole template or none. */
async function saveTemplate(pg: PGlite, template: Template): Promise<void> {
  const temporary = `${template.path}.${process.pid}.${randomUUID()}.tmp`;
  try {
    // Flushed first, so a load replays no write-ahead log.
    await pg.exec('checkpoint');
    const tarball = await pg.dumpDataDir('gzip');
    await mkdir(dirname(template.path), { recursive: true });
    await writeFile(temporary, new Uint8Array(await tarball.arrayBuffer()));
    await rename(temporary, template.path);
    await pruneTemplates(dirname(template.path));
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {});
    console.warn('local database: could not cache the migrated schema', error);
  }
}

/** Each schema change leaves a template behind: keep the few most recent. */
async function pruneTemplates(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.tar.gz'));
  const files = await Promise.all(
    names.map(async (name) => {
      const path = join(dir, name);
      const modified = await stat(path).then(
        (s) => s.mtimeMs,
        () => Number.POSITIVE_INFINITY,
      );
      return { path, modified };
    }),
  );
  files.sort((a, b) => b.modified - a.modified);
  await Promise.all(files.slice(TEMPLATES_KEPT).map((f) => rm(f.path, { force: true })));
}

async function openSchema(
  options: LocalDatabaseOptions,
  dir: string,
): Promise<{ pg: PGlite; applied: string[] }> {
  const onDisk = options.dataDir && !options.dataDir.startsWith('memory://');
  const template =
    onDisk || options.template === false || process.env.PARLEY_DB_TEMPLATE === 'off'
      ? null
      : await findTemplate(dir);
  if (template) {
    const pg = await loadTemplate(template);
    if (pg) {
      await pg.exec(SESSION_SQL);
      return { pg, applied: template.versions };
    }
  }
  if (onDisk) await mkdir(dirname(options.dataDir as string), { recursive: true });
  const pg = await createPglite(options.dataDir ?? 'memory://');
  try {
    const applied = await replaySchema(pg, dir);
    // PGlite learns array types when it starts; a schema just created has its own (one per table
    // row type, enum, extension type), which a loaded template or a re-opened directory knows.
    if (applied.length > 0) await pg.refreshArrayTypes();
    if (template) await saveTemplate(pg, template);
    return { pg, applied };
  } catch (error) {
    await pg.close().catch(() => {});
    throw error;
  }
}

export async function openLocalDatabase(
  options: LocalDatabaseOptions = {},
): Promise<LocalDatabase> {
  const dir = options.supabaseDir ?? supabaseDir;
  const { pg, applied } = await openSchema(options, dir);
  try {
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
