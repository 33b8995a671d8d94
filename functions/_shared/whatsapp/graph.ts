// The slice of Meta's Graph API Parley uses: sending a message from a business phone number and
// downloading a customer's media. The base URL is a setting so that tests talk to a fake.

export const DEFAULT_GRAPH_URL = 'https://graph.facebook.com/v21.0';

export function graphUrlFrom(env: Readonly<Record<string, string | undefined>>): string {
  return (env.WHATSAPP_GRAPH_URL?.trim() || DEFAULT_GRAPH_URL).replace(/\/+$/, '');
}

export interface GraphDeps {
  baseUrl: string;
  /** The outbound guard's fetch: one path for every request that leaves the platform. */
  fetch: typeof fetch;
}

/** Meta's error object: {error: {message, type, code, error_subcode, fbtrace_id, error_data}}. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  fbtrace_id?: string;
  error_data?: { details?: string };
}

// Throughput (130429), pair rate limit (131056), spam rate limit (131048), a temporary service
// problem (131000 / 2 / 1 / 4 / 80007): the same request succeeds later.
const RETRY_LATER = new Set([1, 2, 4, 80007, 130429, 131000, 131048, 131056]);
/** Outside the 24-hour customer-service window: only a template would be delivered. */
export const REENGAGEMENT_REQUIRED = 131047;

export type GraphOutcome =
  | { ok: true; body: unknown }
  | { ok: false; retry: true; status: number; error: GraphErrorBody }
  | { ok: false; retry: false; status: number; error: GraphErrorBody };

/** Whether an answer of the Graph API is worth repeating later, and Meta's error if any. */
export async function readGraphAnswer(response: Response): Promise<GraphOutcome> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (response.ok) return { ok: true, body };
  const error =
    body && typeof body === 'object' && 'error' in body && typeof body.error === 'object'
      ? ((body.error ?? {}) as GraphErrorBody)
      : { message: `HTTP ${response.status}` };
  const retry =
    response.status === 429 || response.status >= 500 || RETRY_LATER.has(error.code ?? -1);
  return retry
    ? { ok: false, retry: true, status: response.status, error }
    : { ok: false, retry: false, status: response.status, error };
}

export function sendMessage(
  deps: GraphDeps,
  connection: { phone_number_id: string; access_token: string },
  message: Record<string, unknown>,
): Promise<Response> {
  return deps.fetch(`${deps.baseUrl}/${encodeURIComponent(connection.phone_number_id)}/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${connection.access_token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...message,
    }),
  });
}

export interface MediaInfo {
  url: string;
  mime_type: string;
  file_size?: number;
}

/** Media are two requests: the id gives a short-lived URL, the URL (with the token) the bytes. */
export async function downloadMedia(
  deps: GraphDeps,
  accessToken: string,
  mediaId: string,
): Promise<GraphOutcome | { ok: true; info: MediaInfo; bytes: Uint8Array<ArrayBuffer> }> {
  const headers = { authorization: `Bearer ${accessToken}` };
  const meta = await readGraphAnswer(
    await deps.fetch(`${deps.baseUrl}/${encodeURIComponent(mediaId)}`, { headers }),
  );
  if (!meta.ok) return meta;
  const info = meta.body as Partial<MediaInfo> | null;
  if (!info || typeof info.url !== 'string' || typeof info.mime_type !== 'string')
    return { ok: false, retry: false, status: 200, error: { message: 'media without a URL' } };
  const response = await deps.fetch(info.url, { headers });
  if (!response.ok) return readGraphAnswer(response);
  return {
    ok: true,
    info: { url: info.url, mime_type: info.mime_type, file_size: info.file_size },
    bytes: new Uint8Array(await response.arrayBuffer()),
  };
}

export interface GraphTemplate {
  id: string;
  name: string;
  language: string;
  category?: string;
  status: string;
  components?: unknown[];
  rejected_reason?: string;
}

/** Every template of a WhatsApp Business Account, following Meta's paging.next links. */
export async function listTemplates(
  deps: GraphDeps,
  connection: { business_account_id: string; access_token: string },
): Promise<GraphOutcome | { ok: true; templates: GraphTemplate[] }> {
  const templates: GraphTemplate[] = [];
  let next: string | undefined =
    `${deps.baseUrl}/${encodeURIComponent(connection.business_account_id)}/message_templates?fields=id,name,language,category,status,components,rejected_reason&limit=100`;
  // A bound on pages: a paging loop must end even if the cursor never does.
  for (let page = 0; next && page < 100; page++) {
    const answer = await readGraphAnswer(
      await deps.fetch(next, { headers: { authorization: `Bearer ${connection.access_token}` } }),
    );
    if (!answer.ok) return answer;
    const body = answer.body as { data?: GraphTemplate[]; paging?: { next?: string } } | null;
    templates.push(...(body?.data ?? []));
    next = body?.paging?.next;
  }
  return { ok: true, templates };
}

/** Uploads bytes to the number's media store (multipart, as Meta wants it); the answer holds the id. */
export function uploadMedia(
  deps: GraphDeps,
  connection: { phone_number_id: string; access_token: string },
  file: { bytes: Uint8Array<ArrayBuffer>; mimeType: string; filename: string },
): Promise<Response> {
  const form = new FormData();
  form.append('messaging_product', 'whatsapp');
  form.append('type', file.mimeType);
  form.append('file', new Blob([file.bytes], { type: file.mimeType }), file.filename);
  return deps.fetch(`${deps.baseUrl}/${encodeURIComponent(connection.phone_number_id)}/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${connection.access_token}` },
    body: form,
  });
}
