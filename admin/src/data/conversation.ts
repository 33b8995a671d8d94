import { signal } from '@preact/signals';
import { must, problem, supabase } from './client.ts';
import { listen } from './realtime.ts';
import { currentMembership } from './tenants.ts';

// One conversation as staff work it: the conversation and its contact, the transcript (notes
// included), what grounded each bot reply and the tool calls it made, kept live by the
// conversation's topic (public messages, status, typing) and the inbox topic (notes, assignment).
// Every change goes through the SQL functions of the inbox migration.

export type Status = 'bot' | 'handoff' | 'open' | 'resolved';

export interface ConversationDetail {
  id: string;
  tenant_id: string;
  status: Status;
  channel: string;
  assignee_id: string | null;
  contact_id: string | null;
  locale: string | null;
  page_url: string | null;
  identity_verified: boolean;
  prechat: Record<string, unknown>;
  created_at: string;
  /** Read receipt: the visitor has seen the public messages up to here. */
  visitor_read_at: string | null;
  handoff_reason: string | null;
  handoff_detail: string | null;
  followup_email: string | null;
  followup_requested_at: string | null;
}

export interface Contact {
  id: string;
  identifier: string;
  name: string | null;
  email: string | null;
  attributes: Record<string, unknown>;
}

export interface Message {
  id: string;
  role: 'user' | 'assistant' | 'agent' | 'system';
  content: string;
  is_private: boolean;
  author_id: string | null;
  author_name: string | null;
  sources: { title?: string; url?: string }[];
  /** Files the visitor sent: paths in the attachments bucket. */
  attachments?: unknown;
  /** Buttons and cards under a bot or staff reply ({buttons?, cards?}). */
  rich?: unknown;
  created_at: string;
}

export interface Grounding {
  message_id: string;
  engine: string;
  model: string | null;
  fallback_reason: string | null;
  chunks: { title?: string; heading?: string; score?: number }[];
}

export interface ToolExecution {
  id: string;
  message_id: string | null;
  tool_name: string;
  arguments: unknown;
  /** What the tool answered: read by owners and admins only, undefined for agents. */
  response: unknown;
  success: boolean;
  error: string | null;
  duration_ms: number | null;
  /** n8n's execution id for the run that answered, when n8n named one. */
  n8n_execution_id: string | null;
}

const CONVERSATION_COLUMNS =
  'id, tenant_id, status, channel, assignee_id, contact_id, locale, page_url, identity_verified, prechat, created_at, visitor_read_at, handoff_reason, handoff_detail, followup_email, followup_requested_at';
const MESSAGE_COLUMNS =
  'id, role, content, is_private, author_id, sources, attachments, rich, created_at';
const TRANSCRIPT_LIMIT = 500;

const byTime = (a: Message, b: Message) =>
  a.created_at === b.created_at
    ? a.id.localeCompare(b.id)
    : Date.parse(a.created_at) - Date.parse(b.created_at);

/** A broadcast message_created / message_updated payload, in the transcript's shape. */
function fromEvent(payload: Record<string, unknown>): Message | null {
  if (typeof payload.id !== 'string' || typeof payload.content !== 'string') return null;
  const role = payload.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'agent' && role !== 'system') return null;
  const author = payload.author as { name?: unknown } | null | undefined;
  return {
    id: payload.id,
    role,
    content: payload.content,
    is_private: payload.is_private === true,
    author_id: null,
    author_name: typeof author?.name === 'string' ? author.name : null,
    sources: Array.isArray(payload.sources) ? (payload.sources as Message['sources']) : [],
    rich: payload.rich ?? null,
    created_at:
      typeof payload.created_at === 'string' ? payload.created_at : new Date().toISOString(),
  };
}

export type Action = 'take_over' | 'hand_back' | 'resolve' | 'reopen';
const ACTION_FUNCTIONS: Record<Action, string> = {
  take_over: 'take_over_conversation',
  hand_back: 'hand_back_to_bot',
  resolve: 'resolve_conversation',
  reopen: 'reopen_conversation',
};

