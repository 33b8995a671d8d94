import { RealtimeClient } from '@supabase/realtime-js';
import type { Auth } from './auth.ts';
import { toJson } from './json.ts';

// One private channel per conversation. `onState(true)` only while the channel is joined;
// anything else (errors, timeouts, a dropped socket) is reported so the caller can poll.

export interface ConversationEvents {
  onEvent(event: string, payload: Record<string, unknown>): void;
  onState(online: boolean): void;
}

export function createRealtime(url: string, apikey: string, auth: Auth) {
  let token: string | null = null;
  const client = new RealtimeClient(`${url}/realtime/v1`, {
    params: { apikey },
    // Phoenix's text frame, written without the page's JSON.stringify hooks; the widget never
    // pushes broadcasts, so the binary frame for those is not needed.
    encode: (message: Record<string, unknown>, callback: (encoded: string) => void) =>
      callback(
        toJson([message.join_ref, message.ref, message.topic, message.event, message.payload]),
      ),
    // Consulted on every (re)join, so a reconnect never falls back to the anon key.
    accessToken: async () => {
      token ??= (await auth.session()).access_token;
      return token;
    },
    heartbeatCallback: (status) => {
      if (status === 'timeout' || status === 'disconnected') current?.handlers.onState(false);
    },
  });
  auth.onChange((session) => {
    token = session.access_token;
    void client.setAuth().catch(() => {});
  });

  let current: {
    channel: ReturnType<RealtimeClient['channel']>;
    handlers: ConversationEvents;
  } | null = null;

  return {
    async join(conversationId: string, handlers: ConversationEvents) {
      await this.leave();
      token = (await auth.session()).access_token;
      await client.setAuth();
      const channel = client.channel(`conversation:${conversationId}`, {
        config: { private: true },
      });
      current = { channel, handlers };
      for (const event of [
        'message_created',
        'message_updated',
        'status_changed',
        'typing',
        'reply_delta',
        'read',
      ]) {
        channel.on('broadcast', { event }, (message) => {
          if (current?.channel === channel) {
            handlers.onEvent(event, (message.payload ?? {}) as Record<string, unknown>);
          }
        });
      }
      channel.subscribe((status) => {
        if (current?.channel === channel) handlers.onState(status === 'SUBSCRIBED');
      });
    },
    async leave() {
      const previous = current;
      current = null;
      if (previous) await client.removeChannel(previous.channel);
    },
  };
}

export type Realtime = ReturnType<typeof createRealtime>;
