import type { Authorizer, Policies } from './authorization.ts';
import type { Identity, JoinedChannel } from './channel.ts';
import { unreadableReason } from './join.ts';
import { checkToken } from './tokens.ts';

// A joined channel's token is checked again when the client sends a new one and when the current
// one expires. Failing either way ends the channel with Realtime's message for the reason.

export type Reauthorization = { ok: true; identity: Identity } | { ok: false; message: string };

const lostRead = (before: Policies | null, after: Policies) =>
  (before?.broadcast.read === true && !after.broadcast.read) ||
  (before?.presence?.read === true && after.presence?.read !== true);

export async function reauthorize(
  channel: JoinedChannel,
  token: string,
  deps: { authorizer: Authorizer; jwtSecret: string },
): Promise<Reauthorization> {
  const check = await checkToken(token, deps.jwtSecret);
  if (!check.ok) return { ok: false, message: check.message };
  if (!channel.private)
    return { ok: true, identity: { token, claims: check.claims, policies: null } };

  const before = channel.identity.policies;
  const policies = await deps.authorizer.authorize(check.claims, channel.subTopic, {
    presence: before?.presence != null,
  });
  if (!policies.broadcast.read && !policies.presence?.read) {
    return { ok: false, message: unreadableReason(channel.subTopic) };
  }
  if (lostRead(before, policies)) {
    return {
      ok: false,
      message: `You no longer have permission to read from this Channel topic: ${channel.subTopic}`,
    };
  }
  return { ok: true, identity: { token, claims: check.claims, policies } };
}
