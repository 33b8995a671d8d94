import type { Authorizer } from './authorization.ts';
import type { ChannelOptions, Identity } from './channel.ts';
import type { Frame } from './serializer.ts';
import { checkToken, isOpaqueKey, joinErrorReason } from './tokens.ts';

// What a phx_join asks for and whether it may have it. Refusals carry Realtime's reasons, which
// realtime-js hands to the subscribe callback as CHANNEL_ERROR.

export type JoinResult =
  | { ok: true; options: ChannelOptions; identity: Identity }
  | { ok: false; reason: string };

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

export const unreadableReason = (subTopic: string) =>
  `You do not have permissions to read from this Channel topic: ${subTopic}`;

/** The channel's token: the join's own unless it is an API key, else the socket's apikey. */
export function joinToken(payload: Record<string, unknown>, socketToken: string): string {
  const own = payload.user_token ?? payload.access_token;
  if (typeof own !== 'string' || own === '' || isOpaqueKey(own)) return socketToken;
  return own;
}

export function readJoin(frame: Frame): ChannelOptions & { postgresChanges: unknown[] } {
  const config = record(record(frame.payload).config);
  const broadcast = record(config.broadcast);
  const presence = record(config.presence);
  const key = typeof presence.key === 'string' && presence.key !== '' ? presence.key : null;
  return {
    topic: frame.topic,
    joinRef: frame.joinRef ?? frame.ref,
    private: config.private === true,
    selfBroadcast: broadcast.self === true,
    ack: broadcast.ack === true,
    presenceKey: key ?? crypto.randomUUID(),
    presenceEnabled: presence.enabled === true,
    postgresChanges: Array.isArray(config.postgres_changes) ? config.postgres_changes : [],
  };
}

export async function evaluateJoin(
  frame: Frame,
  socketToken: string,
  deps: { authorizer: Authorizer; jwtSecret: string },
): Promise<JoinResult> {
  const subTopic = frame.topic.slice('realtime:'.length);
  if (subTopic === '') {
    return { ok: false, reason: 'TopicNameRequired: You must provide a topic name' };
  }
  const { postgresChanges, ...options } = readJoin(frame);
  if (postgresChanges.length > 0) {
    return {
      ok: false,
      reason:
        'PostgresChangesNotSupported: postgres_changes are not provided by the local stack; ' +
        'broadcast from the database with realtime.send() instead',
    };
  }

  const token = joinToken(record(frame.payload), socketToken);
  const check = await checkToken(token, deps.jwtSecret);
  if (!check.ok) return { ok: false, reason: joinErrorReason(check) };

  if (!options.private) {
    return { ok: true, options, identity: { token, claims: check.claims, policies: null } };
  }

  const policies = await deps.authorizer.authorize(check.claims, subTopic, {
    presence: options.presenceEnabled,
  });
  if (!policies.broadcast.read && !policies.presence?.read) {
    return { ok: false, reason: `Unauthorized: ${unreadableReason(subTopic)}` };
  }
  return { ok: true, options, identity: { token, claims: check.claims, policies } };
}
