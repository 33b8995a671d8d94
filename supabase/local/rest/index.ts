import { createApiKeyCheck } from '../auth/apikey.ts';
import type { HttpService, LocalServices } from '../services.ts';
import { identify } from './auth.ts';
import { readApiConfig } from './config.ts';
import { ApiError, errorResponse, toApiError } from './errors.ts';
import { handle } from './handler.ts';
import { watchSchemaCache } from './schema-cache.ts';

// The local stand-in for the Data API (PostgREST behind Supabase's gateway) under /rest/v1:
// the gateway's API-key check and CORS, then PostgREST's reading of the request, each one run in
// its own transaction as the caller's role so that grants and RLS decide what it may see or do.

export interface RestService extends HttpService {
  /** Re-reads the catalog now (NOTIFY pgrst, 'reload schema' does the same). */
  reloadSchema(): Promise<void>;
  stop(): Promise<void>;
}

const EXPOSED = [
  'Content-Range',
  'Content-Location',
  'Location',
  'Preference-Applied',
  'Proxy-Status',
  'Range-Unit',
].join(', ');

function withCors(response: Response): Response {
  response.headers.set('Access-Control-Allow-Origin', '*');
  response.headers.set('Access-Control-Expose-Headers', EXPOSED);
  return response;
}

function preflight(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, HEAD, POST, PATCH, PUT, DELETE, OPTIONS',
      // Echoed as the gateway does; includes X-Retry-Count, which postgrest-js adds on retries.
      'Access-Control-Allow-Headers':
        request.headers.get('access-control-request-headers') ??
        'authorization, apikey, content-type, x-client-info, accept-profile, content-profile, prefer, range, range-unit, x-retry-count',
      'Access-Control-Max-Age': '3600',
    },
  });
}

export function createRest(services: LocalServices): RestService {
  const config = readApiConfig(services.projectDir);
  const schema = watchSchemaCache(services.pg, config.schemas, services.log);
  const checkApiKey = createApiKeyCheck(services.keys.jwtSecret);

  return {
    async fetch(request) {
      if (request.method === 'OPTIONS') return preflight(request);
      const refused = await checkApiKey(request);
      if (refused) return withCors(refused);
      const path = new URL(request.url).pathname.replace(/^\/rest\/v1/, '');
      let role = 'anon';
      try {
        const cache = await schema.get();
        const caller = await identify(request, services.keys.jwtSecret, (r) => cache.roles.has(r));
        role = caller.role;
        return withCors(
          await handle(
            { pg: services.pg, cache, config, caller, publicUrl: services.publicUrl },
            request,
            path,
          ),
        );
      } catch (error) {
        const { error: apiError, unexpected } = toApiError(error, role);
        if (unexpected) services.log('rest: request failed', error);
        return withCors(errorResponse(apiError));
      }
    },
    async reloadSchema() {
      await schema.reload();
    },
    stop: () => schema.stop(),
  };
}

export { ApiError };
