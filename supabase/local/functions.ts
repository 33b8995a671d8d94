import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { corsHeaders } from '@supabase/supabase-js/cors';
import { parse } from 'smol-toml';
import type { FunctionApp, FunctionContext } from '../../functions/_shared/platform/context.ts';
import { verifyJwt } from './keys.ts';
import type { HttpService, LocalServices } from './services.ts';

// /functions/v1/<name>/* → functions/<name>/app.ts, as Supabase's edge runtime would route it:
// the entrypoint and verify_jwt come from supabase/config.toml, the function sees its path without
// the /functions/v1 prefix, and the platform's environment variables are set. Instead of running
// index.ts (which would need its own Postgres connection), the router calls the app's
// createApp(context) with the stack's in-process database.

export interface FunctionConfig {
  name: string;
  verifyJwt: boolean;
  /** Absolute path of the entrypoint (index.ts); app.ts sits beside it. */
  entrypoint: string;
}

export async function readFunctionConfig(projectDir: string): Promise<FunctionConfig[]> {
  const supabaseDir = join(projectDir, 'supabase');
  const config = parse(await readFile(join(supabaseDir, 'config.toml'), 'utf8')) as {
    functions?: Record<string, { enabled?: boolean; verify_jwt?: boolean; entrypoint?: string }>;
  };
  return Object.entries(config.functions ?? {})
    .filter(([, f]) => f.enabled !== false)
    .map(([name, f]) => ({
      name,
      verifyJwt: f.verify_jwt !== false,
      entrypoint: resolve(supabaseDir, f.entrypoint ?? `./functions/${name}/index.ts`),
    }));
}

type PendingWork = Set<Promise<unknown>>;

export interface FunctionsRouter extends HttpService {
  /** Resolves when every waitUntil promise started so far has settled. */
  drain(): Promise<void>;
}

function unauthorized(message: string): Response {
  return Response.json({ msg: message }, { status: 401, headers: corsHeaders });
}

export async function createFunctionsRouter(
  services: LocalServices,
  extraEnv: Record<string, string | undefined> = {},
): Promise<FunctionsRouter> {
  const configs = await readFunctionConfig(services.projectDir);
  const pending: PendingWork = new Set();
  const waitUntil = (promise: Promise<unknown>) => {
    const tracked = promise
      .catch((error) => services.log('waitUntil task failed', error))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  };
  // The same global Supabase's edge runtime provides, for code that looks for it.
  (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime = { waitUntil };

  const env: Record<string, string | undefined> = {
    ...extraEnv,
    SUPABASE_URL: services.publicUrl,
    SUPABASE_ANON_KEY: services.keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: services.keys.serviceRoleKey,
    // Supabase hands functions no JWT secret; Parley reads JWT_SECRET (set as a function secret).
    JWT_SECRET: services.keys.jwtSecret,
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: services.keys.anonKey }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: services.keys.serviceRoleKey }),
  };
  const context: FunctionContext = { env, db: services.db, waitUntil, log: services.log };

  const apps = new Map<string, { config: FunctionConfig; app: Promise<FunctionApp> }>();
  for (const config of configs) {
    // Loaded on first use, like a cold start, so one broken function cannot stop the stack.
    let app: Promise<FunctionApp> | undefined;
    apps.set(config.name, {
      config,
      get app() {
        app ??= import(pathToFileURL(join(config.entrypoint, '..', 'app.ts')).href).then(
          (module: { createApp(context: FunctionContext): FunctionApp }) =>
            module.createApp(context),
        );
        return app;
      },
    });
  }

  return {
    async fetch(request) {
      const url = new URL(request.url);
      const [, name] = /^\/functions\/v1\/([^/?]+)/.exec(url.pathname) ?? [];
      const entry = name ? apps.get(name) : undefined;
      // Parley's error shape, which every client of its functions already parses.
      if (!entry) {
        return Response.json(
          { error: { code: 'function_not_found', message: 'Function not found' } },
          { status: 404, headers: corsHeaders },
        );
      }

      if (entry.config.verifyJwt && request.method !== 'OPTIONS') {
        const header = request.headers.get('authorization');
        if (!header) return unauthorized('Error: Missing authorization header');
        const [scheme, token] = header.split(' ');
        if (scheme?.toLowerCase() !== 'bearer' || !token) return unauthorized('Invalid JWT');
        if (!(await verifyJwt(token, services.keys.jwtSecret))) return unauthorized('Invalid JWT');
      }

      let app: FunctionApp;
      try {
        app = await entry.app;
      } catch (error) {
        services.log(`function ${entry.config.name} failed to boot`, error);
        return Response.json(
          { code: 'BOOT_ERROR', message: 'Function failed to start' },
          { status: 503 },
        );
      }
      url.pathname = url.pathname.slice('/functions/v1'.length);
      try {
        return await app.fetch(new Request(url, request));
      } catch (error) {
        services.log(`function ${entry.config.name} crashed`, error);
        return Response.json(
          { code: 'WORKER_ERROR', message: 'Function exited due to an error' },
          { status: 500 },
        );
      }
    },
    async drain() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
