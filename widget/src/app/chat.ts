import { batch, computed, effect, signal } from '@preact/signals';
import type { Host, Identity } from '../shared/types.ts';
import { ApiError, createApi } from './api.ts';
import { createAuth } from './auth.ts';
import { baseLanguage, loadStrings, stringsFor } from './i18n.ts';
import { lastServerTime, mergeMessage, newClientId, toMessage } from './messages.ts';
import { createRealtime } from './realtime.ts';
import { toConfig, toConversation } from './shapes.ts';
import { keyStore } from './storage.ts';
import type { Conversation, Message, Prechat, PrechatField, PublicConfig } from './types.ts';

// The conversation's state and everything that changes it. The UI reads the signals and calls
// the actions; nothing here touches the DOM.

export const MAX_LENGTH = 4000;
const POLL_MS = 3000;
const SEND_RETRIES = 5;
const STATUSES = ['bot', 'handoff', 'open', 'resolved'];
/** Refusals the widget words itself; they hide the composer. */
const REFUSALS: Record<string, string> = {
  identity_required: 'identityRequired',
  tenant_suspended: 'unavailable',
};

/** A session asked for by a visitor who has since logged out or been replaced (reset, identify). */
class Superseded extends Error {}

interface StoredConversation {
  id: string;
  identifier: string | null;
}

/**
 * `preparePrechat` fetches the pre-chat form's chunk: the configuration waits for it when it asks
 * for a form, so the window never shows the form missing.
 */
