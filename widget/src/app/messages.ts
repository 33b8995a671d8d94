import type { Message } from './types.ts';

// The visible list: one entry per message whichever way it arrived (optimistic, POST reply,
// history, poll, broadcast), matched by server id or by the visitor's client_msg_id.

const order = (m: Message) => (m.local ? Number.POSITIVE_INFINITY : Date.parse(m.created_at));

export function mergeMessage(list: Message[], incoming: Message): Message[] {
  const index = list.findIndex(
    (m) =>
      (incoming.id && m.id === incoming.id) ||
      (incoming.client_msg_id && m.client_msg_id === incoming.client_msg_id),
  );
  if (index === -1) {
    const next = [...list, incoming];
    // Stable: ties and optimistic messages keep arrival order.
    return next.sort((a, b) => order(a) - order(b));
  }
  const current = list[index] as Message;
  // A late broadcast of an older version must not undo a newer one.
  if (
    incoming.updated_at &&
    current.updated_at &&
    Date.parse(incoming.updated_at) < Date.parse(current.updated_at)
  ) {
    return list;
  }
  const merged: Message = { ...current, ...incoming, local: incoming.local };
  if (!incoming.local) delete merged.error;
  const next = list.slice();
  next[index] = merged;
  return current.local && !merged.local ? next.sort((a, b) => order(a) - order(b)) : next;
}

/** The newest server timestamp, for "what did I miss" queries. */
export function lastServerTime(list: Message[]): string | undefined {
  let best: string | undefined;
  for (const m of list) {
    if (m.local || !m.id) continue;
    if (!best || Date.parse(m.created_at) >= Date.parse(best)) best = m.created_at;
  }
  return best;
}

export function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Outside secure contexts randomUUID is missing; getRandomValues is not.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
