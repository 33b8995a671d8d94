// What Parley sends, read into the fields a workflow uses. Two shapes share one envelope:
//   tool call: {tool, arguments, call_id, conversation: {id, tenant_id, contact}}
//   relay:     {tool: "parley.reply", arguments: {message: {id, content}, history, locale},
//               conversation, callback_url}

export const RELAY_TOOL = 'parley.reply';

export interface HistoryEntry {
  role: string;
  content: string;
}

export interface Conversation {
  id: string;
  tenant_id: string;
  contact: unknown;
}

export interface ParleyDelivery {
  kind: 'tool' | 'relay';
  tool: string;
  arguments: Record<string, unknown>;
  call_id: string | null;
  conversation: Conversation;
  /** The visitor's message: the relay's, or empty for a tool call. */
  message: string;
  message_id: string | null;
  history: HistoryEntry[];
  locale: string | null;
  callback_url: string | null;
  // The names n8n's Chat Trigger gives these, so an AI Agent and its memory work unchanged.
  chatInput: string;
  sessionId: string;
}

export type ParseResult = { ok: true; delivery: ParleyDelivery } | { ok: false; message: string };

export function parseDelivery(rawBody: Buffer | string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, message: 'The body is not JSON.' };
  }
  if (!isRecord(json)) return { ok: false, message: 'The body is not a JSON object.' };
  const tool = json.tool;
  if (typeof tool !== 'string' || tool === '') {
    return { ok: false, message: 'The body names no tool.' };
  }
  const conversation = json.conversation;
  if (!isRecord(conversation) || typeof conversation.id !== 'string') {
    return { ok: false, message: 'The body carries no conversation.' };
  }
  const args = isRecord(json.arguments) ? json.arguments : {};
  const common = {
    tool,
    conversation: {
      id: conversation.id,
      tenant_id: typeof conversation.tenant_id === 'string' ? conversation.tenant_id : '',
      contact: conversation.contact ?? null,
    },
    sessionId: conversation.id,
  };
  if (tool !== RELAY_TOOL) {
    return {
      ok: true,
      delivery: {
        ...common,
        kind: 'tool',
        arguments: args,
        call_id: typeof json.call_id === 'string' ? json.call_id : null,
        message: '',
        message_id: null,
        history: [],
        locale: null,
        callback_url: null,
        chatInput: '',
      },
    };
  }
  const message = isRecord(args.message) ? args.message : {};
  const content = typeof message.content === 'string' ? message.content : '';
  return {
    ok: true,
    delivery: {
      ...common,
      kind: 'relay',
      arguments: args,
      call_id: typeof json.call_id === 'string' ? json.call_id : null,
      message: content,
      message_id: typeof message.id === 'string' ? message.id : null,
      history: Array.isArray(args.history) ? args.history.filter(isHistoryEntry) : [],
      locale: typeof args.locale === 'string' ? args.locale : null,
      callback_url: typeof json.callback_url === 'string' ? json.callback_url : null,
      chatInput: content,
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHistoryEntry(value: unknown): value is HistoryEntry {
  return isRecord(value) && typeof value.role === 'string' && typeof value.content === 'string';
}
