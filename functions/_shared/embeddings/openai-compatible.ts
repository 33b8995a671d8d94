import { OutboundRefusedError } from '../net/outbound.ts';
import { EMBEDDING_DIMENSIONS, type Embedder } from './embedder.ts';

// Any server that speaks OpenAI's embeddings API: OpenAI itself, Azure-style gateways, Ollama,
// vLLM, LiteLLM, Together… It is asked for Parley's 384 dimensions (OpenAI's text-embedding-3
// models shorten their vectors on request); a server that ignores the request is caught by the
// length check rather than failing later inside a vector(384) column.

export interface OpenAiCompatibleEmbedderOptions {
  /** e.g. https://api.openai.com/v1 or http://localhost:11434/v1; "/embeddings" is appended. */
  baseUrl: string;
  /** Sent as a bearer token; local servers usually need none. */
  apiKey?: string;
  model?: string;
  /** Inputs per request. */
  batchSize?: number;
  /** Retries after a 429, a 5xx or a network error, each after a longer wait. */
  maxRetries?: number;
  /** Milliseconds before one request is given up (and retried). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const DEFAULT_OPENAI_EMBEDDINGS_MODEL = 'text-embedding-3-small';

export class EmbeddingRequestError extends Error {
  override readonly name = 'EmbeddingRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** The server's own error message, briefly: enough to diagnose, never the whole body. */
async function describeFailure(response: Response): Promise<string> {
  const body = await response.text().catch(() => '');
  let detail = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string };
    const error = parsed.error;
    detail = typeof error === 'string' ? error : String(error?.message ?? body);
  } catch {}
  detail = detail.replace(/\s+/g, ' ').trim().slice(0, 300);
  return `embeddings request failed: HTTP ${response.status}${detail ? ` ${detail}` : ''}`;
}

function readVectors(body: unknown, expected: number): number[][] {
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data) || data.length !== expected) {
    throw new EmbeddingRequestError(
      `embeddings response has ${Array.isArray(data) ? data.length : 'no'} vectors for ${expected} inputs`,
      null,
      false,
    );
  }
  const vectors: number[][] = new Array(expected);
  for (const [position, item] of data.entries()) {
    const { embedding, index } = (item ?? {}) as { embedding?: unknown; index?: unknown };
    const at = typeof index === 'number' ? index : position;
    if (!Array.isArray(embedding) || embedding.length !== EMBEDDING_DIMENSIONS) {
      throw new EmbeddingRequestError(
        `embedding ${at} has ${Array.isArray(embedding) ? embedding.length : 'no'} dimensions, expected ${EMBEDDING_DIMENSIONS}`,
        null,
        false,
      );
    }
    if (!embedding.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new EmbeddingRequestError(`embedding ${at} is not all numbers`, null, false);
    }
    if (at < 0 || at >= expected || vectors[at]) {
      throw new EmbeddingRequestError(`embeddings response has a bad index ${at}`, null, false);
    }
    vectors[at] = embedding as number[];
  }
  return vectors;
}

export function createOpenAiCompatibleEmbedder(options: OpenAiCompatibleEmbedderOptions): Embedder {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const model = options.model ?? DEFAULT_OPENAI_EMBEDDINGS_MODEL;
  const batchSize = Math.max(1, options.batchSize ?? 64);
  const maxRetries = Math.max(0, options.maxRetries ?? 4);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

  async function embedBatch(input: string[]): Promise<number[][]> {
    const body = JSON.stringify({
      model,
      input,
      dimensions: EMBEDDING_DIMENSIONS,
      encoding_format: 'float',
    });
    for (let attempt = 0; ; attempt++) {
      let failure: EmbeddingRequestError;
      let wait: number | null = null;
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.ok) return readVectors(await response.json(), input.length);
        const retryable = response.status === 429 || response.status >= 500;
        failure = new EmbeddingRequestError(
          await describeFailure(response),
          response.status,
          retryable,
        );
        wait = retryAfterMs(response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof EmbeddingRequestError) throw error;
        // A base URL the outbound guard refuses stays refused however often it is asked.
        if (error instanceof OutboundRefusedError) {
          throw new EmbeddingRequestError(error.message, null, false);
        }
        // Network errors, timeouts and unreadable bodies are worth another try.
        failure = new EmbeddingRequestError(
          `embeddings request failed: ${(error as Error)?.message ?? String(error)}`,
          null,
          true,
        );
      }
      if (!failure.retryable || attempt >= maxRetries) throw failure;
      const backoff = BASE_DELAY_MS * 2 ** attempt;
      // Up to a quarter of jitter keeps workers that failed together from retrying together.
      await sleep(Math.min(MAX_DELAY_MS, wait ?? backoff * (1 + random() / 4)));
    }
  }

  return {
    model,
    async embed(texts) {
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        vectors.push(...(await embedBatch(texts.slice(start, start + batchSize))));
      }
      return vectors;
    },
  };
}
