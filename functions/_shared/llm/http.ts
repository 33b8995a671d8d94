import { OutboundRefusedError } from '../net/outbound.ts';
import { LlmError, type LlmErrorKind } from './types.ts';

/** How much of an error body goes into an LlmError's message: enough to diagnose, no more. */
const ERROR_DETAIL_LIMIT = 300;

export function trimTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** POSTs JSON; resolves only with a 2xx response, everything else becomes an LlmError. */
export async function postJson(
  fetchFn: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  signal: AbortSignal,
  now: () => number = Date.now,
): Promise<Response> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    throw transportFailure(error, signal);
  }
  if (!response.ok) throw await errorFromResponse(response, now);
  return response;
}

export async function readJson(response: Response, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw transportFailure(error, signal);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new LlmError('invalid_response', `The LLM answered with invalid JSON: ${clip(text)}`, {
      status: response.status,
      cause: error,
    });
  }
}

export function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').includes('text/event-stream');
}

/** What a failed fetch or body read means: our timeout, an abort, or the network. */
export function transportFailure(error: unknown, signal: AbortSignal): LlmError {
  if (error instanceof LlmError) return error;
  // A base URL the outbound guard refuses stays refused: no retry, and the reason is the message.
  if (error instanceof OutboundRefusedError) {
    return new LlmError('bad_request', error.message, { retryable: false, cause: error });
  }
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      return new LlmError('timeout', 'The LLM did not answer in time', { cause: error });
    }
    return new LlmError('aborted', 'The LLM call was aborted', { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new LlmError('network', `Could not reach the LLM: ${detail}`, { cause: error });
}

export async function errorFromResponse(
  response: Response,
  now: () => number = Date.now,
): Promise<LlmError> {
  const { status } = response;
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The status says enough; a body that cannot be read adds nothing.
  }
  const { message, code } = describeErrorBody(text);
  const kind = kindForStatus(status);
  const retryAfterMs = parseRetryAfter(response.headers, now);
  return new LlmError(kind, `LLM request failed with ${status}: ${message}`, {
    status,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    // An exhausted quota is a 429 too, but no amount of waiting brings the money back.
    ...(code === 'insufficient_quota' ? { retryable: false } : {}),
  });
}

function kindForStatus(status: number): LlmErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  if (status >= 400) return 'bad_request';
  return 'invalid_response';
}

/** OpenAI and Anthropic nest `{error: {message}}`; Ollama and others answer `{error: "…"}`. */
function describeErrorBody(text: string): { message: string; code?: string } {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const error = body.error;
    if (typeof error === 'string') return { message: clip(error) };
    if (error && typeof error === 'object') {
      const { message, code, type } = error as Record<string, unknown>;
      const described = typeof code === 'string' ? code : typeof type === 'string' ? type : '';
      return {
        message: clip(typeof message === 'string' ? message : text),
        ...(described ? { code: described } : {}),
      };
    }
    if (typeof body.message === 'string') return { message: clip(body.message) };
  } catch {
    // Not JSON: an HTML error page from a proxy, say. Quote it.
  }
  return { message: clip(text) || '(no details)' };
}

/** `retry-after-ms` (OpenAI) wins over `retry-after`, which is seconds or an HTTP date. */
export function parseRetryAfter(
  headers: Headers,
  now: () => number = Date.now,
): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number.parseFloat(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > ERROR_DETAIL_LIMIT ? `${flat.slice(0, ERROR_DETAIL_LIMIT)}…` : flat;
}
