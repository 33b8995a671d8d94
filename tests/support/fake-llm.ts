import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A stand-in LLM server for tests: one real HTTP server speaking both OpenAI's Chat Completions
// (`POST /v1/chat/completions`) and Anthropic's Messages (`POST /v1/messages`), streaming or not,
// answering from a script and recording every request.
//
//   const llm = await startFakeLlm();
//   llm.script(
//     { toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-10421' } }] },
//     { text: 'Your order shipped.' },
//   );
//   const provider = createLlmProvider(llm.config('openai'), { fetch });
//   …
//   expect(llm.requests[1].toolResults).toEqual([{ toolCallId: …, content: … }]);
//
// It rejects (400) what the real APIs reject in ways a client can get wrong — unanswered tool
// calls, tool results without their call, roles Anthropic does not allow in a row — so a test
// passing against it means the wire shape is right, not merely that something was sent.

export type FakeFormat = 'openai' | 'anthropic';

export interface FakeToolCall {
  /** Generated when left out (`call_fake_1`, `toolu_fake_1`). */
  id?: string;
  name: string;
  /** An object is sent as JSON; a string is sent verbatim, so it can be broken JSON on purpose. */
  arguments?: unknown;
}

export interface FakeTurn {
  text?: string;
  toolCalls?: FakeToolCall[];
  /** Answer with this HTTP status and an error body in the format's shape instead. */
  status?: number;
  /** The error message for `status`. */
  error?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '2' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering at all. */
  delayMs?: number;
  /** Wait this long after each streamed piece of text or arguments (the envelope is not held up). */
  chunkDelayMs?: number;
  usage?: { inputTokens?: number; outputTokens?: number };
  /** The wire value (`stop`, `length`, `end_turn`, `max_tokens`…); derived when left out. */
  finishReason?: string;
  /** The model to report; the request's model when left out. */
  model?: string;
}

export type FakeStep = FakeTurn | ((request: FakeRequest) => FakeTurn | Promise<FakeTurn>);

export interface FakeWireMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type?: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
  [key: string]: unknown;
}

