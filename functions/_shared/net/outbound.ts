import ipaddr from 'ipaddr.js';

/**
 * The one door for HTTP requests Parley makes on a tenant's behalf: tool webhooks, the n8n
 * relay, LLM and embedding endpoints, tenants' event webhooks. A tenant chooses those URLs, so
 * without this door a tenant could make the platform call its own internals (the cloud metadata
 * service, the database's admin port, a sidecar on loopback) and read the answer back through a
 * tool result or a bot reply.
 *
 * Rules: http and https only; no credentials in the URL; the host, whether written as an address
 * or resolved from a name, must be a public unicast address (every resolved address, since the
 * connection may use any of them); redirects are followed here, at most three, each target checked
 * the same way, and a redirect that would turn a POST into a GET is refused rather than followed;
 * the exchange is bounded in time and the response in size.
 *
 * Residual risk, DNS rebinding: fetch resolves the name again when it connects, and neither the
 * Fetch API nor Deno's HTTP client lets the caller pin the connection to the address checked here.
 * A name with a zero TTL can answer a public address to the check and a private one to the
 * connection a moment later. Deployments that need to close that gap route outbound traffic
 * through an egress proxy or network policy that refuses private destinations itself.
 */

/** Resolves a host name to every address the system would connect to. */
export type Resolver = (hostname: string) => Promise<string[]>;

export interface OutboundPolicy {
  resolve: Resolver;
  /**
   * Loopback (127.0.0.0/8, ::1, localhost) is refused unless the platform allows it. It is a
   * platform setting (PARLEY_ALLOW_LOOPBACK_OUTBOUND), meant for the local stack whose demo
   * services listen on loopback; nothing a tenant writes can turn it on.
   */
  allowLoopback?: boolean;
}

export interface OutboundFetchOptions extends OutboundPolicy {
  fetch: typeof fetch;
  maxRedirects?: number;
  /** The whole exchange, following redirects and reading the body included. */
  timeoutMs?: number;
  /** Bytes of response body read before the read fails. */
  maxResponseBytes?: number;
}

export const LOOPBACK_SETTING = 'PARLEY_ALLOW_LOOPBACK_OUTBOUND';
export const DEFAULT_MAX_REDIRECTS = 3;
// Generous enough for a slow self-hosted model streaming a long answer; callers cap tighter.
export const DEFAULT_OUTBOUND_TIMEOUT_MS = 120_000;
// An LLM's longest streamed answer is far below this; anything bigger is not an answer.
export const DEFAULT_OUTBOUND_MAX_BYTES = 8 * 1024 * 1024;

/** A request the guard would not send, or a response it stopped reading. Never worth a retry. */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
}

/** Whether the platform's environment allows loopback targets; off unless set to true. */
export function loopbackAllowed(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env[LOOPBACK_SETTING]?.trim().toLowerCase();
  return value === 'true' || value === '1';
}

type Address = ReturnType<typeof ipaddr.parse>;

/** Null when the address may be called; otherwise why not. */
export function addressProblem(address: string, allowLoopback = false): string | null {
  let parsed: Address;
  try {
    parsed = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return 'not an IP address';
  }
  const range = parsed.range();
  if (range === 'unicast') return null;
  if (range === 'loopback') return allowLoopback ? null : 'a loopback address';
  // IPv4-mapped, NAT64 and the other IPv6 ranges that embed an IPv4 address would reach that
  // address by another name; the special ranges are refused whole, whatever they embed.
  return `a ${range} address`;
}

/** Names that mean this machine whatever DNS says (RFC 6761). */
function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function parseHttpUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new OutboundRefusedError('outbound request refused: not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundRefusedError(
      `outbound request refused: only http and https URLs are called, not ${url.protocol}`,
    );
  }
  if (url.username || url.password) {
    throw new OutboundRefusedError('outbound request refused: credentials in the URL');
  }
  return url;
}

/**
 * Checks a URL against the policy, resolving its host. Resolves with the parsed URL; rejects with
 * OutboundRefusedError. The WHATWG URL parser has already turned 127.1, 0x7f000001 and 2130706433
 * into 127.0.0.1 by the time the host is looked at, exactly as fetch will read them.
 */
