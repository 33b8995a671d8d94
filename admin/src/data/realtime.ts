import { signal } from '@preact/signals';
import type { RealtimeChannel } from '@supabase/realtime-js';
import { supabase } from './client.ts';

// Private Realtime topics, shared: the inbox list and an open conversation both listen to
// tenant:<id>:inbox, over one channel. The SPA only receives on these topics; everything it
// changes goes through the Data API, and the database broadcasts the result.

export type Listener = (event: string, payload: Record<string, unknown>) => void;

interface Topic {
  channel: RealtimeChannel;
  listeners: Set<Listener>;
  /** Called after a rejoin: events may have been missed while away. */
  resync: Set<() => void>;
  joined: boolean;
  everJoined: boolean;
}

const topics = new Map<string, Topic>();
/** Whether every topic in use is joined. */
export const live = signal(false);

function updateLive() {
  live.value = topics.size > 0 && [...topics.values()].every((t) => t.joined);
}

export function listen(topicName: string, listener: Listener, resync?: () => void): () => void {
  let topic = topics.get(topicName);
  if (!topic) {
    const created: Topic = {
      channel: supabase().realtime.channel(topicName, { config: { private: true } }),
      listeners: new Set(),
      resync: new Set(),
      joined: false,
      everJoined: false,
    };
    created.channel
      .on('broadcast', { event: '*' }, (message) => {
        const payload = (message.payload ?? {}) as Record<string, unknown>;
        for (const l of created.listeners) l(message.event, payload);
      })
      .subscribe((status) => {
        const wasJoined = created.joined;
        created.joined = status === 'SUBSCRIBED';
        if (created.joined && !wasJoined && created.everJoined) {
          for (const r of created.resync) r();
        }
        if (created.joined) created.everJoined = true;
        updateLive();
      });
    topic = created;
    topics.set(topicName, created);
  }
  topic.listeners.add(listener);
  if (resync) topic.resync.add(resync);
  const current = topic;
  return () => {
    current.listeners.delete(listener);
    if (resync) current.resync.delete(resync);
    if (current.listeners.size === 0) {
      topics.delete(topicName);
      void supabase().realtime.removeChannel(current.channel);
      updateLive();
    }
  };
}
