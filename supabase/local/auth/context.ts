import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Logger } from '../services.ts';
import type { AuthConfig } from './config.ts';
import type { AuthBucket } from './rate-limits.ts';

/** What every Auth handler works with. */
export interface AuthContext {
  /** Auth reads and writes the auth schema as the database owner, like GoTrue's own role. */
  pg: PGlite;
  config: AuthConfig;
  jwtSecret: string;
  /** The `iss` of access tokens: <publicUrl>/auth/v1. */
  issuer: string;
  log: Logger;
  /** Counts the request against the caller's bucket of this kind; throws 429 when it is empty. */
  rateLimit(kind: AuthBucket): void;
}

/** The part of a PGlite transaction the auth queries use. */
export type Tx = Pick<Transaction, 'query'>;

export type Handler = (request: Request, ctx: AuthContext) => Promise<Response>;
