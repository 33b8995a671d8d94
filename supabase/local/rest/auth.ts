import { errors, jwtVerify } from 'jose';
import { secretKey } from '../keys.ts';
import { ApiError } from './errors.ts';

// Who a request runs as. Supabase's gateway first swaps a `sb_…` Bearer (or none) for the API
// key; PostgREST then verifies the JWT with the project's secret and takes the role from its
// `role` claim, anon when there is no token at all.

export interface Caller {
  role: string;
  /** All verified claims, role included: what request.jwt.claims holds. */
  claims: Record<string, unknown>;
}

// The roles Supabase's `authenticator` may switch to; anything else would be a privilege no real
// project grants to a token, whoever signed it.
const SWITCHABLE = new Set(['anon', 'authenticated', 'service_role']);

function invalidToken(code: string, message: string): ApiError {
  return new ApiError(401, code, message, null, null, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description="${message}"`,
  });
}

/** The Bearer PostgREST sees after the gateway's rewrite. */
export function bearerOf(request: Request): string | null {
  const header = request.headers.get('authorization');
  const match = header ? /^bearer\s+(\S+)$/i.exec(header.trim()) : null;
  const token = match?.[1];
  if (token && !token.startsWith('sb_')) return token;
  return request.headers.get('apikey') ?? new URL(request.url).searchParams.get('apikey');
}

export async function identify(
  request: Request,
  jwtSecret: string,
  roleExists: (role: string) => boolean,
): Promise<Caller> {
  const token = bearerOf(request);
  if (!token) return { role: 'anon', claims: { role: 'anon' } };
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(token, secretKey(jwtSecret), {
      algorithms: ['HS256'],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw invalidToken('PGRST303', 'JWT expired');
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw invalidToken('PGRST301', 'JWT cryptographic operation failed');
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      throw invalidToken('PGRST303', `JWT claims validation failed: ${error.message}`);
    }
    throw invalidToken('PGRST301', 'JWT could not be decoded');
  }
  const role = typeof claims.role === 'string' && claims.role !== '' ? claims.role : 'anon';
  if (!roleExists(role)) {
    throw new ApiError(401, '22023', `role "${role}" does not exist`, null, null, {
      'WWW-Authenticate': 'Bearer',
    });
  }
  if (!SWITCHABLE.has(role)) {
    throw new ApiError(403, '42501', `permission denied to set role "${role}"`);
  }
  return { role, claims: { ...claims, role } };
}
