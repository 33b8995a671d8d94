import type { Tx } from './context.ts';
import { touchLastSignIn } from './users.ts';

// Sessions as GoTrue keeps them: a row in auth.sessions per sign-in, the sign-in method in
// auth.mfa_amr_claims (the `amr` claim of every access token of the session), and a chain of
// refresh tokens in auth.refresh_tokens, each naming the one it replaced as its parent.

export type SignInMethod = 'password' | 'anonymous' | 'otp';

export interface Grant {
  userId: string;
  sessionId: string;
  refreshToken: string;
}

export interface AmrEntry {
  method: string;
  timestamp: number;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** GoTrue's refresh-token format: 12 lower-case base32 characters. */
function newRefreshTokenValue(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 12) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** A new refresh token in the session; signing in again counts as a sign-in, as in GoTrue. */
export async function issueRefreshToken(
  tx: Tx,
  userId: string,
  sessionId: string,
  parent: string | null,
): Promise<string> {
  const token = newRefreshTokenValue();
  await tx.query(
    `insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at,
       parent, session_id)
     values ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3, $4)`,
    [token, userId, parent, sessionId],
  );
  await touchLastSignIn(tx, userId);
  return token;
}

export async function startSession(
  tx: Tx,
  userId: string,
  method: SignInMethod,
  userAgent: string | null,
): Promise<Grant> {
  const sessionId = crypto.randomUUID();
  await tx.query(
    `insert into auth.sessions (id, user_id, created_at, updated_at, aal, user_agent)
     values ($1, $2, now(), now(), 'aal1', $3)`,
    [sessionId, userId, userAgent],
  );
  await tx.query(
    `insert into auth.mfa_amr_claims (id, session_id, created_at, updated_at, authentication_method)
     values (gen_random_uuid(), $1, now(), now(), $2)
     on conflict on constraint mfa_amr_claims_session_id_authentication_method_pkey
     do update set updated_at = now()`,
    [sessionId, method],
  );
  const refreshToken = await issueRefreshToken(tx, userId, sessionId, null);
  return { userId, sessionId, refreshToken };
}

export async function sessionExists(tx: Tx, sessionId: string): Promise<boolean> {
  const { rows } = await tx.query('select 1 from auth.sessions where id = $1', [sessionId]);
  return rows.length > 0;
}

/** Most recent first, as GoTrue orders them. */
export async function amrClaims(tx: Tx, sessionId: string): Promise<AmrEntry[]> {
  const { rows } = await tx.query<AmrEntry>(
    `select authentication_method as method,
            floor(extract(epoch from updated_at))::int8 as timestamp
       from auth.mfa_amr_claims where session_id = $1
      order by updated_at desc`,
    [sessionId],
  );
  return rows.map((row) => ({ method: row.method, timestamp: Number(row.timestamp) }));
}

export type LogoutScope = 'global' | 'local' | 'others';

/** Deleting sessions takes their refresh tokens and amr claims with them (on delete cascade). */
export async function endSessions(
  tx: Tx,
  userId: string,
  currentSessionId: string | null,
  scope: LogoutScope,
): Promise<void> {
  if (currentSessionId && scope === 'local') {
    await tx.query('delete from auth.sessions where id = $1', [currentSessionId]);
  } else if (currentSessionId && scope === 'others') {
    await tx.query('delete from auth.sessions where user_id = $1 and id <> $2', [
      userId,
      currentSessionId,
    ]);
  } else {
    await tx.query('delete from auth.sessions where user_id = $1', [userId]);
  }
}