export async function checkOutboundUrl(input: string | URL, policy: OutboundPolicy): Promise<URL> {
  const url = parseHttpUrl(input);
  const allowLoopback = policy.allowLoopback ?? false;
  const hostname = url.hostname.replace(/\.$/, '').toLowerCase();
  const literal = hostname.startsWith('[') || ipaddr.isValid(hostname);
  if (literal) {
    const problem = addressProblem(hostname, allowLoopback);
    if (problem) throw new OutboundRefusedError(`outbound request refused: ${problem}`);
    return url;
  }
  if (isLocalhostName(hostname)) {
    if (allowLoopback) return url;
    throw new OutboundRefusedError('outbound request refused: a loopback address');
  }
  let addresses: string[];
  try {
    addresses = await policy.resolve(hostname);
  } catch {
    addresses = [];
  }
  // One message for "does not resolve" and "resolves inside": a tenant probing names learns
  // nothing about the platform's internal DNS.
  const refusal = new OutboundRefusedError(
    `outbound request refused: ${hostname} does not resolve to a public address`,
  );
  if (addresses.length === 0) throw refusal;
  for (const address of addresses) {
    if (addressProblem(address, allowLoopback)) throw refusal;
  }
  return url;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// What a cross-origin redirect must not carry along: the next host was not the one trusted.
const CREDENTIAL_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'api-key',
];

/** fetch, behind the guard. Use it for every request whose URL a tenant could have chosen. */
export function createOutboundFetch(options: OutboundFetchOptions): typeof fetch {
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_OUTBOUND_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_OUTBOUND_MAX_BYTES;

  const guarded = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : null;
    let url = await checkOutboundUrl(input instanceof Request ? input.url : input, options);
    let method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers ?? request?.headers);
    let body: BodyInit | null | undefined =
      init.body ?? (request?.body ? await request.arrayBuffer() : undefined);
    const timeout = AbortSignal.timeout(timeoutMs);
    const callerSignal = init.signal ?? request?.signal;
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;

    for (let hop = 0; ; hop++) {
      const response = await options.fetch(url.href, {
        ...init,
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        redirect: 'manual',
        signal,
      });
      // A runtime that hides redirects (as browsers do) leaves nothing to check: not followed.
      if (response.type === 'opaqueredirect') {
        throw new OutboundRefusedError('outbound request refused: a redirect it cannot inspect');
      }
      const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
      if (location === null) return capped(response, maxBytes);
      await response.body?.cancel().catch(() => {});
      if (hop >= maxRedirects) {
        throw new OutboundRefusedError(
          `outbound request refused: more than ${maxRedirects} redirects`,
        );
      }
      if (response.status === 303 || response.status === 301 || response.status === 302) {
        // Following these turns a POST into a GET without its body: a different request from the
        // one the caller signed. Only GET and HEAD may follow them.
        if (method !== 'GET' && method !== 'HEAD') {
          throw new OutboundRefusedError(
            `outbound request refused: a ${response.status} redirect would turn ${method} into GET`,
          );
        }
        body = undefined;
        method = method === 'HEAD' ? 'HEAD' : 'GET';
      } else if (body instanceof ReadableStream) {
        throw new OutboundRefusedError(
          'outbound request refused: a streamed body cannot be sent again after a redirect',
        );
      }
      const next = await checkOutboundUrl(new URL(location, url), options);
      if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
      url = next;
    }
  };
  return guarded as typeof fetch;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The response, its body failing once it grows past maxBytes. */
function capped(response: Response, maxBytes: number): Response {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    void response.body?.cancel().catch(() => {});
    throw new OutboundRefusedError(
      `outbound response refused: ${declared} bytes is more than ${maxBytes}`,
    );
  }
  if (!response.body || NULL_BODY_STATUSES.has(response.status)) return response;
  let seen = 0;
  const limit = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes) {
        controller.error(
          new OutboundRefusedError(`outbound response refused: more than ${maxBytes} bytes`),
        );
        return;
      }
      controller.enqueue(chunk);
    },
  });
  const limited = new Response(response.body.pipeThrough(limit), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // The URL the answer came from, after redirects: a crawler needs it to stay on its site.
  Object.defineProperty(limited, 'url', { value: response.url });
  return limited;
}
