import type { HttpService, LocalServices } from './services.ts';

export function createAuth(_services: LocalServices): HttpService {
  return { fetch: async () => Response.json({ msg: 'auth is starting up' }, { status: 503 }) };
}
