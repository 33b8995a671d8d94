import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';

// Meta at the HTTP boundary, in its real payload shapes: a Graph API that takes sends
// (POST /{phone-number-id}/messages → {messaging_product, contacts, messages:[{id}]}) and serves
// media (GET /{media-id} → {url, mime_type, …}, then the bytes at that URL), answering with Meta's
// error objects when told to; and a sender of webhook deliveries signed with the app secret.

export interface GraphError {
  status: number;
  code: number;
  message?: string;
  subcode?: number;
}

export interface SentMessage {
  phoneNumberId: string;
  authorization: string | undefined;
  body: Record<string, unknown> & { to: string; type: string };
  wamid: string | null;
  at: number;
}

export interface FakeGraph {
  url: string;
  sent: SentMessage[];
  /** Answers the next sends with these errors, in order. */
  failNext(...errors: GraphError[]): void;
  /** Serves this media id (bytes and type). */
  media(id: string, bytes: Uint8Array, mimeType: string): void;
  mediaRequests: string[];
  /** The account's templates, served two per page as Meta pages them. */
  templates: Record<string, unknown>[];
  /** Files uploaded to POST /{phone-number-id}/media, by the media id answered. */
  uploads: Map<string, { type: string; filename: string; bytes: Uint8Array; product: string }>;
  /** Called on every accepted send (the benchmark's clock). */
  onSend?: (message: SentMessage) => void;
  /** Meta's throughput: past this many accepted sends in the last second, (#130429) Rate limit hit. */
  perSecond?: number;
  /** Sends refused for throughput so far. */
  rateLimited: number;
  /** Refuses the sends it returns an error for (a recipient Meta will not message, a dead token). */
  refuse?: (body: SentMessage['body']) => GraphError | null;
  reset(): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      data += chunk;
    });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

