import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type VerifyResult, verifyRequest } from '../../functions/_shared/webhooks/signature.ts';

// A stand-in for a tenant's n8n workflow: a real HTTP server that checks Parley's Standard Webhooks
// signatures as a real receiver must, answers each path from a script, and records every delivery.
//
//   const receiver = await startToolReceiver({ secret });
//   receiver.on('/order', [500, 500, { status: 200, body: { found: true } }]);
//   await callToolWebhook({ url: receiver.url('/order'), ... });
//   receiver.deliveries('/order') // three, one webhook-id
//
// Steps are used in order, one per correctly signed request; the last one repeats.

export type ReceiverStep =
  /** Answer with this status and a small JSON body. */
  | number
  /** Never answer: the caller's timeout has to fire. */
  | 'timeout'
  /** 500, every time. */
  | 'fail'
  | { status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number };

export interface ReceivedDelivery {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: unknown;
  verified: boolean;
  verification: VerifyResult;
  /** The webhook-id header. */
  deliveryId: string | undefined;
  /** This webhook-id arrived before (a retry, or a replay). */
  repeated: boolean;
  /** What was answered; undefined for 'timeout'. */
  status: number | undefined;
}

export interface ToolReceiver {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  readonly origin: string;
  url(path: string): string;
  on(path: string, steps: ReceiverStep | ReceiverStep[]): void;
  deliveries(path?: string): ReceivedDelivery[];
  /** Rotation: the secrets accepted from now on. */
  setSecrets(secrets: string[]): void;
  close(): Promise<void>;
}

export interface ToolReceiverOptions {
  secret?: string;
  secrets?: string[];
}

export async function startToolReceiver(options: ToolReceiverOptions = {}): Promise<ToolReceiver> {
  let secrets = options.secrets ?? (options.secret ? [options.secret] : []);
  const scripts = new Map<string, ReceiverStep[]>();
  const used = new Map<string, number>();
  const recorded: ReceivedDelivery[] = [];
  const seen = new Set<string>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    const verification = verifyRequest({
      secrets,
      headers: req.headers,
      body: new Uint8Array(raw),
    });
    const rawDelivery = req.headers['webhook-id'];
    const deliveryId = Array.isArray(rawDelivery) ? rawDelivery[0] : rawDelivery;
    const delivery: ReceivedDelivery = {
      path,
      method: req.method ?? 'GET',
      headers: req.headers,
      rawBody: raw.toString('utf8'),
      body: parseJson(raw.toString('utf8')),
      verified: verification.ok,
      verification,
      deliveryId,
      repeated: deliveryId !== undefined && seen.has(deliveryId),
      status: undefined,
    };
    if (deliveryId) seen.add(deliveryId);
    recorded.push(delivery);

    if (!verification.ok) {
      delivery.status = 401;
      return sendJson(res, 401, { error: verification.code });
    }
    const script = scripts.get(path);
    if (!script || script.length === 0) {
      delivery.status = 200;
      return sendJson(res, 200, { ok: true, received: delivery.body });
    }
    const index = used.get(path) ?? 0;
    used.set(path, index + 1);
    const step = script[Math.min(index, script.length - 1)] as ReceiverStep;
    if (step === 'timeout') return; // left open until the caller gives up or close()
    if (step === 'fail') {
      delivery.status = 500;
      return sendJson(res, 500, { error: 'scripted failure' });
    }
    if (typeof step === 'number') {
      delivery.status = step;
      return sendJson(res, step, step < 400 ? { ok: true } : { error: `scripted ${step}` });
    }
    if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
    delivery.status = step.status;
    if (step.body === undefined) {
      res.writeHead(step.status, step.headers).end();
    } else if (typeof step.body === 'string') {
      res.writeHead(step.status, { 'Content-Type': 'text/plain', ...step.headers }).end(step.body);
    } else {
      sendJson(res, step.status, step.body, step.headers);
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    url: (path) => `${origin}${path}`,
    on(path, steps) {
      scripts.set(path, Array.isArray(steps) ? steps : [steps]);
      used.delete(path);
    },
    deliveries: (path) => recorded.filter((d) => path === undefined || d.path === path),
    setSecrets(next) {
      secrets = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
