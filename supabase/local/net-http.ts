// One pg_net request sent with fetch, and its outcome in the shape of a net._http_response row.
// Mirrors pg_net 0.20's curl handle: redirects followed, only http and https, a User-Agent of
// pg_net/<version>, the whole exchange bounded by timeout_milliseconds (0 for none), an empty body
// stored as NULL, and failures stored as curl's messages instead of being raised.

export interface NetRequest {
  id: number;
  method: string;
  url: string;
  /** The queued headers jsonb: values are sent as jsonb_each_text prints them, nulls skipped. */
  headers: Record<string, unknown> | null;
  body: Uint8Array<ArrayBuffer> | null;
  timeoutMs: number;
}

export interface NetResponse {
  id: number;
  statusCode: number | null;
  contentType: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timedOut: boolean;
  errorMsg: string | null;
}

const USER_AGENT = 'pg_net/0.20.5';
const METHODS = new Set(['GET', 'POST', 'DELETE']);

/** Never rejects; resolves to null only when `cancel` aborted the request. */
export async function sendNetRequest(
  request: NetRequest,
  cancel: AbortSignal,
): Promise<NetResponse | null> {
  const failed = (errorMsg: string, timedOut = false): NetResponse => ({
    id: request.id,
    statusCode: null,
    contentType: null,
    headers: null,
    content: null,
    timedOut,
    errorMsg,
  });
  const method = request.method.toUpperCase();
  if (!METHODS.has(method)) return failed(`Unsupported request method ${request.method}`);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return failed('URL using bad/illegal format or missing URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return failed('Unsupported protocol');

  const timeout = request.timeoutMs > 0 ? AbortSignal.timeout(request.timeoutMs) : null;
  const started = performance.now();
  try {
    const response = await fetch(url, {
      method,
      headers: requestHeaders(request.headers),
      body: request.body,
      redirect: 'follow',
      signal: timeout ? AbortSignal.any([cancel, timeout]) : cancel,
    });
    // curl stores the body as a C string, so it ends at the first NUL.
    const content = (await response.text()).split('\0')[0] ?? '';
    return {
      id: request.id,
      statusCode: response.status,
      contentType: response.headers.get('content-type'),
      headers: Object.fromEntries(response.headers),
      content: content === '' ? null : content,
      timedOut: false,
      errorMsg: null,
    };
  } catch (error) {
    if (cancel.aborted) return null;
    if (timeout?.aborted) {
      const total = (performance.now() - started).toFixed(6);
      return failed(`Timeout of ${request.timeoutMs} ms reached. Total time: ${total} ms`, true);
    }
    return failed(curlMessage(error));
  }
}

function requestHeaders(queued: Record<string, unknown> | null): Headers {
  const headers = new Headers({ 'User-Agent': USER_AGENT });
  for (const [name, value] of Object.entries(queued ?? {})) {
    if (value === null) continue;
    headers.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return headers;
}

// fetch's errors differ between Deno and Node; the common ones are mapped to the text curl gives.
function curlMessage(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const text = `${(error as Error)?.message ?? error} ${cause?.code ?? ''} ${cause?.message ?? ''}`;
  if (/ECONNREFUSED|connection refused/i.test(text)) return "Couldn't connect to server";
  if (/ENOTFOUND|EAI_AGAIN|dns error|failed to lookup address/i.test(text)) {
    return "Couldn't resolve host name";
  }
  if (/ECONNRESET|connection reset|socket hang up/i.test(text)) {
    return 'Failure when receiving data from the peer';
  }
  return (error as Error)?.message ?? String(error);
}
