import { z } from 'zod';
import { isEventStream, postJson, readJson, trimTrailingSlash } from './http.ts';
import { notRetryable, type RetryOptions, retryPolicy, withRetries } from './retry.ts';
import { parseEventData, readEvents } from './sse.ts';
import { argumentsObject, parseToolArguments } from './tool-arguments.ts';
import {
  type ChatMessage,
  type CompletionRequest,
  type CompletionResult,
  type FinishReason,
  LlmError,
  type LlmErrorKind,
  type LlmProvider,
  type ToolCall,
  type ToolSpec,
} from './types.ts';

// Anthropic's Messages API.

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';
/** Anthropic requires max_tokens; a support reply rarely needs more. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

export interface AnthropicProviderOptions extends RetryOptions {
  model: string;
  /** Without the `/v1`, e.g. `https://api.anthropic.com`. */
  baseUrl?: string;
  apiKey?: string;
  temperature?: number;
  fetch: typeof fetch;
  now?: () => number;
}

export function createAnthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  const url = `${trimTrailingSlash(options.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL)}/v1/messages`;
  const headers: Record<string, string> = {
    'anthropic-version': ANTHROPIC_VERSION,
    ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
  };
  const policy = retryPolicy(options);

  return {
    provider: 'anthropic',
    model: options.model,
    complete(request: CompletionRequest): Promise<CompletionResult> {
      const { onDelta } = request;
      const { system, messages } = toWireConversation(request.messages);
      const temperature = request.temperature ?? options.temperature;
      const body = {
        model: options.model,
        max_tokens: request.maxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
        ...(system ? { system } : {}),
        messages,
        ...(request.tools?.length ? { tools: request.tools.map(toWireTool) } : {}),
        // Anthropic's scale ends at 1 where OpenAI's ends at 2; a tenant setting made for one
        // provider must not break the other.
        ...(temperature === undefined
          ? {}
          : { temperature: Math.min(Math.max(temperature, 0), 1) }),
        ...(onDelta ? { stream: true } : {}),
      };
      return withRetries(policy, request.signal, async (signal) => {
        const response = await postJson(options.fetch, url, headers, body, signal, options.now);
        if (onDelta && isEventStream(response)) {
          return readStream(response, signal, onDelta, options.model);
        }
        const result = parseMessage(await readJson(response, signal), options.model);
        if (onDelta && result.content) onDelta(result.content);
        return result;
      });
    },
  };
}

type Block =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

interface WireMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

/**
 * Anthropic has no system role and no tool role, and wants user and assistant turns to alternate:
 * system messages move to the top-level `system`, tool results become user turns, and consecutive
 * turns of one role are merged.
 */
export function toWireConversation(messages: ChatMessage[]): {
  system: string;
  messages: WireMessage[];
} {
  const system: string[] = [];
  const wire: WireMessage[] = [];
  const append = (role: WireMessage['role'], blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = wire.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else wire.push({ role, content: blocks });
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        if (message.content.trim()) system.push(message.content);
        break;
      case 'user':
        // Anthropic rejects empty text blocks.
        append('user', message.content ? [{ type: 'text', text: message.content }] : []);
        break;
      case 'assistant':
        append('assistant', [
          ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
          ...(message.toolCalls ?? []).map(
            (call): Block => ({
              type: 'tool_use',
              id: call.id,
              name: call.name,
              input: argumentsObject(call),
            }),
          ),
        ]);
        break;
      case 'tool':
        append('user', [
          {
            type: 'tool_result',
            tool_use_id: message.toolCallId,
            content: message.content,
            ...(message.isError ? { is_error: true } : {}),
          },
        ]);
        break;
    }
  }
  // Tool results must open the user turn that answers the tool calls.
  for (const message of wire) {
    if (message.role === 'user') {
      message.content.sort(
        (a, b) => Number(b.type === 'tool_result') - Number(a.type === 'tool_result'),
      );
    }
  }
  return { system: system.join('\n\n'), messages: wire };
}

function toWireTool(tool: ToolSpec) {
  return { name: tool.name, description: tool.description, input_schema: tool.parameters };
}

const Usage = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
});

const Message = z.object({
  model: z.string().nullish(),
  content: z.array(
    z.object({
      type: z.string(),
      text: z.string().nullish(),
      id: z.string().nullish(),
      name: z.string().nullish(),
      input: z.unknown().optional(),
    }),
  ),
  stop_reason: z.string().nullish(),
  usage: Usage.nullish(),
});

const StreamEvent = z.object({
  type: z.string(),
  message: z.object({ model: z.string().nullish(), usage: Usage.nullish() }).nullish(),
  index: z.number().nullish(),
  content_block: z
    .object({
      type: z.string(),
      text: z.string().nullish(),
      id: z.string().nullish(),
      name: z.string().nullish(),
      input: z.unknown().optional(),
    })
    .nullish(),
  delta: z
    .object({
      type: z.string().nullish(),
      text: z.string().nullish(),
      partial_json: z.string().nullish(),
      stop_reason: z.string().nullish(),
    })
    .nullish(),
  usage: Usage.nullish(),
  error: z.object({ type: z.string().nullish(), message: z.string().nullish() }).nullish(),
});

