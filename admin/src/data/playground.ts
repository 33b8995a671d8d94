import { createAuth } from './auth.ts';
import { must, supabase } from './client.ts';
import { callFunction } from './functions.ts';

// The Playground talks to the bot the way the widget does: as an anonymous visitor of its own (a
// second Auth session, never stored, so it does not replace the staff one), through the chat API.
// Only opening the conversation needs the staff session (the playground function). The debug
// panel reads what grounded each reply with the staff session, under RLS.

export interface ChatMessage {
  id: string;
  role: 'user' | 'assistant' | 'agent' | 'system';
  content: string;
  quick_replies: string[];
  created_at: string;
}

export interface Playground {
  conversationId: string;
  send(content: string): Promise<ChatMessage>;
  /** Messages after `after` (ISO time), oldest first. */
  since(after: string | null): Promise<{ status: string; messages: ChatMessage[] }>;
  close(): Promise<void>;
}

export async function openPlayground(tenantId: string, locale: string): Promise<Playground> {
  const db = supabase();
  // No storage key: the visitor's session lives in memory, apart from the staff one.
  const visitor = createAuth({ url: `${db.url}/auth/v1`, key: db.key });
  const { data, error } = await visitor.signInAnonymously();
  if (error || !data.session) throw error ?? new Error('no visitor session');
  const first = data.session.access_token;
  const token = async () => (await visitor.getSession()).data.session?.access_token ?? first;
  const { conversation } = await callFunction<{ conversation: { id: string } }>(
    'playground/sessions',
    { tenant_id: tenantId, visitor_token: first, locale },
  );
  const conversationId = conversation.id;
  return {
    conversationId,
    async send(content) {
      const { message } = await callFunction<{ message: ChatMessage }>(
        'chat/messages',
        { conversation_id: conversationId, client_msg_id: crypto.randomUUID(), content, locale },
        { token: await token() },
      );
      return message;
    },
    async since(after) {
      const query = new URLSearchParams({ conversation_id: conversationId });
      if (after) query.set('after', after);
      const result = await callFunction<{
        conversation: { status: string };
        messages: ChatMessage[];
      }>(`chat/messages?${query}`, undefined, { token: await token() });
      return { status: result.conversation.status, messages: result.messages };
    },
    async close() {
      await visitor.signOut().catch(() => {});
    },
  };
}

export interface Passage {
  chunk_id?: string;
  document_id?: string;
  title?: string;
  heading?: string | null;
  score?: number;
  full_text_rank?: number | null;
  semantic_rank?: number | null;
  similarity?: number | null;
}

export interface ReplyDebug {
  question: string;
  retrieval_query: string | null;
  engine: string;
  provider: string | null;
  model: string | null;
  fallback_reason: string | null;
  rounds: number;
  latency_ms: number | null;
  chunks: Passage[];
  tool_calls: { name: string; call_id: string; execution_id: string | null; success: boolean }[];
  usage: { tokens_in: number | null; tokens_out: number | null; cost_usd: string | null } | null;
  executions: {
    id: string;
    tool_name: string;
    success: boolean;
    http_status: number | null;
    duration_ms: number | null;
    attempts: number;
    arguments: unknown;
    response?: unknown;
    error?: string | null;
  }[];
}

/** What grounded one reply: passages and scores, tools and their timings, tokens and cost. */
export async function replyDebug(messageId: string): Promise<ReplyDebug | null> {
  const db = supabase();
  const [grounding, usage] = await Promise.all([
    db
      .from('reply_groundings')
      .select(
        'question, retrieval_query, engine, provider, model, fallback_reason, rounds, latency_ms, chunks, tool_calls',
      )
      .eq('message_id', messageId)
      .maybeSingle(),
    db
      .from('message_usage')
      .select('tokens_in, tokens_out, cost_usd')
      .eq('message_id', messageId)
      .maybeSingle(),
  ]);
  const row = must(grounding) as Omit<ReplyDebug, 'usage' | 'executions'> | null;
  if (!row) return null;
  const ids = row.tool_calls.map((c) => c.execution_id).filter((id): id is string => !!id);
  let executions: ReplyDebug['executions'] = [];
  if (ids.length) {
    const [calls, results] = await Promise.all([
      db
        .from('tool_executions')
        .select('id, tool_name, success, http_status, duration_ms, attempts, arguments')
        .in('id', ids),
      db.from('tool_execution_results').select('id, response, error').in('id', ids),
    ]);
    const answers = new Map(
      ((results.data ?? []) as { id: string; response: unknown; error: string | null }[]).map(
        (r) => [r.id, r],
      ),
    );
    executions = (must(calls) as ReplyDebug['executions']).map((e) => ({
      ...e,
      response: answers.get(e.id)?.response,
      error: answers.get(e.id)?.error ?? null,
    }));
  }
  return { ...row, usage: (usage.data as ReplyDebug['usage']) ?? null, executions };
}
