import { z } from 'zod';
import { isEventStream, postJson, readJson, trimTrailingSlash } from './http.ts';
import { notRetryable, type RetryOptions, retryPolicy, withRetries } from './retry.ts';
import { parseEventData, readEvents } from './sse.ts';
import { argumentsText, parseToolArguments } from './tool-arguments.ts';
import {
  type ChatMessage,
  type CompletionRequest,
  type CompletionResult,
  type FinishReason,
  LlmError,
  type LlmProvider,
  type ToolCall,
  type ToolSpec,
} from './types.ts';

// Chat Completions as OpenAI defines it and as Ollama, vLLM, Groq, LiteLLM… reimplement it. The
// parsing is deliberately lenient about what those servers leave out (ids, usage, finish reasons).

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export interface OpenAiProviderOptions extends RetryOptions {
  model: string;
  /** Up to and including the version segment, e.g. `http://localhost:11434/v1`. */
  baseUrl?: string;
  /** Sent as a bearer token; local servers such as Ollama need none. */
  apiKey?: string;
  temperature?: number;
  fetch: typeof fetch;
  now?: () => number;
}

export function createOpenAiProvider(options: OpenAiProviderOptions): LlmProvider {
  const baseUrl = trimTrailingSlash(options.baseUrl ?? OPENAI_DEFAULT_BASE_URL);
  const url = `${baseUrl}/chat/completions`;
  // OpenAI itself has renamed max_tokens (its reasoning models reject the old name), while most
  // compatible servers still know only the old one.
  const maxTokensField =
    new URL(baseUrl).hostname === 'api.openai.com' ? 'max_completion_tokens' : 'max_tokens';
  const headers: Record<string, string> = options.apiKey
    ? { authorization: `Bearer ${options.apiKey}` }
    : {};
  const policy = retryPolicy(options);

  return {
    provider: 'openai',
    model: options.model,
    complete(request: CompletionRequest): Promise<CompletionResult> {
      const { onDelta } = request;
      const temperature = request.temperature ?? options.temperature;
      const body = {
        model: options.model,
        messages: request.messages.map(toWireMessage),
        ...(request.tools?.length ? { tools: request.tools.map(toWireTool) } : {}),
        ...(request.maxTokens === undefined ? {} : { [maxTokensField]: request.maxTokens }),
        ...(temperature === undefined ? {} : { temperature }),
        ...(onDelta ? { stream: true, stream_options: { include_usage: true } } : {}),
      };
      return withRetries(policy, request.signal, async (signal) => {
        const response = await postJson(options.fetch, url, headers, body, signal, options.now);
        if (onDelta && isEventStream(response)) {
          return readStream(response, signal, onDelta, options.model);
        }
        // Also where a server that ignores `stream` ends up: the reply arrives as one delta.
        const result = parseCompletion(await readJson(response, signal), options.model);
        if (onDelta && result.content) onDelta(result.content);
        return result;
      });
    },
  };
}

function toWireMessage(message: ChatMessage): Record<string, unknown> {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        content: message.content === '' ? null : message.content,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: argumentsText(call) },
        })),
      };
    }
    case 'tool':
      // `name` is not in OpenAI's schema but is accepted there, and some compatible servers
      // (Gemini's among them) need it to pair the result with its call.
      return {
        role: 'tool',
        tool_call_id: message.toolCallId,
        name: message.name,
        content: message.content,
      };
  }
}

function toWireTool(tool: ToolSpec) {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.parameters },
  };
}

const Usage = z
  .object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() })
  .nullish();

const Completion = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().nullish(),
                function: z.object({
                  name: z.string(),
                  // A few servers send an object instead of the JSON text OpenAI specifies.
                  arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish(),
                }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: Usage,
});

const Chunk = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().nullish(),
                  id: z.string().nullish(),
                  function: z
                    .object({ name: z.string().nullish(), arguments: z.string().nullish() })
                    .nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .nullish(),
  usage: Usage,
  error: z.object({ message: z.string().nullish() }).nullish(),
});

