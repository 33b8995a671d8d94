import { signAccessToken } from './access-token.ts';
import type { AuthContext, Tx } from './context.ts';
import type { WeakPassword } from './errors.ts';
import { json } from './http.ts';
import { amrClaims, type Grant } from './sessions.ts';
import { findUserById, userJson } from './users.ts';

/** GoTrue's token response: what auth-js stores as the session. */
export async function sessionResponse(
  tx: Tx,
  ctx: AuthContext,
  grant: Grant,
  weakPassword?: WeakPassword | null,
): Promise<Response> {
  // Read back rather than reuse: triggers on auth.users may have changed the row.
  const user = await findUserById(tx, grant.userId);
  if (!user) throw new Error(`user ${grant.userId} vanished while signing in`);
  const amr = await amrClaims(tx, grant.sessionId);
  const { token, expiresAt } = await signAccessToken(ctx, user, grant.sessionId, amr);
  return json({
    access_token: token,
    token_type: 'bearer',
    expires_in: ctx.config.jwtExpiry,
    expires_at: expiresAt,
    refresh_token: grant.refreshToken,
    user: await userJson(tx, user),
    ...(weakPassword ? { weak_password: weakPassword } : {}),
  });
}
