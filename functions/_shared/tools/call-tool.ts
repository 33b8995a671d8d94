import { OutboundRefusedError } from '../net/outbound.ts';
import { stripNul } from '../text/nul.ts';
import { isWebhookSecret, signRequest } from '../webhooks/signature.ts';

/**
 * Calls a tenant's tool webhook (an n8n workflow, usually) the way DESIGN's signed-webhook
 * contract says, and turns whatever happens into a result the bot can hand to the model.
 * Remote failures never throw: a broken tool must not break the reply.
 */

export interface ToolCallBody {
  tool: string;
  arguments: unknown;
  call_id: string;
  conversation: { id: string; tenant_id: string; contact: unknown };
}

export interface CallToolOptions {
  url: string;
  /** The current secret, or during a rotation's overlap the current and the previous one. */
  secret: string | readonly string[];
  /** Per attempt, covering the response body as well as the headers. */
  timeoutMs: number;
  /** Sent as JSON: a tool call (ToolCallBody), or the relay's body. */
  body: object;
  fetch: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch; signatures use it for their timestamp. */
  now?: () => number;
  maxAttempts?: number;
  /**
   * The webhook-id: the same for every attempt of one logical call, retries after a crash included
   * (derive it with webhookIdFor). Defaults to a new UUID, for one-off calls nobody retries.
   */
  deliveryId?: string;
  /** Bytes of response kept; the rest is dropped. */
  maxResponseBytes?: number;
  /** Wait before the second attempt; doubled for each one after. */
  backoffMs?: number;
  /**
   * Why a 2xx answer is not one, or null when it is. Such an answer is a failed attempt, retried
   * like a 5xx. Default: a tool answers a JSON value (jsonAnswerProblem).
   */
  validate?: (answer: ToolAnswer) => string | null;
}

/** A 2xx answer, as read. */
export interface ToolAnswer {
  status: number;
  text: string;
  /** The parsed body; undefined when it is not JSON or was cut. */
  json: unknown;
  truncated: boolean;
}

export interface ToolCallResult {
  /** The tool answered 2xx with an answer validate accepts. */
  ok: boolean;
  /** Of the last attempt that got an answer. */
  status?: number;
  /**
   * Parsed JSON; {text} when the answer is not JSON, {text, truncated: true} when it was cut at
   * maxResponseBytes; null when no attempt got an answer.
   */
  response: unknown;
  attempts: number;
  durationMs: number;
  /** The same on every attempt, so the tool can dedupe retries of a call it already acted on. */
  deliveryId: string;
  /** The receiver's own id for the run that answered (n8n's execution id), when it named one. */
  n8nExecutionId?: string;
  error?: string;
}

// A tool's answer goes into the model's context window; 64 KB is already generous.
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
const DEFAULT_BACKOFF_MS = 250;
// The user is waiting on the reply: retries stay short, whatever Retry-After asks for.
const MAX_BACKOFF_MS = 2_000;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

type Attempt =
  | {
      kind: 'answer';
      status: number;
      response: unknown;
      retryAfterMs: number | null;
      /** Why a 2xx answer does not count as one. */
      problem: string | null;
      n8nExecutionId: string | null;
    }
  | { kind: 'failure'; error: string; final?: boolean };

/**
 * A tool's answer goes to the model as JSON. An empty body (a workflow that broke before its
 * Respond node) or one that is not JSON is not an answer, whatever the status said.
 */
export function jsonAnswerProblem(answer: ToolAnswer): string | null {
  if (answer.truncated) return 'the answer is larger than the limit';
  if (answer.text.trim() === '') return `HTTP ${answer.status} with an empty body`;
  if (answer.json === undefined) return `HTTP ${answer.status} with a body that is not JSON`;
  return null;
}

