import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../services.ts';
import type { ChannelRegistry } from './registry.ts';

// realtime.send() stores the message in realtime.messages and NOTIFYs its id (Supabase streams the
// same rows out of the WAL). Delivery happens after commit, in commit order, to the channels of
// the row's topic and privacy; readers were authorized when they joined.
//
// A commit's notifications arrive together: their rows are read with one query, and a row whose
// topic no joined channel reads (an inbox nobody has open) is not read at all.

const CHANNEL = 'realtime_broadcast';
/** How many delivered ids are remembered: far more than can be in flight at once. */
const REMEMBERED = 4096;

interface MessageRow {
  id: string;
  topic: string;
  event: string | null;
  payload: unknown;
  private: boolean | null;
}

interface Notification {
  id?: string;
  topic?: string;
  private?: boolean;
}

export async function deliverDatabaseBroadcasts(
  pg: Pick<PGlite, 'listen' | 'query'>,
  registry: ChannelRegistry,
  log: Logger,
): Promise<() => Promise<void>> {
  let chain = Promise.resolve();
  // Each row goes out once, as each WAL record does, even if its notification is seen twice.
  const delivered = new Set<string>();
  let pending: Notification[] = [];
  let scheduled = false;

  const read = (note: Notification) =>
    // Without a topic in the notification the row itself says where it goes.
    typeof note.topic !== 'string' ||
    registry.hasReaders(`realtime:${note.topic}`, note.private === true);

  const deliver = async (notes: Notification[]) => {
    const wanted = notes.filter(read);
    if (wanted.length === 0) return;
    const { rows } = await pg.query<MessageRow>(
      'select id::text as id, topic, event, payload, private from realtime.messages where id = any($1::uuid[])',
      [wanted.map((note) => note.id)],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const { id } of wanted) {
      const row = id === undefined ? undefined : byId.get(id);
      if (!row) continue;
      registry.broadcast(`realtime:${row.topic}`, row.private === true, {
        type: 'broadcast',
        event: row.event ?? '',
        payload: row.payload ?? {},
        meta: { id },
      });
    }
  };

  const unlisten = await pg.listen(CHANNEL, (notification) => {
    const note = JSON.parse(notification) as Notification;
    const { id } = note;
    if (!id || delivered.has(id)) return;
    delivered.add(id);
    if (delivered.size > REMEMBERED) {
      const oldest = delivered.values().next().value;
      if (oldest !== undefined) delivered.delete(oldest);
    }
    pending.push(note);
    if (scheduled) return;
    scheduled = true;
    chain = chain
      .then(() => {
        // Whatever was notified until now goes in this read; later notifications make the next.
        scheduled = false;
        const notes = pending;
        pending = [];
        return deliver(notes);
      })
      .catch((error) => log('realtime: could not deliver a database broadcast', error));
  });

  return async () => {
    await unlisten();
    await chain;
  };
}
