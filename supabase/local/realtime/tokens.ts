import { errors, jwtVerify } from 'jose';
import type { JwtClaims } from '../../../functions/_shared/db/port.ts';
import { secretKey } from '../keys.ts';

// Realtime's token rules: a JWT signed with the project secret that carries `role` and an integer
// `exp`. The wording of each refusal is Realtime's, because clients surface it verbatim.

export type RealtimeClaims = JwtClaims & { exp: number };

export type TokenCheck =
  | { ok: true; claims: RealtimeClaims }
  | {
      ok: false;
      /** Realtime's error code: join replies read `<code>: <message>`. */
      code: string;
      /** What a channel shut down over this token is told. */
      message: string;
    };

const ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const nowSeconds = () => Math.floor(Date.now() / 1000);

export const joinErrorReason = (check: Extract<TokenCheck, { ok: false }>) =>
  `${check.code}: ${check.message}`;

/** The API-key style tokens (sb_publishable_…, sb_secret_…) that are not JWTs. */
export const isOpaqueKey = (token: string) => token.startsWith('sb_');

export async function checkToken(token: string, jwtSecret: string): Promise<TokenCheck> {
  try {
    const { payload } = await jwtVerify(token.replace(/\s/g, ''), secretKey(jwtSecret), {
      algorithms: ALGORITHMS,
    });
    if (typeof payload.role !== 'string' || !Number.isInteger(payload.exp)) {
      return {
        ok: false,
        code: 'InvalidJWTToken',
        message: 'Fields `role` and `exp` are required in JWT',
      };
    }
    return { ok: true, claims: payload as RealtimeClaims };
  } catch (error) {
    if (error instanceof errors.JWTExpired) {
      const exp = Number(error.payload.exp);
      return {
        ok: false,
        code: 'InvalidJWTToken',
        message: `Token has expired ${nowSeconds() - exp} seconds ago`,
      };
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return { ok: false, code: 'JwtSignatureError', message: 'Failed to validate JWT signature' };
    }
    if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
      return {
        ok: false,
        code: 'JwtSignerError',
        message: 'Failed to generate JWT signer, check your JWT secret or JWKS configuration',
      };
    }
    return { ok: false, code: 'MalformedJWT', message: 'The token provided is not a valid JWT' };
  }
}

/** Milliseconds until the claims expire (negative once they have). */
export const msUntilExpiry = (claims: RealtimeClaims) => claims.exp * 1000 - Date.now();

export const expiredMessage = (claims: RealtimeClaims) =>
  `Token has expired ${nowSeconds() - claims.exp} seconds ago`;
