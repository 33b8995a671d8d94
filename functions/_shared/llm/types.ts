// The provider-neutral shape of a chat completion. The chat engine speaks only this; openai.ts and
// anthropic.ts translate it to and from each wire format.

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | {
      role: 'tool';
      toolCallId: string;
      name: string;
      content: string;
      /** The tool failed and `content` says how; Anthropic lets the model know the difference. */
      isError?: boolean;
    };

export interface ToolCall {
  /** The provider's id; a tool result answers it through `toolCallId`. */
  id: string;
  name: string;
  /** The parsed arguments, or undefined when the model produced text that is not JSON. */
  arguments: unknown;
  /** Exactly what the model produced, kept for the audit trail and for diagnosing bad calls. */
  rawArguments: string;
}

export interface ToolSpec {
  name: string;
  description: string;
  /** A JSON schema for the arguments object. */
  parameters: Record<string, unknown>;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  maxTokens?: number;
  /** Overrides the provider's configured temperature for this call. */
  temperature?: number;
  /** When given, the reply is streamed and this receives each increment of text as it arrives. */
  onDelta?: (text: string) => void;
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'other';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface CompletionResult {
  content: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  /** The model that answered, as the provider reports it (may carry a version suffix). */
  model: string;
  finishReason: FinishReason;
}

export type LlmProviderName = 'openai' | 'anthropic';

export interface LlmProvider {
  readonly provider: LlmProviderName;
  readonly model: string;
  complete(request: CompletionRequest): Promise<CompletionResult>;
}

export type LlmErrorKind =
  | 'rate_limited'
  | 'server'
  | 'timeout'
  | 'network'
  | 'bad_request'
  | 'auth'
  /** The provider answered 2xx with something that is not the expected wire format. */
  | 'invalid_response'
  /** The caller's signal aborted the call. */
  | 'aborted';

const RETRYABLE_KINDS: ReadonlySet<LlmErrorKind> = new Set([
  'rate_limited',
  'server',
  'timeout',
  'network',
]);

/**
 * Every failure of `complete()` is an LlmError, so callers branch on `kind`, never on messages.
 * The one exception is an error thrown by the caller's own `onDelta`, which propagates unchanged.
 */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  readonly kind: LlmErrorKind;
  readonly status: number | undefined;
  /**
   * Whether the same request may succeed later. Already spent by the retry loop when thrown from
   * `complete()`; a job queue may still use it to decide between retrying and giving up.
   */
  readonly retryable: boolean;
  /** How long the provider asked us to wait (retry-after), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: LlmErrorKind,
    message: string,
    options: { status?: number; retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryable = options.retryable ?? RETRYABLE_KINDS.has(kind);
    this.retryAfterMs = options.retryAfterMs;
  }
}
