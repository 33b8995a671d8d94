import type { Logger } from '../services.ts';
import type { Authorizer } from './authorization.ts';
import type { JoinedChannel } from './channel.ts';
import type { ChannelRegistry } from './registry.ts';
import type { Frame } from './serializer.ts';

// What a joined channel may send: broadcasts and presence track/untrack. On a private channel
// each needs the INSERT policy for its extension; a refused broadcast is dropped without a word
// (no ack either), a refused track is answered with an error, as Realtime does.

export interface InboundDeps {
  registry: ChannelRegistry;
  authorizer: Authorizer;
  log: Logger;
}

const record = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;

export function receiveBroadcast(channel: JoinedChannel, frame: Frame, { registry }: InboundDeps) {
  const body = record(frame.payload);
  if (!body || typeof body.event !== 'string') return;
  if (channel.private && !channel.identity.policies?.broadcast.write) return;

  // Frame metadata (persist) is for the server, not for the other subscribers.
  const { meta: _meta, ...message } = body;
  registry.broadcast(channel.topic, channel.private, { ...message, type: 'broadcast' }, channel);
  if (channel.ack) channel.reply(frame.ref, 'ok');
}

/** Resolves once the reply is sent; `stillJoined` guards against a channel closed meanwhile. */
export async function receivePresence(
  channel: JoinedChannel,
  frame: Frame,
  deps: InboundDeps,
  stillJoined: () => boolean,
) {
  const body = record(frame.payload) ?? {};
  const event = typeof body.event === 'string' ? body.event.toLowerCase() : '';

  if (event === 'untrack') {
    deps.registry.untrack(channel);
    channel.reply(frame.ref, 'ok');
    return;
  }
  if (event !== 'track') {
    channel.reply(frame.ref, 'error');
    return;
  }
  const payload = body.payload === undefined ? {} : record(body.payload);
  if (!payload) {
    channel.reply(frame.ref, 'error', { reason: 'Presence track payload must be a map' });
    return;
  }

  if (channel.private) {
    if (!channel.identity.policies?.presence) {
      // Presence was off at join, so its policies were never evaluated.
      const policies = await deps.authorizer
        .authorize(channel.identity.claims, channel.subTopic, { presence: true })
        .catch((error) => {
          deps.log('realtime: could not authorize presence', error);
          return null;
        });
      if (!stillJoined()) return;
      if (!policies) {
        channel.reply(frame.ref, 'error');
        return;
      }
      channel.identity = { ...channel.identity, policies };
    }
    if (!channel.identity.policies?.presence?.write) {
      channel.reply(frame.ref, 'error');
      return;
    }
  }

  const enabling = !channel.presenceEnabled;
  channel.presenceEnabled = true;
  deps.registry.track(channel, channel.presenceKey, payload);
  channel.reply(frame.ref, 'ok');
  // Tracking is what turned presence on: without the state the client would only see diffs.
  if (enabling && channel.readsPresence()) {
    channel.push('presence_state', deps.registry.presenceState(channel));
  }
}
