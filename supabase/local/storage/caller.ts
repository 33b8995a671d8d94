import { errors as jose, jwtVerify } from 'jose';
import type { JwtClaims } from '../../../functions/_shared/db/port.ts';
import { secretKey } from '../keys.ts';
import { errors } from './errors.ts';

// Who is asking. Supabase's gateway puts the apikey in Authorization when the client sent no
// Bearer of its own, and Storage then verifies that JWT itself: its role claim is the Postgres
// role the metadata queries run as.

export type CallerRole = 'anon' | 'authenticated' | 'service_role';

/** What Storage exposes of the HTTP request to SQL (request.method, .path, .headers). */
export interface RequestSettings {
  method: string;
  path: string;
  /** Lowercase names, cookies left out. */
  headers: Record<string, string>;
}

export interface Caller {
  role: CallerRole;
  claims: JwtClaims;
  /** The raw JWT, '' when there is none. */
  jwt: string;
  /** False when the request carried no valid JWT and was let through as anon. */
  authenticated: boolean;
  request?: RequestSettings;
}

const ROLES = new Set<string>(['anon', 'authenticated', 'service_role']);

function requestSettings(request: Request): RequestSettings {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    if (name !== 'cookie') headers[name] = value;
  });
  return { method: request.method, path: new URL(request.url).pathname, headers };
}

function bearer(request: Request): string | null {
  const header = request.headers.get('authorization');
  const match = header ? /^bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? request.headers.get('apikey');
}

// jsonwebtoken's wording, which Storage passes on in its AccessDenied message.
function describe(error: unknown): string {
  if (error instanceof jose.JWTExpired) return 'jwt expired';
  if (error instanceof jose.JWSSignatureVerificationFailed) return 'invalid signature';
  if (error instanceof jose.JOSEAlgNotAllowed) return 'invalid algorithm';
  return 'jwt malformed';
}

/**
 * The verified caller. With allowAnonymous (Storage's plain download route) a missing or invalid
 * JWT becomes an unauthenticated anon caller instead of an error.
 */
export async function resolveCaller(
  request: Request,
  jwtSecret: string,
  options: { allowAnonymous?: boolean } = {},
): Promise<Caller> {
  const token = bearer(request);
  let claims: JwtClaims;
  try {
    if (!token) throw new Error('jwt must be provided');
    const { payload } = await jwtVerify(token, secretKey(jwtSecret), { algorithms: ['HS256'] });
    if (typeof payload.role !== 'string') throw new Error('jwt malformed');
    claims = payload as JwtClaims;
  } catch (error) {
    if (options.allowAnonymous) {
      return {
        role: 'anon',
        claims: { role: 'anon' },
        jwt: '',
        authenticated: false,
        request: requestSettings(request),
      };
    }
    const message = !token ? 'jwt must be provided' : describe(error);
    throw errors.accessDenied(message);
  }
  if (!ROLES.has(claims.role)) throw errors.accessDenied(`role ${claims.role} is not allowed`);
  return {
    role: claims.role as CallerRole,
    claims,
    jwt: token,
    authenticated: true,
    request: requestSettings(request),
  };
}

/** Storage's owner columns: owner is the sub when it is a uuid, owner_id the raw sub. */
export function ownerOf(caller: Pick<Caller, 'claims'>): {
  owner: string | null;
  ownerId: string | null;
} {
  const sub = typeof caller.claims.sub === 'string' ? caller.claims.sub : null;
  const isUuid =
    sub !== null && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sub);
  return { owner: isUuid ? sub : null, ownerId: sub };
}
