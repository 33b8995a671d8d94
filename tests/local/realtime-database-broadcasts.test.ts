import { describe, expect, it } from 'vitest';
import { deliverDatabaseBroadcasts } from '../../supabase/local/realtime/database-broadcasts.ts';
import { ChannelRegistry } from '../../supabase/local/realtime/registry.ts';

// The database feed on its own: a fake session whose notifications the test fires by hand.

function fakeDatabase(rows: Record<string, { topic: string; event: string; payload: unknown }>) {
  let notify: (payload: string) => void = () => {};
  const reads: string[][] = [];
  const pg = {
    listen: async (_channel: string, callback: (payload: string) => void) => {
      notify = callback;
      return async () => {};
    },
    // `where id = any($1)`: the rows of those ids, in no particular order.
    query: async <T>(_sql: string, params: unknown[]) => {
      const ids = params[0] as string[];
      reads.push(ids);
      return {
        rows: [...ids].reverse().flatMap((id) => {
          const row = rows[id];
          return row ? [{ ...row, id, private: true }] : [];
        }) as T[],
      };
    },
  };
  return { pg, reads, notify: (payload: string) => notify(payload) };
}

function reader(topic: string, delivered: unknown[]) {
  return {
    topic,
    private: true,
    selfBroadcast: false,
    readsBroadcast: () => true,
    readsPresence: () => false,
    deliverBroadcast: (message: unknown) => delivered.push(message),
    deliverPresenceDiff: () => {},
  };
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

  it('reads the rows of one commit with one query, and none whose topic no channel reads', async () => {
    const { pg, reads, notify } = fakeDatabase({
      a: { topic: 'conversation:1', event: 'message_created', payload: { n: 1 } },
      b: { topic: 'tenant:1:inbox', event: 'conversation_updated', payload: { n: 2 } },
      c: { topic: 'conversation:1', event: 'message_created', payload: { n: 3 } },
      d: { topic: 'conversation:1', event: 'message_created', payload: { n: 4 } },
    });
    const registry = new ChannelRegistry();
    const delivered: unknown[] = [];
    registry.add(reader('realtime:conversation:1', delivered));
    // A public channel of the same name is another room: it does not make the private row wanted.
    registry.add({ ...reader('realtime:tenant:1:inbox', []), private: false });
    const stop = await deliverDatabaseBroadcasts(pg as never, registry, () => {});
    const note = (id: string, topic: string) =>
      notify(JSON.stringify({ id, topic, event: 'x', private: true }));
    note('a', 'conversation:1');
    note('b', 'tenant:1:inbox');
    note('c', 'conversation:1');
    await new Promise((resolve) => setTimeout(resolve, 0));
    note('d', 'conversation:1');
    await stop();
    expect(reads).toEqual([['a', 'c'], ['d']]);
    expect(delivered).toEqual([
      { type: 'broadcast', event: 'message_created', payload: { n: 1 }, meta: { id: 'a' } },
      { type: 'broadcast', event: 'message_created', payload: { n: 3 }, meta: { id: 'c' } },
      { type: 'broadcast', event: 'message_created', payload: { n: 4 }, meta: { id: 'd' } },
    ]);
  });

  it('delivers a row its notification carries without reading it, in order with rows read by id', async () => {
    const { pg, reads, notify } = fakeDatabase({
      big: { topic: 'conversation:1', event: 'message_created', payload: { n: 2 } },
    });
    const registry = new ChannelRegistry();
    const delivered: unknown[] = [];
    registry.add(reader('realtime:conversation:1', delivered));
    const stop = await deliverDatabaseBroadcasts(pg as never, registry, () => {});
    const carried = (id: string, payload: unknown) =>
      notify(
        JSON.stringify({ id, topic: 'conversation:1', event: 'typing', private: true, payload }),
      );
    carried('a', { n: 1 });
    // Too large for NOTIFY: only where it goes.
    notify(JSON.stringify({ id: 'big', topic: 'conversation:1', event: 'x', private: true }));
    carried('c', null);
    await new Promise((resolve) => setTimeout(resolve, 0));
    carried('d', { n: 4 });
    await stop();
    expect(reads).toEqual([['big']]);
    expect(delivered).toEqual([
      { type: 'broadcast', event: 'typing', payload: { n: 1 }, meta: { id: 'a' } },
      { type: 'broadcast', event: 'message_created', payload: { n: 2 }, meta: { id: 'big' } },
      { type: 'broadcast', event: 'typing', payload: {}, meta: { id: 'c' } },
      { type: 'broadcast', event: 'typing', payload: { n: 4 }, meta: { id: 'd' } },
    ]);
  });
});
