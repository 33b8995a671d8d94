import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import type { JwtClaims } from '../db/port.ts';

// Who is calling: the verified claims of the request's bearer token. Functions verify tokens
// themselves instead of trusting the gateway, because DESIGN makes RLS (fed by these claims) the
// security boundary. HS256 tokens are checked with the project's JWT secret; asymmetric ones with
// the project's published keys.

export interface ClaimsVerifier {
  verify(token: string): Promise<JwtClaims | null>;
}

export function createClaimsVerifier(
  env: Readonly<Record<string, string | undefined>>,
): ClaimsVerifier {
  const secret = env.SUPABASE_JWT_SECRET ?? env.JWT_SECRET;
  const hmacKey = secret ? new TextEncoder().encode(secret) : null;
  const jwks = env.SUPABASE_URL
    ? createRemoteJWKSet(new URL('/auth/v1/.well-known/jwks.json', env.SUPABASE_URL))
    : null;
  return {
    async verify(token) {
      try {
        const [header] = token.split('.');
        const alg = header
          ? (JSON.parse(atob(header.replace(/-/g, '+').replace(/_/g, '/'))).alg as string)
          : '';
        let payload: JWTPayload;
        if (alg === 'HS256') {
          if (!hmacKey) return null;
          ({ payload } = await jwtVerify(token, hmacKey, { algorithms: ['HS256'] }));
        } else {
          if (!jwks) return null;
          ({ payload } = await jwtVerify(token, jwks, { algorithms: ['ES256', 'RS256'] }));
        }
        if (typeof payload.role !== 'string') return null;
        return payload as JwtClaims;
      } catch {
        return null;
      }
    },
  };
}

export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1] ?? null;
}
