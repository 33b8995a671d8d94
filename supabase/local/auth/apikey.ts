import { verifyJwt } from '../keys.ts';

// Supabase's API gateway lets a request through to Auth only with a project API key in the
// `apikey` header or query parameter, and answers anything else itself, in its own shape.

const API_KEY_ROLES = new Set(['anon', 'service_role']);

function refuse(message: string, hint: string): Response {
  return Response.json({ message, hint }, { status: 401 });
}

/** Returns the gateway's 401 for a missing or foreign key, or null to let the request through. */
export function createApiKeyCheck(jwtSecret: string) {
  // Keys that verified once stay valid until they expire; the stack's own keys last until 2100.
  const accepted = new Map<string, number>();

  return async (request: Request): Promise<Response | null> => {
    const key =
      request.headers.get('apikey') ?? new URL(request.url).searchParams.get('apikey') ?? '';
    if (!key)
      return refuse(
        'No API key found in request',
        'No `apikey` request header or url param was found.',
      );

    const expiresAt = accepted.get(key);
    if (expiresAt !== undefined && expiresAt > Date.now() / 1000) return null;

    const claims = await verifyJwt(key, jwtSecret);
    if (!claims || !API_KEY_ROLES.has(claims.role)) {
      return refuse(
        'Invalid API key',
        'Double check your Supabase `anon` or `service_role` API key.',
      );
    }
    accepted.set(key, claims.exp ?? Number.POSITIVE_INFINITY);
    return null;
  };
}