export async function startFakeGraph(accessToken: string): Promise<FakeGraph> {
  const failures: GraphError[] = [];
  const accepted: number[] = [];
  const mediaStore = new Map<string, { bytes: Uint8Array; mimeType: string }>();
  let base = '';
  const graph: FakeGraph = {
    url: '',
    sent: [],
    mediaRequests: [],
    templates: [],
    rateLimited: 0,
    uploads: new Map(),
    failNext: (...errors) => failures.push(...errors),
    media: (id, bytes, mimeType) => mediaStore.set(id, { bytes, mimeType }),
    reset() {
      graph.sent.length = 0;
      graph.mediaRequests.length = 0;
      failures.length = 0;
      graph.rateLimited = 0;
      accepted.length = 0;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const metaError = (e: GraphError) =>
      json(e.status, {
        error: {
          message: e.message ?? `(#${e.code}) error`,
          type: 'OAuthException',
          code: e.code,
          error_subcode: e.subcode ?? 2494055,
          fbtrace_id: `A${Math.random().toString(36).slice(2, 12)}`,
        },
      });
    if (req.headers.authorization !== `Bearer ${accessToken}`) {
      return metaError({ status: 401, code: 190, message: 'Invalid OAuth access token.' });
    }
    const send = /^\/v21\.0\/([0-9]+)\/messages$/.exec(url.pathname);
    if (req.method === 'POST' && send?.[1]) {
      const body = JSON.parse(await readBody(req));
      const at = performance.now();
      while (accepted.length && (accepted[0] ?? 0) < at - 1000) accepted.shift();
      const overRate = graph.perSecond !== undefined && accepted.length >= graph.perSecond;
      if (overRate) graph.rateLimited++;
      const failure =
        failures.shift() ??
        (overRate
          ? { status: 400, code: 130429, message: '(#130429) Rate limit hit', subcode: 2494055 }
          : (graph.refuse?.(body) ?? undefined));
      if (!failure) accepted.push(at);
      const message: SentMessage = {
        phoneNumberId: send[1],
        authorization: req.headers.authorization,
        body,
        wamid: failure ? null : `wamid.HBgL${crypto.randomUUID().replaceAll('-', '')}`,
        at: performance.now(),
      };
      graph.sent.push(message);
      if (failure) return metaError(failure);
      graph.onSend?.(message);
      return json(200, {
        messaging_product: 'whatsapp',
        contacts: [{ input: body.to, wa_id: body.to }],
        messages: [{ id: message.wamid }],
      });
    }
    const upload = /^\/v21\.0\/([0-9]+)\/media$/.exec(url.pathname);
    if (req.method === 'POST' && upload) {
      // Meta's multipart form: messaging_product, type, and the file part.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = await new Request(url, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body: Buffer.concat(chunks),
      }).formData();
      const file = form.get('file');
      if (!(file instanceof Blob) || form.get('messaging_product') !== 'whatsapp')
        return metaError({ status: 400, code: 100, message: 'Param file must be a file' });
      const id = String(Math.floor(Math.random() * 1e15));
      graph.uploads.set(id, {
        type: String(form.get('type')),
        filename: file instanceof File ? file.name : '',
        bytes: new Uint8Array(await file.arrayBuffer()),
        product: String(form.get('messaging_product')),
      });
      return json(200, { id });
    }
    if (req.method === 'GET' && /^\/v21\.0\/[0-9]+\/message_templates$/.test(url.pathname)) {
      const after = Number(url.searchParams.get('after') ?? 0);
      const page = graph.templates.slice(after, after + 2);
      const more = after + 2 < graph.templates.length;
      const next = new URL(url);
      next.searchParams.set('after', String(after + 2));
      return json(200, {
        data: page,
        paging: {
          cursors: { before: 'MAZDZD', after: 'MjQZD' },
          ...(more ? { next: next.href } : {}),
        },
      });
    }
    const bytes = /^\/media-bytes\/(.+)$/.exec(url.pathname);
    if (req.method === 'GET' && bytes?.[1]) {
      const item = mediaStore.get(decodeURIComponent(bytes[1]));
      if (!item) return metaError({ status: 404, code: 100, message: 'Unsupported get request.' });
      res.writeHead(200, { 'content-type': item.mimeType });
      return res.end(Buffer.from(item.bytes));
    }
    const mediaId = /^\/v21\.0\/([^/]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && mediaId) {
      graph.mediaRequests.push(mediaId);
      const item = mediaStore.get(mediaId);
      if (!item) return metaError({ status: 400, code: 100, message: 'Unsupported get request.' });
      return json(200, {
        messaging_product: 'whatsapp',
        url: `${base}/media-bytes/${encodeURIComponent(mediaId)}`,
        mime_type: item.mimeType,
        sha256: 'fake',
        file_size: item.bytes.byteLength,
        id: mediaId,
      });
    }
    return metaError({ status: 404, code: 100, message: 'Unknown path' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  base = `http://127.0.0.1:${port}`;
  graph.url = `${base}/v21.0`;
  return graph;
}

// --- Webhook deliveries -----------------------------------------------------------------------

export interface MetaNumber {
  phoneNumberId: string;
  displayPhoneNumber: string;
  wabaId: string;
}

export function signature(appSecret: string, body: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** One delivery with a change of field "messages", as Meta batches them. */
export function delivery(
  number: MetaNumber,
  value: { messages?: unknown[]; statuses?: unknown[]; contacts?: unknown[] },
) {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: number.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: number.displayPhoneNumber,
                phone_number_id: number.phoneNumberId,
              },
              ...value,
            },
          },
        ],
      },
    ],
  };
}

const seconds = (at: number) => String(Math.floor(at / 1000));

export function inbound(
  from: string,
  type: string,
  content: Record<string, unknown>,
  options: { id?: string; at?: number; name?: string } = {},
) {
  return {
    contacts: [{ profile: { name: options.name ?? 'Ana Cliente' }, wa_id: from }],
    messages: [
      {
        from,
        id: options.id ?? `wamid.HBgL${crypto.randomUUID().replaceAll('-', '')}`,
        timestamp: seconds(options.at ?? Date.now()),
        type,
        ...content,
      },
    ],
  };
}

export function status(
  wamid: string,
  recipient: string,
  value: 'sent' | 'delivered' | 'read' | 'failed',
  options: { at?: number; errors?: unknown[] } = {},
) {
  return {
    statuses: [
      {
        id: wamid,
        status: value,
        timestamp: seconds(options.at ?? Date.now()),
        recipient_id: recipient,
        conversation: { id: 'CONVERSATION_ID', origin: { type: 'service' } },
        pricing: { billable: true, pricing_model: 'CBP', category: 'service' },
        ...(options.errors ? { errors: options.errors } : {}),
      },
    ],
  };
}

/** Posts a delivery as Meta does: the raw JSON body signed with the app secret. */
export function deliver(
  webhookUrl: string,
  appSecret: string | null,
  payload: unknown,
  options: { signatureHeader?: string } = {},
) {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'facebookexternalua',
  };
  const sig = options.signatureHeader ?? (appSecret ? signature(appSecret, body) : undefined);
  if (sig) headers['x-hub-signature-256'] = sig;
  return fetch(webhookUrl, { method: 'POST', headers, body });
}
