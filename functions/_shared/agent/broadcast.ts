import type { Db } from '../db/port.ts';

/** Ephemeral events on a conversation's private topic (nothing the widget must keep). */
export function sendConversationEvent(
  db: Db,
  conversationId: string,
  event: string,
  payload: Record<string, unknown>,
) {
  return db.asService((sql) =>
    sql.query(`select realtime.send($1::jsonb, $2, 'conversation:' || $3, true)`, [
      { conversation_id: conversationId, ...payload },
      event,
      conversationId,
    ]),
  );
}

/** Who may be shown typing: each is stamped by the server from what it verified, never sent by a client. */
export type TypingSender = { by: 'bot' } | { by: 'visitor' } | { by: 'agent'; name: string | null };

/**
 * `typing` on the conversation's topic. Clients cannot broadcast there, so the widget and the
 * inbox can trust `by` (and an agent's display name, looked up by the caller from the verified
 * member) as the server's word.
 */
export function sendTyping(db: Db, conversationId: string, typing: boolean, sender: TypingSender) {
  return sendConversationEvent(db, conversationId, 'typing', { typing, ...sender });
}

/**
 * Partial reply text as throttled `reply_delta` events: the widget and watching agents see the
 * answer form without a broadcast per token. Each event carries the whole visible text so far, so
 * a lost event costs nothing.
 */
export function createDeltaBroadcaster(
  db: Db,
  conversationId: string,
  replyTo: string,
  visible: (text: string) => string,
  intervalMs = 150,
  log: (message: string, error?: unknown) => void = console.error,
) {
  let text = '';
  let sent = '';
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inflight: Promise<unknown> = Promise.resolve();

  const send = () => {
    timer = null;
    const shown = visible(text);
    if (shown === sent || shown.trim() === '') return;
    sent = shown;
    inflight = inflight
      .then(() =>
        sendConversationEvent(db, conversationId, 'reply_delta', {
          reply_to: replyTo,
          text: shown,
        }),
      )
      .catch((error) => log('reply_delta broadcast failed', error));
  };

  return {
    push(delta: string) {
      text += delta;
      timer ??= setTimeout(send, intervalMs);
    },
    /** A new model round starts from scratch (the previous round ended in tool calls). */
    reset() {
      text = '';
    },
    async close() {
      if (timer) clearTimeout(timer);
      timer = null;
      await inflight;
    },
  };
}