export function createChat(host: Host, preparePrechat?: () => Promise<void>) {
  const { options } = host;
  const store = keyStore(options.key);
  const auth = createAuth(options.supabaseUrl, options.supabaseKey, store);
  const api = createApi(options.supabaseUrl, options.supabaseKey, auth);
  const realtime = createRealtime(options.supabaseUrl, options.supabaseKey, auth);

  const state = {
    open: signal(false),
    locale: signal(host.locale),
    /** The UI's words: English until the visitor's language has arrived. */
    strings: signal(stringsFor(host.locale)),
    config: signal<PublicConfig | null>(
      toConfig(store.get<unknown>('config'), baseLanguage(host.locale)),
    ),
    conversation: signal<Conversation | null>(null),
    messages: signal<Message[]>([]),
    connection: signal<'connecting' | 'online' | 'offline'>('connecting'),
    typing: signal<string | null>(null),
    /** Staff have read the visitor's messages up to here (their read receipt). */
    seen: signal<string | null>(null),
    partial: signal<string | null>(null),
    unread: signal(0),
    notice: signal<string | null>(null),
    rated: signal<string | null>(store.get<string>('rated')),
    identified: signal(!!host.identity),
  };
  /** The tenant's pre-chat questions while they stand between the visitor and a conversation. */
  const prechatFields = computed<PrechatField[] | null>(() => {
    const form = state.config.value?.prechat_form;
    const fields = form?.enabled === true && Array.isArray(form.fields) ? form.fields : [];
    return fields.length > 0 && !state.conversation.value && !state.identified.value
      ? fields
      : null;
  });

  let starting: Promise<Conversation> | null = null;
  // Counts the visitors this browser has had: a session answered for an earlier one is not
  // attached for the next.
  let visitorEpoch = 0;
  let poller: ReturnType<typeof setInterval> | undefined;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  // The visitor's typing, told to staff through the chat function: at most every 3 s while keys
  // are pressed, and taken back after 4 s without one (a sent message ends it by itself).
  let typingSaidAt = 0;
  let typingIdle: ReturnType<typeof setTimeout> | undefined;
  const sayTyping = (typing: boolean) => {
    const conversation = state.conversation.value;
    if (conversation) api.typing(conversation.id, typing).catch(() => {});
  };
  const quiet = (tell: boolean) => {
    clearTimeout(typingIdle);
    if (typingSaidAt && tell) sayTyping(false);
    typingSaidAt = 0;
  };
  let identity: Identity | null = host.identity;

  const fail = (error: unknown) => {
    if (error instanceof Superseded) return;
    console.warn('[parley]', error);
    // Refused for who the visitor is or a suspended business, not for a glitch: "try again" would
    // only repeat it.
    state.notice.value = (error instanceof ApiError && REFUSALS[error.code]) || 'error';
  };

  function receive(message: Message, fromHistory = false) {
    const known = state.messages.value.some(
      (m) =>
        (message.id && m.id === message.id) ||
        (message.client_msg_id && m.client_msg_id === message.client_msg_id),
    );
    batch(() => {
      state.messages.value = mergeMessage(state.messages.value, message);
      if (known || message.role === 'user') return;
      if (message.role !== 'system') {
        state.typing.value = null;
        state.partial.value = null;
      }
      if (fromHistory) return;
      if (!state.open.value || document.hidden) state.unread.value += 1;
      host.emit('message', message);
    });
  }

  function setStatus(status: string) {
    const conversation = state.conversation.value;
    if (conversation && conversation.status !== status) {
      state.conversation.value = { ...conversation, status };
      // Once the bot no longer has the conversation, what it was still writing is never posted.
      if (status !== 'bot') state.partial.value = null;
    }
  }

  async function sync(conversationId: string, fromHistory = false) {
    const after = lastServerTime(state.messages.value);
    const result = await api.messages(conversationId, after);
    if (state.conversation.value?.id !== conversationId) return;
    const conversation = toConversation(result?.conversation);
    const seen = (result?.conversation as { staff_read_at?: unknown } | undefined)?.staff_read_at;
    batch(() => {
      if (typeof seen === 'string') state.seen.value = seen;
      if (conversation && STATUSES.includes(conversation.status)) setStatus(conversation.status);
      for (const value of Array.isArray(result?.messages) ? result.messages : []) {
        const message = toMessage(value);
        if (message) receive(message, fromHistory);
      }
    });
  }

  function setOnline(online: boolean) {
    const conversation = state.conversation.value;
    state.connection.value = online ? 'online' : 'offline';
    clearInterval(poller);
    poller = undefined;
    if (!conversation) return;
    // Whatever happened while the channel was down is fetched once it is back.
    if (online) void sync(conversation.id).catch(() => {});
    else
      poller = setInterval(() => {
        const id = state.conversation.value?.id;
        if (id) void sync(id).catch(() => {});
      }, POLL_MS);
  }

  // Only events in the shape the server sends, about this conversation, are rendered.
  function onEvent(event: string, payload: Record<string, unknown>) {
    const id = state.conversation.value?.id;
    if (event === 'status_changed') {
      if (payload.id === id && STATUSES.includes(payload.status as string))
        setStatus(payload.status as string);
      return;
    }
    if (payload.conversation_id !== id) return;
    if (event === 'message_created' || event === 'message_updated') {
      const message = toMessage(payload);
      if (message) receive(message);
    } else if (event === 'typing' && (payload.by === 'bot' || payload.by === 'agent')) {
      // The visitor's own typing (from another tab) is not news to the visitor.
      clearTimeout(typingTimer);
      const name = payload.by === 'agent' && typeof payload.name === 'string' ? payload.name : '';
      state.typing.value = payload.typing === true ? name : null;
      // A lost "stopped typing" must not leave the dots up forever.
      if (payload.typing === true)
        typingTimer = setTimeout(() => (state.typing.value = null), 20_000);
    } else if (event === 'read' && payload.by === 'agent' && typeof payload.read_at === 'string') {
      state.seen.value = payload.read_at;
    } else if (
      event === 'reply_delta' &&
      typeof payload.text === 'string' &&
      state.conversation.value?.status === 'bot'
    ) {
      state.partial.value = payload.text;
    }
  }

  // Staff see "Seen" once the open window has shown their latest message; the server checks it.
  let reported: string | undefined;
  const reportRead = () => {
    const id = state.conversation.value?.id;
    const last = [...state.messages.value].reverse().find((m) => m.role === 'agent' && m.id);
    if (!id || !last?.id || last.id === reported || !state.open.value || document.hidden) return;
    reported = last.id;
    api.read(id, last.id).catch(() => (reported = undefined));
  };
  effect(reportRead);
  document.addEventListener('visibilitychange', reportRead);

  // Messages the visitor wrote while their conversation was still being found or started: they
  // go to the conversation about to be attached, so attaching must not drop them from the log.
  const awaiting = new Set<string>();

  async function attach(conversation: Conversation, fresh: boolean) {
    clearInterval(poller);
    batch(() => {
      state.conversation.value = conversation;
      state.messages.value = state.messages.value.filter(
        (m) => m.local && awaiting.has(m.client_msg_id as string),
      );
      state.typing.value = null;
      state.seen.value = null;
      state.partial.value = null;
      state.connection.value = 'connecting';
    });
    store.set('conversation', {
      id: conversation.id,
      identifier: identity?.identifier ?? null,
    } satisfies StoredConversation);
    await realtime.join(conversation.id, { onEvent, onState: setOnline });
    if (!fresh) await sync(conversation.id, true);
  }

  async function startSession(
    newConversation = false,
    prechat?: Prechat,
    earlier?: string,
  ): Promise<Conversation> {
    const language = baseLanguage(state.locale.value);
    const epoch = visitorEpoch;
    const result = await api.session({
      key: options.key,
      locale: language,
      page_url: location.href.slice(0, 2048),
      ...(identity ? { visitor: identity } : {}),
      ...(newConversation ? { new_conversation: true } : {}),
      ...(prechat ? { prechat } : {}),
      ...(earlier ? { conversation_id: earlier } : {}),
    });
    if (epoch !== visitorEpoch)
      throw new Superseded('the visitor changed while the session started');
    const conversation = toConversation(result?.conversation);
    if (!conversation) throw new ApiError(502, 'bad_response', 'no conversation in the answer');
    setConfig(result.config, language);
    await attach(conversation, newConversation);
    return conversation;
  }

  /** The conversation to talk in, created on first need; one attempt at a time. */
  function ensureConversation(): Promise<Conversation> {
    // A new conversation being started wins over the current one: a message typed meanwhile
    // belongs to the new one.
    if (starting) return starting;
    const current = state.conversation.value;
    if (current) return Promise.resolve(current);
    return begin(startSession());
  }

  /** The session being started; it stops being so when it settles, unless replaced meanwhile. */
  function begin(session: Promise<Conversation>): Promise<Conversation> {
    const attempt = session.finally(() => {
      if (starting === attempt) starting = null;
    });
    starting = attempt;
    return attempt;
  }

  async function resume() {
    const stored = store.get<StoredConversation>('conversation');
    if (!stored || !auth.hasSession()) return;
    if ((identity?.identifier ?? null) !== stored.identifier) return;
    try {
      await attach({ id: stored.id, status: 'bot' }, false);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 403)) {
        store.remove('conversation');
        await realtime.leave();
        state.conversation.value = null;
        if (state.open.value && !prechatFields.value) await ensureConversation();
      } else throw error;
    }
  }

  // The page's data attributes win over the tenant's settings.
  const look = (config: PublicConfig) => ({
    color: options.color ?? config.color,
    position: options.position ?? config.position,
    launcher: config.launcher,
    proactive: config.proactive,
  });

  // The server words a configuration in the language it was asked for. An answer that arrives
  // after setLocale moved on would put the old language back, so only the current one applies;
  // setLocale has asked for its own.
  const current = (language: string) => language === baseLanguage(state.locale.value);

  function setConfig(value: unknown, language: string) {
    const config = toConfig(value, language);
    if (config && current(language)) applyConfig(config);
  }

  function applyConfig(config: PublicConfig) {
    state.config.value = config;
    store.set('config', config);
    store.set('look', look(config));
  }

  let latestConfig: Promise<void> = Promise.resolve();
  function loadConfig(): Promise<void> {
    latestConfig = fetchConfig();
    return latestConfig;
  }
  async function fetchConfig(): Promise<void> {
    const language = baseLanguage(state.locale.value);
    const config = toConfig(await api.config(options.key, language), language);
    if (!config) return;
    if (config.prechat_form?.enabled === true) await preparePrechat?.();
    // Superseded by setLocale: whoever waits for this waits for the load that replaced it.
    if (!current(language)) return latestConfig;
    applyConfig(config);
  }
  // Opening waits for the tenant's current settings, since they decide whether a form comes first.
  const configReady = loadConfig().catch(fail);

  async function deliver(message: Message) {
    const id = message.client_msg_id as string;
    const mark = (patch: Partial<Message>) => {
      const current = state.messages.value.find((m) => m.client_msg_id === id);
      if (current?.local)
        state.messages.value = mergeMessage(state.messages.value, { ...current, ...patch });
    };
    mark({ local: 'sending' });
    // Every attempt goes to the conversation the first one found: the visitor may start anew
    // meanwhile, and a message keeps its conversation. One written before the visitor logged out
    // (reset, another identity) is not sent at all, so it never reaches the next person's.
    const epoch = visitorEpoch;
    let target: Conversation | undefined;
    for (let attempt = 0; ; attempt++) {
      if (epoch !== visitorEpoch) return;
      let conversationId: string | undefined;
      try {
        if (!target) {
          awaiting.add(id);
          target = await ensureConversation().finally(() => awaiting.delete(id));
        }
        const conversation = target;
        conversationId = conversation.id;
        const { message: stored } = await api.send({
          conversation_id: conversation.id,
          client_msg_id: id,
          content: message.content,
          attachments: message.attachments as never,
          locale: baseLanguage(state.locale.value),
        });
        // The visitor may have moved to another conversation meanwhile: this one keeps it.
        if (state.conversation.value?.id !== conversation.id) return;
        const shaped = toMessage(stored);
        if (shaped) receive(shaped);
        else mark({ local: undefined });
        return;
      } catch (error) {
        const retryable = !(error instanceof ApiError) || error.retryable;
        if (retryable && attempt < SEND_RETRIES) {
          await new Promise((r) => setTimeout(r, Math.min(1000 * 2 ** attempt, 8000)));
          continue;
        }
        if (
          error instanceof ApiError &&
          error.code === 'conversation_resolved' &&
          conversationId === state.conversation.value?.id
        )
          setStatus('resolved');
        mark({ local: 'failed', error: error instanceof ApiError ? error.message : String(error) });
        return;
      }
    }
  }

  async function forget() {
    visitorEpoch++;
    starting = null;
    identity = null;
    clearInterval(poller);
    await realtime.leave();
    await auth.signOut();
    for (const name of ['conversation', 'rated']) store.remove(name);
    batch(() => {
      state.conversation.value = null;
      state.messages.value = [];
      state.typing.value = null;
      state.partial.value = null;
      state.unread.value = 0;
      state.notice.value = null;
      state.rated.value = null;
      state.identified.value = false;
    });
  }

  const actions = {
    setOpen(open: boolean) {
      state.open.value = open;
      if (!open) return;
      state.unread.value = 0;
      state.notice.value = null;
      void configReady
        .then(() => (prechatFields.value || !state.open.value ? undefined : ensureConversation()))
        .catch(fail);
    },
    async submitPrechat(answers: Record<string, string>) {
      const fields = Object.fromEntries(
        Object.entries(answers)
          .map(([name, value]) => [name, value.trim()])
          .filter(([, value]) => value !== ''),
      );
      state.notice.value = null;
      if (starting) return;
      await begin(
        startSession(true, {
          fields,
          ...(fields.name ? { name: fields.name } : {}),
          ...(fields.email ? { email: fields.email } : {}),
        }),
      ).catch(fail);
    },
    /** The visitor's earlier conversations, or one of them (for the history chunk). */
    history(conversationId?: string) {
      return api.history({
        key: options.key,
        ...(identity?.identityHash
          ? { visitor: { identifier: identity.identifier, identityHash: identity.identityHash } }
          : {}),
        ...(conversationId ? { conversation_id: conversationId } : {}),
      });
    },
    /** Takes up one of the visitor's earlier conversations (from the history chunk). */
    reopen(conversationId: string) {
      state.notice.value = null;
      return startSession(false, undefined, conversationId);
    },
    typing() {
      clearTimeout(typingIdle);
      typingIdle = setTimeout(() => quiet(true), 4000);
      if (Date.now() - typingSaidAt > 3000) {
        typingSaidAt = Date.now();
        sayTyping(true);
      }
    },
    send(text: string, attachments?: unknown[]) {
      const content = text.trim();
      if ((!content && !attachments) || content.length > MAX_LENGTH) return false;
      quiet(false);
      const message: Message = {
        client_msg_id: newClientId(),
        role: 'user',
        content,
        attachments,
        created_at: new Date().toISOString(),
        local: 'sending',
      };
      state.messages.value = mergeMessage(state.messages.value, message);
      void deliver(message);
      return true;
    },
    retry(message: Message) {
      void deliver(message);
    },
    async rate(message: Message, rating: 'up' | 'down') {
      if (!message.id) return;
      const value = rating === 'up' ? 1 : -1;
      const next = message.feedback === value ? null : value;
      state.messages.value = mergeMessage(state.messages.value, { ...message, feedback: next });
      try {
        await api.rate(message.id, next === null ? null : rating);
      } catch (error) {
        state.messages.value = mergeMessage(state.messages.value, message);
        fail(error);
      }
    },
    async csat(score: number, comment?: string) {
      const conversation = state.conversation.value;
      if (!conversation) return;
      state.rated.value = conversation.id;
      store.set('rated', conversation.id);
      await api.csat(conversation.id, score, comment).catch(fail);
    },
    async handoff() {
      try {
        const conversation = await ensureConversation();
        const result = await api.handoff(conversation.id);
        // Answered after the visitor started anew: the new conversation was not handed off.
        if (state.conversation.value?.id !== conversation.id) return;
        setStatus(result.conversation.status);
        state.notice.value = 'handoffRequested';
      } catch (error) {
        fail(error);
      }
    },
    async newConversation() {
      state.notice.value = null;
      const form = state.config.value?.prechat_form;
      if (form?.enabled && !identity) {
        // Each conversation starts with the tenant's questions, so the form comes back.
        store.remove('conversation');
        await realtime.leave();
        batch(() => {
          state.conversation.value = null;
          state.messages.value = [];
        });
        return;
      }
      await begin(startSession(true)).catch(fail);
    },
    /** Logs the visitor out: another person may use this browser next. */
    async reset() {
      await forget();
      if (state.open.value && !prechatFields.value) await ensureConversation().catch(fail);
    },
    async identify(next: Identity) {
      const stored = store.get<StoredConversation>('conversation');
      const previous = identity?.identifier ?? stored?.identifier ?? null;
      // Someone else signed in on this browser: nothing of the last customer's carries over.
      if (previous !== null && previous !== next.identifier) await forget();
      identity = next;
      state.identified.value = true;
      state.notice.value = null;
      if (stored?.identifier === next.identifier && state.conversation.value) return;
      await realtime.leave();
      state.conversation.value = null;
      if (state.open.value || stored) await ensureConversation();
    },
    setLocale(locale: string) {
      state.locale.value = locale;
      loadConfig().catch(fail);
    },
  };

  effect(() => {
    const locale = state.locale.value;
    void loadStrings(locale)
      .then(() => {
        if (state.locale.value === locale) state.strings.value = stringsFor(locale);
      })
      .catch(() => {});
  });
  effect(() => host.setUnread(state.unread.value));
  effect(() => {
    const config = state.config.value;
    if (config) host.setLook(look(config));
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.open.value) state.unread.value = 0;
  });

  resume().catch(fail);

  return { state, prechatFields, actions, auth, options, ensure: ensureConversation };
}

export type Chat = ReturnType<typeof createChat>;
