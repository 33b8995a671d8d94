import { authenticate } from './access-token.ts';
import type { Handler } from './context.ts';
import { badRequest } from './errors.ts';
import { endSessions, type LogoutScope } from './sessions.ts';

// POST /logout?scope=global|local|others ends sessions; their refresh tokens go with them, and
// access tokens of an ended session are refused by /user from then on (session_not_found).

const SCOPES: Record<string, LogoutScope> = {
  '': 'global',
  global: 'global',
  local: 'local',
  others: 'others',
};

export const logout: Handler = (request, ctx) =>
  ctx.pg.transaction(async (tx) => {
    const { user, sessionId } = await authenticate(request, ctx, tx);
    const requested = new URL(request.url).searchParams.get('scope') ?? '';
    const scope = SCOPES[requested];
    if (!scope) {
      throw badRequest(
        'validation_failed',
        `Unsupported logout scope ${JSON.stringify(requested)}`,
      );
    }
    await endSessions(tx, user.id, sessionId, scope);
    return new Response(null, { status: 204 });
  });