export interface FakeWireBody {
  model?: string;
  messages?: FakeWireMessage[];
  system?: unknown;
  tools?: Array<Record<string, unknown>>;
  stream?: boolean;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface FakeRequest {
  format: FakeFormat;
  path: string;
  /** Lower-cased names, as node:http gives them. */
  headers: Record<string, string>;
  body: FakeWireBody;
  stream: boolean;
  /** Text of the last user message (tool results aside), whatever the format. */
  lastUserText: string;
  /** The tool results this request carries back to the model, whatever the format. */
  toolResults: Array<{ toolCallId: string; content: string }>;
}

export interface FakeLlmOptions {
  /** What to answer when the script has run out. */
  defaultReply?: FakeStep;
  /** When set, requests without this key (bearer or x-api-key) get a 401. */
  apiKey?: string;
}

export interface FakeLlm {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Base URLs as each provider wants them: openai with `/v1`, anthropic without. */
  readonly url: Readonly<Record<FakeFormat, string>>;
  /** Every request received, in order, rejected ones included. */
  readonly requests: FakeRequest[];
  /** Queues the next answers, one per request; chainable. */
  script(...steps: FakeStep[]): FakeLlm;
  /** How many scripted answers have not been used yet. */
  pending(): number;
  lastRequest(): FakeRequest | undefined;
  /** A provider config pointed at this server (model `fake-model`). */
  config(format: FakeFormat): {
    provider: FakeFormat;
    model: string;
    baseUrl: string;
    apiKey: string;
  };
  /** Platform environment variables pointed at this server, for resolveLlmConfig. */
  env(format: FakeFormat): Record<string, string>;
  /** Forgets the script and the recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export const FAKE_MODEL = 'fake-model';
export const FAKE_API_KEY = 'fake-llm-key';
export const FAKE_DEFAULT_REPLY = 'Hello from the fake LLM.';

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const queue: FakeStep[] = [];
  const requests: FakeRequest[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let ids = 0;
  const nextId = () => ++ids;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((req, res) => {
    res.on('error', () => {});
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: { message: `fake LLM failed: ${String(error)}` } });
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const format: FakeFormat | undefined =
      req.method === 'POST' && path === '/v1/chat/completions'
        ? 'openai'
        : req.method === 'POST' && path === '/v1/messages'
          ? 'anthropic'
          : undefined;
    if (!format) {
      sendJson(res, 404, { error: { message: `fake LLM: no route for ${req.method} ${path}` } });
      return;
    }
    const raw = await readBody(req);
    let body: FakeWireBody;
    try {
      body = JSON.parse(raw) as FakeWireBody;
    } catch {
      sendError(res, format, 400, 'request body is not JSON');
      return;
    }
    const request: FakeRequest = {
      format,
      path,
      headers: flattenHeaders(req),
      body,
      stream: body.stream === true,
      lastUserText: lastUserText(format, body),
      toolResults: toolResults(format, body),
    };
    requests.push(request);

    if (options.apiKey && presentedKey(format, request.headers) !== options.apiKey) {
      sendError(res, format, 401, 'invalid api key');
      return;
    }
    const problem = format === 'openai' ? checkOpenAi(body) : checkAnthropic(request);
    if (problem) {
      sendError(res, format, 400, problem);
      return;
    }

    const step = queue.shift() ?? options.defaultReply ?? { text: FAKE_DEFAULT_REPLY };
    const turn = typeof step === 'function' ? await step(request) : step;
    if (turn.delayMs) await wait(turn.delayMs);
    if (res.destroyed) return;
    if (turn.status && turn.status >= 400) {
      sendError(res, format, turn.status, turn.error ?? 'scripted failure', turn.headers);
      return;
    }
    const reply = normaliseTurn(turn, format, body, nextId);
    if (!request.stream) {
      sendJson(
        res,
        200,
        format === 'openai' ? openAiCompletion(reply, nextId()) : anthropicMessage(reply, nextId()),
        turn.headers,
      );
      return;
    }
    const events =
      format === 'openai' ? openAiEvents(reply, body) : anthropicEvents(reply, nextId());
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      ...turn.headers,
    });
    for (const event of events) {
      if (res.destroyed) return;
      res.write(event.data);
      if (event.piece && turn.chunkDelayMs) await wait(turn.chunkDelayMs);
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const url = { openai: `${origin}/v1`, anthropic: origin };

  const llm: FakeLlm = {
    origin,
    url,
    requests,
    script(...steps) {
      queue.push(...steps);
      return llm;
    },
    pending: () => queue.length,
    lastRequest: () => requests.at(-1),
    config: (format) => ({
      provider: format,
      model: FAKE_MODEL,
      baseUrl: url[format],
      apiKey: FAKE_API_KEY,
    }),
    env: (format) => ({
      LLM_PROVIDER: format,
      LLM_MODEL: FAKE_MODEL,
      LLM_BASE_URL: url[format],
      LLM_API_KEY: FAKE_API_KEY,
    }),
    reset() {
      queue.length = 0;
      requests.length = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return llm;
}

// ── what a turn becomes on the wire ─────────────────────────────────────────────────────────────

interface Reply {
  model: string;
  text: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finishReason: string;
  usage: { inputTokens: number; outputTokens: number };
}

function normaliseTurn(
  turn: FakeTurn,
  format: FakeFormat,
  body: FakeWireBody,
  nextId: () => number,
): Reply {
  const text = turn.text ?? '';
  const toolCalls = (turn.toolCalls ?? []).map((call) => ({
    id: call.id ?? (format === 'openai' ? `call_fake_${nextId()}` : `toolu_fake_${nextId()}`),
    name: call.name,
    arguments:
      typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
  const hasTools = toolCalls.length > 0;
  const finishReason =
    turn.finishReason ??
    (format === 'openai' ? (hasTools ? 'tool_calls' : 'stop') : hasTools ? 'tool_use' : 'end_turn');
  const generated = text.length + toolCalls.reduce((n, call) => n + call.arguments.length, 0);
  return {
    model: turn.model ?? body.model ?? FAKE_MODEL,
    text,
    toolCalls,
    finishReason,
    usage: {
      inputTokens:
        turn.usage?.inputTokens ??
        Math.ceil(JSON.stringify([body.system ?? '', body.messages ?? []]).length / 4),
      outputTokens: turn.usage?.outputTokens ?? Math.max(1, Math.ceil(generated / 4)),
    },
  };
}

function openAiCompletion(reply: Reply, id: number) {
  return {
    id: `chatcmpl-fake-${id}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: reply.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.text === '' && reply.toolCalls.length > 0 ? null : reply.text,
          ...(reply.toolCalls.length > 0
            ? {
                tool_calls: reply.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function',
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        finish_reason: reply.finishReason,
      },
    ],
    usage: {
      prompt_tokens: reply.usage.inputTokens,
      completion_tokens: reply.usage.outputTokens,
      total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
    },
  };
}

/** A server-sent event, and whether it carries a piece of the text or arguments. */
interface StreamEvent {
  data: string;
  piece: boolean;
}

function openAiEvents(reply: Reply, body: FakeWireBody): StreamEvent[] {
  const base = {
    id: 'chatcmpl-fake-stream',
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: reply.model,
  };
  const chunk = (delta: unknown, finishReason: string | null = null, piece = false) => ({
    data: sse({ ...base, choices: [{ index: 0, delta, finish_reason: finishReason }] }),
    piece,
  });
  const events = [chunk({ role: 'assistant', content: '' })];
  for (const piece of pieces(reply.text, 4)) events.push(chunk({ content: piece }, null, true));
  reply.toolCalls.forEach((call, index) => {
    events.push(
      chunk({
        tool_calls: [
          { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
        ],
      }),
    );
    for (const fragment of pieces(call.arguments, 3)) {
      events.push(
        chunk({ tool_calls: [{ index, function: { arguments: fragment } }] }, null, true),
      );
    }
  });
  events.push(chunk({}, reply.finishReason));
  const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
  if (streamOptions?.include_usage) {
    events.push({
      data: sse({
        ...base,
        choices: [],
        usage: {
          prompt_tokens: reply.usage.inputTokens,
          completion_tokens: reply.usage.outputTokens,
          total_tokens: reply.usage.inputTokens + reply.usage.outputTokens,
        },
      }),
      piece: false,
    });
  }
  events.push({ data: 'data: [DONE]\n\n', piece: false });
  return events;
}

function anthropicContent(reply: Reply) {
  return [
    ...(reply.text ? [{ type: 'text', text: reply.text }] : []),
    ...reply.toolCalls.map((call) => ({
      type: 'tool_use',
      id: call.id,
      name: call.name,
      input: safeParse(call.arguments) ?? {},
    })),
  ];
}

function anthropicMessage(reply: Reply, id: number) {
  return {
    id: `msg_fake_${id}`,
    type: 'message',
    role: 'assistant',
    model: reply.model,
    content: anthropicContent(reply),
    stop_reason: reply.finishReason,
    stop_sequence: null,
    usage: { input_tokens: reply.usage.inputTokens, output_tokens: reply.usage.outputTokens },
  };
}

function anthropicEvents(reply: Reply, id: number): StreamEvent[] {
  const event = (type: string, data: Record<string, unknown>) => ({
    data: sse({ type, ...data }, type),
    piece: type === 'content_block_delta',
  });
  const events = [
    event('message_start', {
      message: {
        id: `msg_fake_${id}`,
        type: 'message',
        role: 'assistant',
        model: reply.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: reply.usage.inputTokens, output_tokens: 1 },
      },
    }),
    event('ping', {}),
  ];
  let index = 0;
  if (reply.text) {
    events.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const text of pieces(reply.text, 4)) {
      events.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    }
    events.push(event('content_block_stop', { index }));
    index++;
  }
  for (const call of reply.toolCalls) {
    events.push(
      event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} },
      }),
    );
    // Anthropic streams nothing for an empty input.
    const json = call.arguments === '{}' ? '' : call.arguments;
    for (const partial_json of pieces(json, 3)) {
      events.push(
        event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }),
      );
    }
    events.push(event('content_block_stop', { index }));
    index++;
  }
  events.push(
    event('message_delta', {
      delta: { stop_reason: reply.finishReason, stop_sequence: null },
      usage: { output_tokens: reply.usage.outputTokens },
    }),
    event('message_stop', {}),
  );
  return events;
}

