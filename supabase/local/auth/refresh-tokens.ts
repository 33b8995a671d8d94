import type { AuthConfig } from './config.ts';
import type { Tx } from './context.ts';
import { type AuthError, badRequest } from './errors.ts';
import { type Grant, issueRefreshToken } from './sessions.ts';
import { findUserById, isBanned } from './users.ts';

// The refresh_token grant with GoTrue's rotation rules:
// - a live token is revoked and replaced by a new one whose parent it is;
// - a revoked token whose child is the session's live token gets that live token back (the client
//   most likely lost the previous answer);
// - any other revoked token still works for refresh_token_reuse_interval seconds after it was
//   revoked (concurrent refreshes from several tabs), and after that it is refused with
//   refresh_token_already_used and, with rotation enabled, every live token of its session is
//   revoked too, because a replayed old token suggests it was stolen.
// The refusal is an answer, not a failure: the revocations it makes are committed.

export type RefreshOutcome = { grant: Grant } | { error: AuthError };

interface TokenRow {
  id: number;
  token: string;
  user_id: string;
  revoked: boolean | null;
  updated_at: Date | null;
  session_id: string | null;
  session_exists: boolean;
  not_after: Date | null;
}

const notFound = () =>
  badRequest('refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');

export async function useRefreshToken(
  tx: Tx,
  token: string,
  config: AuthConfig,
  userAgent: string | null,
): Promise<RefreshOutcome> {
  if (token.length < 12) return { error: notFound() };
  const { rows } = await tx.query<TokenRow>(
    `select rt.id, rt.token, rt.user_id, rt.revoked, rt.updated_at, rt.session_id,
            s.id is not null as session_exists, s.not_after
       from auth.refresh_tokens rt left join auth.sessions s on s.id = rt.session_id
      where rt.token = $1`,
    [token],
  );
  const row = rows[0];
  const user = row ? await findUserById(tx, row.user_id) : null;
  if (!row || !user) return { error: notFound() };
  if (isBanned(user))
    return { error: badRequest('user_banned', 'Invalid Refresh Token: User Banned') };
  if (!row.session_id || !row.session_exists) {
    await tx.query('delete from auth.refresh_tokens where id = $1', [row.id]);
    return {
      error: badRequest('session_not_found', 'Invalid Refresh Token: No Valid Session Found'),
    };
  }
  const sessionId = row.session_id;
  if (row.not_after && row.not_after.getTime() <= Date.now()) {
    return { error: badRequest('session_expired', 'Invalid Refresh Token: Session Expired') };
  }

  let issued: string | null = null;
  if (row.revoked) {
    const { rows: live } = await tx.query<{ token: string; parent: string | null }>(
      `select token, parent from auth.refresh_tokens
        where session_id = $1 and revoked is false order by id desc limit 1`,
      [sessionId],
    );
    const revokedAt = row.updated_at?.getTime() ?? 0;
    if (live[0] && live[0].parent === row.token) {
      issued = live[0].token;
    } else if (Date.now() > revokedAt + config.refreshTokenReuseInterval * 1000) {
      if (config.refreshTokenRotation) {
        await tx.query(
          `update auth.refresh_tokens set revoked = true, updated_at = now()
            where session_id = $1 and revoked = false`,
          [sessionId],
        );
      }
      return {
        error: badRequest('refresh_token_already_used', 'Invalid Refresh Token: Already Used'),
      };
    }
  }

  if (!issued) {
    await tx.query(
      'update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1',
      [row.id],
    );
    issued = await issueRefreshToken(tx, user.id, sessionId, row.token);
  }
  await tx.query(
    `update auth.sessions
        set refreshed_at = timezone('utc', now()), updated_at = now(), user_agent = $2
      where id = $1`,
    [sessionId, userAgent],
  );
  return { grant: { userId: user.id, sessionId, refreshToken: issued } };
}
