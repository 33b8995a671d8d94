import { type ParleyDelivery, parseDelivery } from './delivery.ts';
import type { ReplayMemory } from './replay.ts';
import { type HeaderBag, verify } from './signature.ts';

// Everything the Parley Trigger decides before a workflow runs, kept free of n8n so it can be
// tested on its own: the signature on the raw body, the clock, the replay memory, the shape.

export type Accept = 'all' | 'tools' | 'relay';
export type OnRepeat = 'refuse' | 'mark';

export interface ReceiveOptions {
  secrets: readonly string[];
  headers: HeaderBag;
  rawBody: Buffer | string | undefined;
  nowMs: number;
  memory: ReplayMemory;
  /** Which trigger this is (workflow and node): ids are remembered per trigger. */
  scope: string;
  accept?: Accept;
  onRepeat?: OnRepeat;
  toleranceSeconds?: number;
}

export type Received =
  | {
      ok: true;
      delivery: ParleyDelivery;
      webhookId: string;
      timestamp: number;
      /** Only with onRepeat "mark": this id was let through before. */
      repeated: boolean;
    }
  | { ok: false; status: number; error: string; message: string };

export function receive(options: ReceiveOptions): Received {
  if (options.rawBody === undefined) {
    return refuse(500, 'no_raw_body', 'n8n did not keep the raw body; the signature needs it.');
  }
  const verified = verify({
    secrets: options.secrets,
    headers: options.headers,
    rawBody: options.rawBody,
    now: Math.floor(options.nowMs / 1000),
    ...(options.toleranceSeconds === undefined
      ? {}
      : { toleranceSeconds: options.toleranceSeconds }),
  });
  if (!verified.ok) {
    // A trigger with no usable secret is this workflow's fault, not the sender's.
    return refuse(verified.code === 'no_secret' ? 500 : 401, verified.code, verified.message);
  }
  const parsed = parseDelivery(options.rawBody);
  if (!parsed.ok) return refuse(400, 'bad_request', parsed.message);
  const accept = options.accept ?? 'all';
  if (accept !== 'all' && (accept === 'relay') !== (parsed.delivery.kind === 'relay')) {
    return refuse(
      400,
      'unexpected_delivery',
      accept === 'relay'
        ? 'This workflow answers conversations (parley.reply), not tool calls.'
        : 'This workflow answers tool calls, not relayed conversations.',
    );
  }
  // Claimed only once the request is known to be genuine and usable: a forged or malformed
  // request must not use up the id of the real one.
  const first = options.memory.claim(options.scope, verified.id, options.nowMs);
  if (!first && (options.onRepeat ?? 'refuse') === 'refuse') {
    return refuse(409, 'duplicate_delivery', `Delivery ${verified.id} was already received.`);
  }
  return {
    ok: true,
    delivery: parsed.delivery,
    webhookId: verified.id,
    timestamp: verified.timestamp,
    repeated: !first,
  };
}

function refuse(status: number, error: string, message: string): Received {
  return { ok: false, status, error, message };
}