function parseCompletion(json: unknown, fallbackModel: string): CompletionResult {
  const parsed = Completion.safeParse(json);
  if (!parsed.success) {
    throw new LlmError('invalid_response', `Unexpected chat completion: ${parsed.error.message}`);
  }
  const { choices, usage, model } = parsed.data;
  const [choice] = choices as [(typeof choices)[number]];
  const toolCalls = (choice.message.tool_calls ?? []).map((call): ToolCall => {
    const raw = call.function.arguments;
    const rawArguments = typeof raw === 'string' ? raw : JSON.stringify(raw ?? {});
    return {
      id: call.id || syntheticId(),
      name: call.function.name,
      arguments: parseToolArguments(rawArguments),
      rawArguments,
    };
  });
  return {
    content: choice.message.content ?? '',
    toolCalls,
    usage: {
      inputTokens: usage?.prompt_tokens ?? 0,
      outputTokens: usage?.completion_tokens ?? 0,
    },
    model: model || fallbackModel,
    finishReason: finishReason(choice.finish_reason, toolCalls.length > 0),
  };
}

interface PartialToolCall {
  id: string;
  name: string;
  rawArguments: string;
}

async function readStream(
  response: Response,
  signal: AbortSignal,
  onDelta: (text: string) => void,
  fallbackModel: string,
): Promise<CompletionResult> {
  let content = '';
  let model = '';
  let reason: string | null | undefined;
  let finished = false;
  const usage = { inputTokens: 0, outputTokens: 0 };
  const calls = new Map<number, PartialToolCall>();

  try {
    await readEvents(response, signal, (event) => {
      if (event.data.trim() === '[DONE]') {
        finished = true;
        return 'stop';
      }
      const parsed = Chunk.safeParse(parseEventData(event));
      if (!parsed.success) {
        throw new LlmError('invalid_response', `Unexpected stream chunk: ${parsed.error.message}`);
      }
      const chunk = parsed.data;
      if (chunk.error) {
        throw new LlmError('server', `The LLM failed mid-stream: ${chunk.error.message ?? ''}`);
      }
      if (chunk.model) model = chunk.model;
      if (chunk.usage) {
        usage.inputTokens = chunk.usage.prompt_tokens ?? usage.inputTokens;
        usage.outputTokens = chunk.usage.completion_tokens ?? usage.outputTokens;
      }
      const choice = chunk.choices?.[0];
      if (!choice) return;
      if (choice.finish_reason) {
        reason = choice.finish_reason;
        finished = true;
      }
      const text = choice.delta?.content;
      if (text) {
        content += text;
        onDelta(text);
      }
      choice.delta?.tool_calls?.forEach((fragment, position) => {
        // Servers that send each call whole in one chunk may leave out the index.
        const index = fragment.index ?? position;
        let call = calls.get(index);
        if (!call) {
          call = { id: '', name: '', rawArguments: '' };
          calls.set(index, call);
        }
        // Ids and names arrive once; some servers repeat them, so never concatenate them.
        if (fragment.id && !call.id) call.id = fragment.id;
        if (fragment.function?.name && !call.name) call.name = fragment.function.name;
        call.rawArguments += fragment.function?.arguments ?? '';
      });
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
    .map(
      ([, call]): ToolCall => ({
        id: call.id || syntheticId(),
        name: call.name,
        arguments: parseToolArguments(call.rawArguments),
        rawArguments: call.rawArguments,
      }),
    );
  return {
    content,
    toolCalls,
    usage,
    model: model || fallbackModel,
    finishReason: finishReason(reason, toolCalls.length > 0),
  };
}

function finishReason(reason: string | null | undefined, hasToolCalls: boolean): FinishReason {
  if (reason === 'length') return 'length';
  // Ollama reports 'stop' even when the turn ends in tool calls.
  if (hasToolCalls || reason === 'tool_calls' || reason === 'function_call') return 'tool_calls';
  if (reason === 'stop' || reason == null) return 'stop';
  return 'other';
}

/** For servers that leave ids out; unique, so the audit trail never confuses two calls. */
function syntheticId(): string {
  return `call_${crypto.randomUUID()}`;
}
