import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../services.ts';
import type { ChannelRegistry } from './registry.ts';

// realtime.send() stores the message in realtime.messages and NOTIFYs its id (Supabase streams the
// same rows out of the WAL). Delivery happens after commit, in commit order, to the channels of
// the row's topic and privacy; readers were authorized when they joined.

const CHANNEL = 'realtime_broadcast';

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

  const deliver = async (notification: string) => {
    const { id } = JSON.parse(notification) as { id?: string };
    if (!id) return;
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
