import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../services.ts';
import type { ChannelRegistry } from './registry.ts';

// realtime.send() stores the message in realtime.messages and NOTIFYs its id (Supabase streams the
// same rows out of the WAL). Delivery happens after commit, in commit order, to the channels of
// the row's topic and privacy; readers were authorized when they joined.

const CHANNEL = 'realtime_broadcast';
/** How many delivered ids are remembered: far more than can be in flight at once. */
const REMEMBERED = 4096;

interface MessageRow {
  topic: string;
  event: string | null;
  payload: unknown;
  private: boolean | null;
}

export async function deliverDatabaseBroadcasts(
  pg: Pick<PGlite, 'listen' | 'query'>,
  registry: ChannelRegistry,
  log: Logger,
): Promise<() => Promise<void>> {
  let chain = Promise.resolve();
  // Each row goes out once, as each WAL record does, even if its notification is seen twice.
  const delivered = new Set<string>();

  const deliver = async (notification: string) => {
    const { id } = JSON.parse(notification) as { id?: string };
    if (!id || delivered.has(id)) return;
    delivered.add(id);
    if (delivered.size > REMEMBERED) {
      const oldest = delivered.values().next().value;
      if (oldest !== undefined) delivered.delete(oldest);
    }
    const { rows } = await pg.query<MessageRow>(
      'select topic, event, payload, private from realtime.messages where id = $1',
      [id],
    );
    const row = rows[0];
    if (!row) return;
    registry.broadcast(`realtime:${row.topic}`, row.private === true, {
      type: 'broadcast',
      event: row.event ?? '',
      payload: row.payload ?? {},
      meta: { id },
    });
  };

  const unlisten = await pg.listen(CHANNEL, (notification) => {
    chain = chain
      .then(() => deliver(notification))
      .catch((error) => log('realtime: could not deliver a database broadcast', error));
  });

  return async () => {
    await unlisten();
    await chain;
  };
}
