import { jwtVerify, SignJWT } from 'jose';

// The local stack signs everything with one HS256 secret, like a Supabase project with the legacy
// JWT secret. The API keys are JWTs with a fixed issue time, so the same secret always yields the
// same keys and a restart does not invalidate a developer's .env.

/** The Supabase CLI's well-known local secret: never use it outside a developer machine. */
export const DEFAULT_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const ISSUED_AT = 1_700_000_000;
const EXPIRES_AT = 4_102_444_800; // 2100-01-01

export interface LocalKeys {
  jwtSecret: string;
  /** Safe in browsers: role anon. Also serves as the publishable key. */
  anonKey: string;
  /** Bypasses RLS: role service_role. Server-side only. */
  serviceRoleKey: string;
}

export type VerifiedClaims = { role: string; sub?: string; exp?: number; [claim: string]: unknown };

const encoder = new TextEncoder();

export function secretKey(jwtSecret: string): Uint8Array {
  return encoder.encode(jwtSecret);
}

async function apiKey(jwtSecret: string, role: 'anon' | 'service_role') {
  return new SignJWT({ iss: 'supabase-demo', role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(ISSUED_AT)
    .setExpirationTime(EXPIRES_AT)
    .sign(secretKey(jwtSecret));
}

export async function createLocalKeys(jwtSecret = DEFAULT_JWT_SECRET): Promise<LocalKeys> {
  if (jwtSecret.length < 32) throw new Error('the JWT secret must be at least 32 characters');
  return {
    jwtSecret,
    anonKey: await apiKey(jwtSecret, 'anon'),
    serviceRoleKey: await apiKey(jwtSecret, 'service_role'),
  };
}

/** Claims of a valid HS256 token signed with the stack's secret (signature and exp checked), else null. */
export async function verifyJwt(token: string, jwtSecret: string): Promise<VerifiedClaims | null> {
  try {
    const { payload } = await jwtVerify(token, secretKey(jwtSecret), { algorithms: ['HS256'] });
    if (typeof payload.role !== 'string') return null;
    return payload as VerifiedClaims;
  } catch {
    return null;
  }
}