/** Cache reads and writes are prompt tokens too, billed differently but counted all the same. */
function inputTokens(usage: z.infer<typeof Usage>): number {
  return (
    (usage.input_tokens ?? 0) +
    (usage.cache_creation_input_tokens ?? 0) +
    (usage.cache_read_input_tokens ?? 0)
  );
}

function parseMessage(json: unknown, fallbackModel: string): CompletionResult {
  const parsed = Message.safeParse(json);
  if (!parsed.success) {
    throw new LlmError('invalid_response', `Unexpected Anthropic message: ${parsed.error.message}`);
  }
  const message = parsed.data;
  let content = '';
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') content += block.text ?? '';
    if (block.type === 'tool_use') {
      const rawArguments = JSON.stringify(block.input ?? {});
      toolCalls.push({
        id: block.id ?? '',
        name: block.name ?? '',
        arguments: block.input ?? {},
        rawArguments,
      });
    }
  }
  return {
    content,
    toolCalls,
    usage: {
      inputTokens: message.usage ? inputTokens(message.usage) : 0,
      outputTokens: message.usage?.output_tokens ?? 0,
    },
    model: message.model || fallbackModel,
    finishReason: finishReason(message.stop_reason),
  };
}

async function readStream(
  response: Response,
  signal: AbortSignal,
  onDelta: (text: string) => void,
  fallbackModel: string,
): Promise<CompletionResult> {
  let content = '';
  let model = '';
  let stopReason: string | null | undefined;
  let finished = false;
  const usage = { inputTokens: 0, outputTokens: 0 };
  // By block index: only tool_use blocks are kept, text goes straight to `content`.
  const calls = new Map<number, { id: string; name: string; rawArguments: string }>();

  try {
    await readEvents(response, signal, (event) => {
      const parsed = StreamEvent.safeParse(parseEventData(event));
      if (!parsed.success) {
        throw new LlmError('invalid_response', `Unexpected stream event: ${parsed.error.message}`);
      }
      const data = parsed.data;
      switch (data.type) {
        case 'message_start':
          if (data.message?.model) model = data.message.model;
          if (data.message?.usage) {
            usage.inputTokens = inputTokens(data.message.usage);
            usage.outputTokens = data.message.usage.output_tokens ?? 0;
          }
          break;
        case 'content_block_start': {
          const block = data.content_block;
          if (block?.type === 'tool_use') {
            calls.set(data.index ?? calls.size, {
              id: block.id ?? '',
              name: block.name ?? '',
              rawArguments: '',
            });
          } else if (block?.type === 'text' && block.text) {
            content += block.text;
            onDelta(block.text);
          }
          break;
        }
        case 'content_block_delta':
          if (data.delta?.type === 'text_delta' && data.delta.text) {
            content += data.delta.text;
            onDelta(data.delta.text);
          } else if (data.delta?.type === 'input_json_delta') {
            const call = calls.get(data.index ?? -1);
            if (call) call.rawArguments += data.delta.partial_json ?? '';
          }
          break;
        case 'message_delta':
          if (data.delta?.stop_reason) stopReason = data.delta.stop_reason;
          // These counts are cumulative, not increments.
          if (data.usage?.output_tokens != null) usage.outputTokens = data.usage.output_tokens;
          if (data.usage?.input_tokens != null) usage.inputTokens = inputTokens(data.usage);
          break;
        case 'message_stop':
          finished = true;
          return 'stop';
        case 'error':
          throw new LlmError(
            errorKind(data.error?.type),
            `The LLM failed mid-stream: ${data.error?.message ?? data.error?.type ?? ''}`,
          );
      }
      return undefined;
    });
  } catch (error) {
    throw content ? notRetryable(error) : error;
  }
  if (!finished) {
    const truncated = new LlmError('network', 'The LLM stream ended before the reply was complete');
    throw content ? notRetryable(truncated) : truncated;
  }

  const toolCalls = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, call]): ToolCall => {
      // A call without arguments streams no JSON at all.
      const rawArguments = call.rawArguments.trim() === '' ? '{}' : call.rawArguments;
      return {
        id: call.id,
        name: call.name,
        arguments: parseToolArguments(rawArguments),
        rawArguments,
      };
    });
  return {
    content,
    toolCalls,
    usage,
    model: model || fallbackModel,
    finishReason: finishReason(stopReason),
  };
}

function finishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case null:
    case undefined:
      return 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    default:
      return 'other';
  }
}

function errorKind(type: string | null | undefined): LlmErrorKind {
  switch (type) {
    case 'rate_limit_error':
      return 'rate_limited';
    case 'authentication_error':
    case 'permission_error':
      return 'auth';
    case 'invalid_request_error':
    case 'request_too_large':
    case 'not_found_error':
      return 'bad_request';
    default:
      return 'server';
  }
}
