import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from '../services.ts';
import type { ChannelRegistry } from './registry.ts';

// realtime.send() stores the message in realtime.messages and NOTIFYs its id (Supabase streams the
// same rows out of the WAL). Delivery happens after commit, in commit order, to the channels of
// the row's topic and privacy; readers were authorized when they joined.
//
// A notification carries its row (realtime.send puts it there whenever it fits NOTIFY's 8000
// bytes), so delivering costs no query. Rows too large for that arrive as ids: a commit's
// notifications arrive together and theirs are read with one query, and a row whose topic no
// joined channel reads (an inbox nobody has open) is not read at all.

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
  event?: string | null;
  /** The row's payload, when it fitted in the notification. */
  payload?: unknown;
}

const carriesRow = (note: Notification) =>
  typeof note.topic === 'string' && note.payload !== undefined;

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
    const unread = wanted.filter((note) => !carriesRow(note));
    const byId = new Map<string, MessageRow>();
    if (unread.length > 0) {
      const { rows } = await pg.query<MessageRow>(
        'select id::text as id, topic, event, payload, private from realtime.messages where id = any($1::uuid[])',
        [unread.map((note) => note.id)],
      );
      for (const row of rows) byId.set(row.id, row);
    }
    for (const note of wanted) {
      const { id } = note;
      const row =
        id === undefined
          ? undefined
          : carriesRow(note)
            ? {
                id,
                topic: note.topic as string,
                event: note.event ?? null,
                payload: note.payload,
                private: note.private === true,
              }
            : byId.get(id);
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
