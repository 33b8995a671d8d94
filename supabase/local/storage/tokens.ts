import { errors as jose, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { secretKey } from '../keys.ts';
import { errors } from './errors.ts';

// Signed URL tokens as Storage makes them: HS256 JWTs under the project's JWT secret naming the
// exact "<bucket>/<key>" they open and what for, valid until exp. A token for one object, or for
// downloading, opens nothing else.

export type Scope = 'download' | 'upload';

const claimsSchema = z.object({
  url: z.string(),
  scope: z.enum(['download', 'upload']).optional(),
  owner: z.string().nullable().optional(),
  upsert: z.boolean().optional(),
  exp: z.number(),
});

export type SignedClaims = z.infer<typeof claimsSchema>;

export async function signUrlToken(
  jwtSecret: string,
  claims: { url: string; scope: Scope; owner?: string | null; upsert?: boolean },
  expiresInSeconds: number,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + expiresInSeconds)
    .sign(secretKey(jwtSecret));
}

/** The token's claims when it is valid for this scope and exactly this "<bucket>/<key>". */
export async function verifyUrlToken(
  jwtSecret: string,
  token: string | null,
  scope: Scope,
  url: string,
): Promise<SignedClaims> {
  if (!token) throw errors.invalidJwt('jwt must be provided');
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, secretKey(jwtSecret), { algorithms: ['HS256'] }));
  } catch (error) {
    if (error instanceof jose.JWTExpired) throw errors.expiredToken();
    if (error instanceof jose.JWSSignatureVerificationFailed) {
      throw errors.invalidJwt('invalid signature');
    }
    throw errors.invalidJwt('jwt malformed');
  }
  const claims = claimsSchema.safeParse(payload);
  if (!claims.success) throw errors.invalidJwt('jwt malformed');
  if ((claims.data.scope ?? 'download') !== scope || claims.data.url !== url) {
    throw errors.invalidSignature();
  }
  return claims.data;
}
