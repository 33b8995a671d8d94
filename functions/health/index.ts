import { createPostgresDb } from '../_shared/db/postgres.ts';
import { createHealthApp } from './app.ts';

const dbUrl = Deno.env.get('SUPABASE_DB_URL');
if (!dbUrl) throw new Error('SUPABASE_DB_URL is not set');

const app = createHealthApp({
  db: createPostgresDb(dbUrl),
  version: Deno.env.get('PARLEY_VERSION') ?? 'dev',
});

Deno.serve(app.fetch);
