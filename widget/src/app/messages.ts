import type { Message } from './types.ts';

const str = (v: unknown): v is string => typeof v === 'string';
const text = (v: unknown) => (str(v) ? v : null);
const ROLES = ['user', 'assistant', 'agent', 'system'];

/**
 * A message in the shape the server gives it, with anything else in it dropped, or null for
 * something that is not a message at all: a malformed source or author must not break the view.
 */
export function toMessage(value: unknown): Message | null {
  // biome-ignore lint/suspicious/noExplicitAny: every field is checked before it is kept
  const m = value as any;
  if (!m || !str(m.id) || !ROLES.includes(m.role) || !str(m.content) || !str(m.created_at))
    return null;
  const a = m.author && typeof m.author === 'object' ? m.author : null;
  const feedback = m.feedback;
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    created_at: m.created_at,
    ...(str(m.updated_at) ? { updated_at: m.updated_at } : {}),
    status: text(m.status),
    client_msg_id: text(m.client_msg_id),
    quick_replies: Array.isArray(m.quick_replies) ? m.quick_replies.filter(str).slice(0, 12) : null,
    sources: Array.isArray(m.sources)
      ? m.sources
          .filter(
            // biome-ignore lint/suspicious/noExplicitAny: checked right here
            (s: any) => s && (s.title == null || str(s.title)) && (s.url == null || str(s.url)),
          )
          // biome-ignore lint/suspicious/noExplicitAny: checked just above
          .map((s: any) => ({ title: s.title ?? undefined, url: s.url ?? null }))
      : null,
    rich: m.rich && typeof m.rich === 'object' ? m.rich : null,
    attachments: m.attachments?.length ? m.attachments : undefined,
    author: a && { name: text(a.name), avatar_url: text(a.avatar_url) },
    feedback:
      typeof feedback === 'number' || feedback === 'up' || feedback === 'down' ? feedback : null,
  };
}

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
  // A message never changes author: an update claiming another role is not the server's.
  if (current.id && incoming.id === current.id && incoming.role !== current.role) return list;
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