export function createConversationView(
  tenantId: string,
  conversationId: string,
  onRead: () => void,
) {
  const conversation = signal<ConversationDetail | null>(null);
  const contact = signal<Contact | null>(null);
  const messages = signal<Message[]>([]);
  const groundings = signal<Record<string, Grounding>>({});
  const tools = signal<Record<string, ToolExecution[]>>({});
  const typing = signal<'visitor' | 'bot' | null>(null);
  const error = signal<string | null>(null);
  const loading = signal(true);
  let disposed = false;
  const db = supabase();

  function merge(incoming: Message[]) {
    const byId = new Map(messages.value.map((m) => [m.id, m]));
    for (const m of incoming) {
      const known = byId.get(m.id);
      // A broadcast lacks author_id; keep what the table said.
      byId.set(m.id, known ? { ...known, ...m, author_id: known.author_id ?? m.author_id } : m);
    }
    messages.value = [...byId.values()].sort(byTime);
  }

  async function loadExtras(messageIds: string[] | null) {
    let g = db
      .from('reply_groundings')
      .select('message_id, engine, model, fallback_reason, chunks');
    let x = db
      .from('tool_executions')
      .select('id, message_id, tool_name, arguments, success, duration_ms, n8n_execution_id');
    // What a tool answered counts as tool configuration: owners and admins read it through this
    // view, which shows agents no rows.
    const results = db
      .from('tool_execution_results')
      .select('id, response, error')
      .eq('conversation_id', conversationId);
    if (messageIds) {
      g = g.in('message_id', messageIds);
      x = x.in('message_id', messageIds);
    } else {
      g = g.eq('conversation_id', conversationId);
      x = x.eq('conversation_id', conversationId);
    }
    const [gr, tr, rr] = await Promise.all([g, x, results]);
    if (disposed) return;
    const nextG = { ...groundings.value };
    for (const row of (gr.data ?? []) as Grounding[]) nextG[row.message_id] = row;
    groundings.value = nextG;
    const answers = new Map(
      ((rr.data ?? []) as { id: string; response: unknown; error: string | null }[]).map((r) => [
        r.id,
        r,
      ]),
    );
    const nextT = { ...tools.value };
    for (const row of (tr.data ?? []) as Omit<ToolExecution, 'response' | 'error'>[]) {
      if (!row.message_id) continue;
      const answer = answers.get(row.id);
      const list = (nextT[row.message_id] ?? []).filter((t) => t.id !== row.id);
      nextT[row.message_id] = [
        ...list,
        { ...row, response: answer?.response, error: answer?.error ?? null },
      ];
    }
    tools.value = nextT;
  }

  async function loadContact(id: string | null) {
    if (!id) {
      contact.value = null;
      return;
    }
    const { data } = await db
      .from('contacts')
      .select('id, identifier, name, email, attributes')
      .eq('id', id)
      .maybeSingle();
    if (!disposed) contact.value = (data as Contact | null) ?? null;
  }

  async function load() {
    try {
      const [c, m] = await Promise.all([
        db.from('conversations').select(CONVERSATION_COLUMNS).eq('id', conversationId).single(),
        db
          .from('messages')
          .select(MESSAGE_COLUMNS)
          .eq('conversation_id', conversationId)
          .order('created_at', { ascending: false })
          .order('id', { ascending: false })
          .limit(TRANSCRIPT_LIMIT),
      ]);
      if (disposed) return;
      const detail = must(c) as ConversationDetail;
      conversation.value = detail;
      merge(
        (must(m) as Omit<Message, 'author_name'>[]).map((row) => ({ ...row, author_name: null })),
      );
      error.value = null;
      await Promise.all([loadContact(detail.contact_id), loadExtras(null), markRead()]);
    } catch (e) {
      if (!disposed) error.value = problem(e);
    } finally {
      if (!disposed) loading.value = false;
    }
  }

  let readTimer: ReturnType<typeof setTimeout> | undefined;
  async function markRead() {
    // Operators read without keeping markers: those are the tenant's staff's.
    if (currentMembership.value?.role === 'platform') return;
    const { error: failed } = await db.rpc('mark_conversation_read', {
      p_conversation_id: conversationId,
    });
    if (!failed && !disposed) onRead();
  }
  const markReadSoon = () => {
    clearTimeout(readTimer);
    readTimer = setTimeout(() => void markRead(), 500);
  };

  // The visitor sees "typing" while a reply is being written: said at most every 3 s, and taken
  // back 4 s after the last keystroke or when the reply is sent.
  let typingSaidAt = 0;
  let typingQuiet: ReturnType<typeof setTimeout> | undefined;
  // A query builder only runs once awaited: then() sends it; a lost typing event costs nothing.
  const sayTyping = (typing: boolean) =>
    db
      .rpc('send_agent_typing', { p_conversation_id: conversationId, p_typing: typing })
      .then(() => undefined);
  function stopTyping() {
    clearTimeout(typingQuiet);
    if (typingSaidAt) {
      typingSaidAt = 0;
      void sayTyping(false);
    }
  }

  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  const stopConversation = listen(
    `conversation:${conversationId}`,
    (event, payload) => {
      if (event === 'message_created' || event === 'message_updated') {
        if (payload.conversation_id !== conversationId) return;
        const message = fromEvent(payload);
        if (!message) return;
        merge([message]);
        if (message.role === 'user' || message.role === 'assistant') typing.value = null;
        if (message.role === 'assistant') void loadExtras([message.id]);
        if (message.role === 'user') markReadSoon();
      } else if (event === 'status_changed' && payload.id === conversationId) {
        const current = conversation.value;
        if (current && typeof payload.status === 'string')
          conversation.value = { ...current, status: payload.status as Status };
        // A handoff comes with its reason, and away hours with the follow-up question.
        if (payload.status === 'handoff') void refreshConversation();
      } else if (event === 'read' && payload.by === 'visitor') {
        const current = conversation.value;
        if (current && typeof payload.read_at === 'string')
          conversation.value = { ...current, visitor_read_at: payload.read_at };
      } else if (event === 'typing') {
        clearTimeout(typingTimer);
        const who = payload.by === 'visitor' ? 'visitor' : payload.by === 'bot' ? 'bot' : null;
        typing.value = payload.typing === true ? who : null;
        // A lost "stopped typing" must not leave the indicator up.
        if (payload.typing === true) typingTimer = setTimeout(() => (typing.value = null), 20_000);
      }
    },
    () => void load(),
  );

  const stopInbox = listen(`tenant:${tenantId}:inbox`, (event, payload) => {
    if (event === 'message_created' || event === 'message_updated') {
      // Internal notes travel on the inbox topic only.
      if (payload.conversation_id !== conversationId || payload.is_private !== true) return;
      const message = fromEvent(payload);
      if (message) merge([message]);
      // The note that the visitor left an email: the address is on the conversation now.
      if (message?.role === 'system') void refreshConversation();
    } else if (event === 'conversation_updated' && payload.id === conversationId) {
      const current = conversation.value;
      if (!current) return;
      conversation.value = {
        ...current,
        status: (payload.status as Status) ?? current.status,
        assignee_id: (payload.assignee_id as string | null) ?? null,
      };
      if (payload.contact_id !== current.contact_id) {
        conversation.value = {
          ...conversation.value,
          contact_id: (payload.contact_id as string | null) ?? null,
        };
        void loadContact((payload.contact_id as string | null) ?? null);
      }
    }
  });

  async function refreshConversation() {
    const { data } = await db
      .from('conversations')
      .select(CONVERSATION_COLUMNS)
      .eq('id', conversationId)
      .maybeSingle();
    const current = conversation.value;
    if (!disposed && current && data) conversation.value = { ...current, ...(data as object) };
  }

  void load();

  const applyConversation = (row: unknown) => {
    const current = conversation.value;
    const next = (Array.isArray(row) ? row[0] : row) as Partial<ConversationDetail> | null;
    if (current && next)
      conversation.value = {
        ...current,
        status: next.status ?? current.status,
        assignee_id: next.assignee_id ?? null,
      };
  };

  return {
    conversation,
    contact,
    messages,
    groundings,
    tools,
    typing,
    error,
    loading,
    async act(action: Action) {
      const result = await db.rpc(ACTION_FUNCTIONS[action], { p_conversation_id: conversationId });
      applyConversation(must(result));
    },
    async assign(assigneeId: string | null) {
      const result = await db.rpc('assign_conversation', {
        p_conversation_id: conversationId,
        p_assignee_id: assigneeId,
      });
      applyConversation(must(result));
    },
    /** The person is writing a reply to the visitor (not a note). */
    typingReply() {
      if (currentMembership.value?.role === 'platform') return;
      clearTimeout(typingQuiet);
      typingQuiet = setTimeout(stopTyping, 4000);
      if (Date.now() - typingSaidAt > 3000) {
        typingSaidAt = Date.now();
        void sayTyping(true);
      }
    },
    stopTyping,
    async send(content: string, isPrivate: boolean, rich: unknown = null) {
      stopTyping();
      const result = await db.rpc('post_agent_message', {
        p_conversation_id: conversationId,
        p_content: content,
        p_private: isPrivate,
        p_client_msg_id: crypto.randomUUID(),
        ...(rich ? { p_rich: rich } : {}),
      });
      const row = must(result) as Omit<Message, 'author_name'> | Omit<Message, 'author_name'>[];
      const message = Array.isArray(row) ? row[0] : row;
      if (message) merge([{ ...message, author_name: null }]);
      // A public reply takes the conversation over: the status follows from the server.
      if (!isPrivate) {
        const { data } = await db
          .from('conversations')
          .select('status, assignee_id')
          .eq('id', conversationId)
          .maybeSingle();
        applyConversation(data);
      }
    },
    dispose() {
      stopTyping();
      disposed = true;
      clearTimeout(readTimer);
      clearTimeout(typingTimer);
      stopConversation();
      stopInbox();
    },
  };
}

export type ConversationView = ReturnType<typeof createConversationView>;
