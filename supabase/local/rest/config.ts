import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { z } from 'zod';

// The Data API's settings, read from supabase/config.toml [api] the way the Supabase CLI hands
// them to PostgREST (db-schemas, db-extra-search-path, db-max-rows), with the CLI's defaults.

export interface ApiConfig {
  /** Exposed schemas; the first is the default profile. */
  schemas: string[];
  extraSearchPath: string[];
  /** Reads are silently capped at this many rows; null = no cap. */
  maxRows: number | null;
}

const fileSchema = z.object({
  api: z
    .object({
      schemas: z.array(z.string().min(1)).min(1).optional(),
      extra_search_path: z.array(z.string().min(1)).optional(),
      max_rows: z.number().int().nonnegative().optional(),
    })
    .optional(),
});

export function readApiConfig(projectDir: string): ApiConfig {
  let raw: unknown = {};
  try {
    raw = parse(readFileSync(join(projectDir, 'supabase', 'config.toml'), 'utf8'));
  } catch {
    // No config file: the CLI's defaults, as for a freshly initialised project.
  }
  const api = fileSchema.parse(raw).api ?? {};
  return {
    schemas: api.schemas ?? ['public', 'graphql_public'],
    extraSearchPath: api.extra_search_path ?? ['public', 'extensions'],
    maxRows: api.max_rows === undefined ? 1000 : api.max_rows === 0 ? null : api.max_rows,
  };
}