export async function callToolWebhook(options: CallToolOptions): Promise<ToolCallResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3));
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
  const deliveryId = options.deliveryId ?? crypto.randomUUID();
  const started = now();
  const finish = (result: Omit<ToolCallResult, 'deliveryId' | 'durationMs'>): ToolCallResult => ({
    ...result,
    deliveryId,
    durationMs: Math.max(0, Math.round(now() - started)),
  });

  if (!URL.canParse(options.url)) {
    return finish({ ok: false, response: null, attempts: 0, error: 'invalid webhook url' });
  }
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  if (secrets.length === 0 || !secrets.every(isWebhookSecret)) {
    return finish({
      ok: false,
      response: null,
      attempts: 0,
      error: 'the tool has no valid signing secret (whsec_…)',
    });
  }
  let raw: string;
  try {
    raw = JSON.stringify(options.body);
  } catch (error) {
    return finish({
      ok: false,
      response: null,
      attempts: 0,
      error: `body cannot be serialised: ${(error as Error).message}`,
    });
  }

  let last: Attempt = { kind: 'failure', error: 'not attempted' };
  let lastAnswer: Extract<Attempt, { kind: 'answer' }> | null = null;
  let attempts = 0;
  while (attempts < maxAttempts) {
    if (attempts > 0) {
      const exponential = backoffMs * 2 ** (attempts - 1);
      const asked = last.kind === 'answer' ? last.retryAfterMs : null;
      await sleep(Math.min(MAX_BACKOFF_MS, Math.max(exponential, asked ?? 0)));
    }
    attempts++;
    last = await attempt(options, raw, deliveryId, Math.floor(now() / 1000), maxBytes);
    if (last.kind === 'answer') {
      lastAnswer = last;
      if (!last.problem && !retryable(last.status)) break;
    } else if (last.final) break;
  }

  if (last.kind === 'answer') {
    const ok = last.status >= 200 && last.status < 300 && !last.problem;
    return finish({
      ok,
      status: last.status,
      response: last.response,
      attempts,
      ...(last.n8nExecutionId ? { n8nExecutionId: last.n8nExecutionId } : {}),
      ...(ok ? {} : { error: last.problem ?? `HTTP ${last.status}` }),
    });
  }
  // The last attempt failed outright; an earlier answer (a 503, say) still tells the model more
  // than nothing.
  return finish({
    ok: false,
    ...(lastAnswer ? { status: lastAnswer.status } : {}),
    response: lastAnswer?.response ?? null,
    attempts,
    ...(lastAnswer?.n8nExecutionId ? { n8nExecutionId: lastAnswer.n8nExecutionId } : {}),
    error: last.error,
  });
}

function retryable(status: number): boolean {
  return status >= 500 || status === 429;
}

async function attempt(
  options: CallToolOptions,
  raw: string,
  deliveryId: string,
  timestamp: number,
  maxBytes: number,
): Promise<Attempt> {
  // Signed per attempt: a retry carries a fresh timestamp so it is not refused as stale.
  const signed = signRequest({ secret: options.secret, body: raw, timestamp, id: deliveryId });
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  try {
    const response = await options.fetch(options.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        'User-Agent': 'Parley-Webhooks/1',
        ...signed,
      },
      body: raw,
      signal: controller.signal,
    });
    const read = await readCapped(response, maxBytes);
    const truncated = read.truncated;
    // U+0000 would make the audit row and the reply built from the answer unstorable.
    const text = stripNul(read.text);
    const json = truncated ? undefined : parseJson(read.text);
    const status = response.status;
    const validate = options.validate ?? jsonAnswerProblem;
    return {
      kind: 'answer',
      status,
      response: json !== undefined ? json : truncated ? { text, truncated: true } : { text },
      retryAfterMs: retryAfter(response.headers.get('Retry-After')),
      n8nExecutionId: executionIdOf(response.headers, json),
      problem: status >= 200 && status < 300 ? validate({ status, text, json, truncated }) : null,
    };
  } catch (error) {
    // The outbound guard refused the URL or the answer: asking again gets the same refusal.
    if (error instanceof OutboundRefusedError) {
      return { kind: 'failure', error: error.message, final: true };
    }
    if (timedOut) return { kind: 'failure', error: `timed out after ${options.timeoutMs} ms` };
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
    return { kind: 'failure', error: `network error: ${detail}` };
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(
  response: Response,
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - size;
    if (value.length > room) {
      chunks.push(value.subarray(0, room));
      size += room;
      truncated = true;
      await reader.cancel().catch(() => {});
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  // A cut can split a multi-byte character; the decoder replaces the fragment.
  return { text: new TextDecoder().decode(bytes), truncated };
}

function parseJson(raw: string): unknown {
  try {
    return stripNul(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

// Only the delta-seconds form: an HTTP date would need a clock agreeing with the tool's.
function retryAfter(value: string | null): number | null {
  const seconds = value?.trim();
  return seconds && /^\d{1,6}$/.test(seconds) ? Number(seconds) * 1000 : null;
}

export const EXECUTION_ID_HEADER = 'x-n8n-execution-id';
// Short printable text: it is shown in the tool log, and a receiver may put anything there.
const EXECUTION_ID_PATTERN = /^[\x21-\x7e]{1,100}$/;

/**
 * The receiver's id for the run that produced this answer, so a failed call in Parley's log can be
 * found in n8n's execution list: the X-N8N-Execution-Id header, else an `executionId` field of the
 * JSON answer (or of its only item). docs/n8n.md names both.
 */
export function executionIdOf(headers: Headers, json: unknown): string | null {
  const item = Array.isArray(json) && json.length === 1 ? json[0] : json;
  const field =
    item && typeof item === 'object' ? (item as { executionId?: unknown }).executionId : undefined;
  const candidates = [
    headers.get(EXECUTION_ID_HEADER),
    typeof field === 'string' || typeof field === 'number' ? String(field) : null,
  ];
  for (const candidate of candidates) {
    const id = candidate?.trim();
    if (id && EXECUTION_ID_PATTERN.test(id)) return id;
  }
  return null;
}
