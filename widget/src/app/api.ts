import type { Identity } from '../shared/types.ts';
import type { Auth } from './auth.ts';
import { toJson } from './json.ts';
import type { Conversation, Message, Prechat, PublicConfig } from './types.ts';

// The chat function's visitor API. Errors keep the server's code, so callers can tell "start a
// new conversation" from "try again later"; a network failure is code `network`.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export function createApi(url: string, apikey: string, auth: Auth) {
  const base = `${url}/functions/v1/chat`;

  async function request<T>(path: string, init: RequestInit = {}, signed = true): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { apikey };
      if (init.body) headers['content-type'] = 'application/json';
      // Unsigned calls still pass the gateway with the publishable key as their bearer.
      headers.authorization = `Bearer ${signed ? (await auth.session()).access_token : apikey}`;
      let response: Response;
      try {
        response = await fetch(base + path, { ...init, headers });
      } catch (error) {
        throw new ApiError(0, 'network', String(error));
      }
      const json = (await response.json().catch(() => null)) as
        | (T & { error?: { code?: string; message?: string } })
        | null;
      if (response.ok) return json as T;
      if (signed && response.status === 401 && attempt === 0) {
        await auth.refresh();
        continue;
      }
      throw new ApiError(
        response.status,
        json?.error?.code ?? 'http_error',
        json?.error?.message ?? response.statusText,
      );
    }
  }
  const post = <T>(path: string, body: unknown) =>
    request<T>(path, { method: 'POST', body: toJson(body) });

  return {
    config: (key: string, locale: string) =>
      request<PublicConfig>(
        `/config?key=${encodeURIComponent(key)}&locale=${encodeURIComponent(locale)}`,
        {},
        false,
      ),
    session: (body: {
      key: string;
      locale: string;
      page_url: string;
      visitor?: Identity;
      new_conversation?: boolean;
      conversation_id?: string;
      prechat?: Prechat;
    }) => post<{ conversation: Conversation; config: PublicConfig }>('/sessions', body),
    messages: (conversationId: string, after?: string) =>
      request<{ conversation: Conversation; messages: Message[] }>(
        `/messages?conversation_id=${conversationId}&limit=200${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      ),
    send: (body: {
      conversation_id: string;
      client_msg_id: string;
      content: string;
      attachments?: { path: string; name: string }[];
      locale?: string;
    }) => post<{ message: Message; duplicate: boolean }>('/messages', body),
    rate: (messageId: string, rating: 'up' | 'down' | null) =>
      post('/feedback', { message_id: messageId, rating }),
    csat: (conversationId: string, csat: number, comment?: string) =>
      post('/feedback', { conversation_id: conversationId, csat, ...(comment ? { comment } : {}) }),
    history: (body: { key: string; visitor?: Identity; conversation_id?: string }) =>
      post<unknown>('/history', body),
    typing: (conversationId: string, typing: boolean) =>
      post('/typing', { conversation_id: conversationId, typing }),
    read: (conversationId: string, messageId: string) =>
      post('/read', { conversation_id: conversationId, message_id: messageId }),
    handoff: (conversationId: string) =>
      post<{ conversation: Conversation }>('/handoff', { conversation_id: conversationId }),
  };
}

export type Api = ReturnType<typeof createApi>;
