import { describe, expect, it } from 'vitest';
import { deliverDatabaseBroadcasts } from '../../supabase/local/realtime/database-broadcasts.ts';
import { ChannelRegistry } from '../../supabase/local/realtime/registry.ts';

// The database feed on its own: a fake session whose notifications the test fires by hand.

function fakeDatabase(rows: Record<string, { topic: string; event: string; payload: unknown }>) {
  let notify: (payload: string) => void = () => {};
  const pg = {
    listen: async (_channel: string, callback: (payload: string) => void) => {
      notify = callback;
      return async () => {};
    },
    query: async <T>(_sql: string, params: unknown[]) => {
      const row = rows[String(params[0])];
      return { rows: (row ? [{ ...row, private: true }] : []) as T[] };
    },
  };
  return { pg, notify: (payload: string) => notify(payload) };
}

describe('database broadcasts', () => {
  it('delivers each realtime.messages row once, in notification order, even if notified twice', async () => {
    const { pg, notify } = fakeDatabase({
      a: { topic: 'conversation:1', event: 'typing', payload: { n: 1 } },
      b: { topic: 'conversation:1', event: 'typing', payload: { n: 2 } },
    });
    const registry = new ChannelRegistry();
    const delivered: unknown[] = [];
    registry.add({
      topic: 'realtime:conversation:1',
      private: true,
      selfBroadcast: false,
      readsBroadcast: () => true,
      readsPresence: () => false,
      deliverBroadcast: (message) => delivered.push(message),
      deliverPresenceDiff: () => {},
    });
    const stop = await deliverDatabaseBroadcasts(pg as never, registry, () => {});
    for (const id of ['a', 'a', 'b', 'a', 'missing', 'b']) notify(JSON.stringify({ id }));
    await stop();
    expect(delivered).toEqual([
      { type: 'broadcast', event: 'typing', payload: { n: 1 }, meta: { id: 'a' } },
      { type: 'broadcast', event: 'typing', payload: { n: 2 }, meta: { id: 'b' } },
    ]);
  });
});