// ── what the real APIs would refuse ─────────────────────────────────────────────────────────────

function checkOpenAi(body: FakeWireBody): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'model is required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages is required';
  let unanswered = new Set<string>();
  for (const [i, message] of body.messages.entries()) {
    if (message.role === 'tool') {
      if (typeof message.tool_call_id !== 'string' || !unanswered.delete(message.tool_call_id)) {
        return `messages[${i}]: a tool message must answer a tool call of the assistant message before it`;
      }
      if (typeof message.content !== 'string') return `messages[${i}]: content must be a string`;
      continue;
    }
    if (unanswered.size > 0) {
      return `messages[${i}]: tool calls ${[...unanswered].join(', ')} were not answered`;
    }
    if (!['system', 'developer', 'user', 'assistant'].includes(message.role)) {
      return `messages[${i}]: unknown role ${message.role}`;
    }
    if (message.role === 'assistant' && message.tool_calls) {
      for (const call of message.tool_calls) {
        if (call.type !== 'function' || typeof call.function?.arguments !== 'string') {
          return `messages[${i}]: tool_calls need type "function" and string arguments`;
        }
      }
      unanswered = new Set(message.tool_calls.map((call) => call.id));
    }
  }
  if (unanswered.size > 0) return `tool calls ${[...unanswered].join(', ')} were not answered`;
  for (const tool of body.tools ?? []) {
    const fn = tool.function as { name?: unknown; parameters?: unknown } | undefined;
    if (tool.type !== 'function' || typeof fn?.name !== 'string') {
      return 'tools must be {type: "function", function: {name, description, parameters}}';
    }
  }
  return undefined;
}

interface AnthropicBlock {
  type?: string;
  text?: unknown;
  id?: string;
  tool_use_id?: string;
  input?: unknown;
}

function checkAnthropic(request: FakeRequest): string | undefined {
  const { body, headers } = request;
  if (!headers['anthropic-version']) return 'anthropic-version header is required';
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return 'messages: Field required';
  let expectedResults = new Set<string>();
  for (const [i, message] of body.messages.entries()) {
    if (message.role !== 'user' && message.role !== 'assistant') {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    if (i > 0 && body.messages[i - 1]?.role === message.role) {
      return `messages.${i}: roles must alternate between "user" and "assistant"`;
    }
    const blocks: AnthropicBlock[] =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : ((message.content as AnthropicBlock[] | undefined) ?? []);
    if (blocks.length === 0) return `messages.${i}: content must not be empty`;
    for (const block of blocks) {
      if (block.type === 'text' && (typeof block.text !== 'string' || block.text === '')) {
        return `messages.${i}: text content blocks must be non-empty`;
      }
    }
    if (message.role === 'user') {
      const results = blocks.filter((block) => block.type === 'tool_result');
      const firstOther = blocks.findIndex((block) => block.type !== 'tool_result');
      if (firstOther !== -1 && blocks.slice(firstOther).some((b) => b.type === 'tool_result')) {
        return `messages.${i}: tool_result blocks must come first`;
      }
      for (const result of results) {
        if (!result.tool_use_id || !expectedResults.delete(result.tool_use_id)) {
          return `messages.${i}: unexpected tool_use_id ${result.tool_use_id} in tool_result`;
        }
      }
      if (expectedResults.size > 0) {
        return `messages.${i}: tool_use ids ${[...expectedResults].join(', ')} have no tool_result`;
      }
    } else {
      if (expectedResults.size > 0) {
        return `messages.${i}: tool_use ids ${[...expectedResults].join(', ')} have no tool_result`;
      }
      const uses = blocks.filter((block) => block.type === 'tool_use');
      for (const use of uses) {
        if (typeof use.input !== 'object' || use.input === null || Array.isArray(use.input)) {
          return `messages.${i}: tool_use.input must be an object`;
        }
      }
      expectedResults = new Set(uses.map((use) => use.id ?? ''));
    }
  }
  for (const tool of body.tools ?? []) {
    if (typeof tool.name !== 'string' || typeof tool.input_schema !== 'object') {
      return 'tools must be {name, description, input_schema}';
    }
  }
  return undefined;
}

// ── reading requests ────────────────────────────────────────────────────────────────────────────

function lastUserText(format: FakeFormat, body: FakeWireBody): string {
  const users = (body.messages ?? []).filter((message) => message.role === 'user');
  for (const message of users.reverse()) {
    if (typeof message.content === 'string') return message.content;
    if (format === 'anthropic' && Array.isArray(message.content)) {
      const text = (message.content as AnthropicBlock[])
        .filter((block) => block.type === 'text')
        .map((block) => String(block.text))
        .join('\n');
      if (text) return text;
    }
  }
  return '';
}

function toolResults(
  format: FakeFormat,
  body: FakeWireBody,
): Array<{ toolCallId: string; content: string }> {
  const messages = body.messages ?? [];
  if (format === 'openai') {
    return messages
      .filter((message) => message.role === 'tool')
      .map((message) => ({
        toolCallId: String(message.tool_call_id),
        content: String(message.content),
      }));
  }
  return messages.flatMap((message) =>
    message.role === 'user' && Array.isArray(message.content)
      ? (message.content as Array<AnthropicBlock & { content?: unknown }>)
          .filter((block) => block.type === 'tool_result')
          .map((block) => ({
            toolCallId: String(block.tool_use_id),
            content:
              typeof block.content === 'string' ? block.content : JSON.stringify(block.content),
          }))
      : [],
  );
}

function presentedKey(format: FakeFormat, headers: Record<string, string>): string | undefined {
  if (format === 'anthropic') return headers['x-api-key'];
  return headers.authorization?.replace(/^Bearer\s+/i, '');
}

// ── plumbing ────────────────────────────────────────────────────────────────────────────────────

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function sendError(
  res: ServerResponse,
  format: FakeFormat,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const openAiType =
    status === 429
      ? 'rate_limit_exceeded'
      : status >= 500
        ? 'server_error'
        : 'invalid_request_error';
  const anthropicType =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status === 401
          ? 'authentication_error'
          : status >= 500
            ? 'api_error'
            : 'invalid_request_error';
  sendJson(
    res,
    status,
    format === 'openai'
      ? { error: { message, type: openAiType, param: null, code: null } }
      : { type: 'error', error: { type: anthropicType, message } },
    headers,
  );
}

function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/** Splits text into about `count` pieces (by code point, never inside a surrogate pair). */
function pieces(text: string, count: number): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const size = Math.max(1, Math.ceil(chars.length / count));
  const result: string[] = [];
  for (let i = 0; i < chars.length; i += size) result.push(chars.slice(i, i + size).join(''));
  return result;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
