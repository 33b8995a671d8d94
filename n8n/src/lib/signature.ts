import { createHmac, timingSafeEqual } from 'node:crypto';

// Standard Webhooks (standardwebhooks.com), as Parley signs its tool calls and relay and as
// /n8n-callback verifies: HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<raw body>" with the
// key inside `whsec_<base64>`, sent as `v1,<base64>`, one value per secret during a rotation.
// Written on node:crypto alone so the package has no runtime dependency n8n would have to install;
// the tests check it byte for byte against the `standardwebhooks` package.

export const TOLERANCE_SECONDS = 300;

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

export type VerifyFailure =
  | 'missing_signature'
  | 'bad_webhook_id'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'no_secret';

export type Verification =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; code: VerifyFailure; message: string };

const SECRET_PATTERN = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
// Printable ASCII without spaces, as Parley itself requires: the id travels in a header.
const ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The key bytes of a `whsec_` secret, or null when the text is not one. */
export function secretKey(secret: string): Buffer | null {
  const match = SECRET_PATTERN.exec(secret.trim());
  if (!match?.[1]) return null;
  const key = Buffer.from(match[1], 'base64');
  return key.length > 0 ? key : null;
}

/** The secrets a credential holds, in order, without blanks and duplicates. */
export function secretList(...values: readonly (string | null | undefined)[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    const secret = value?.trim();
    if (secret && !out.includes(secret)) out.push(secret);
  }
  return out;
}

function mac(key: Buffer, id: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(body).digest();
}

export interface SignOptions {
  secrets: readonly string[];
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** The exact bytes to send. */
  body: string | Buffer;
}

export function sign(options: SignOptions): SignedHeaders {
  if (!ID_PATTERN.test(options.id)) {
    throw new TypeError('a webhook id is 1 to 255 printable characters without spaces');
  }
  if (!Number.isSafeInteger(options.timestamp) || options.timestamp < 0) {
    throw new RangeError('the timestamp is whole unix seconds');
  }
  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;
  const timestamp = String(options.timestamp);
  const signatures = options.secrets.map((secret) => {
    const key = secretKey(secret);
    if (!key) throw new TypeError('a signing secret looks like whsec_<base64>');
    return `v1,${mac(key, options.id, timestamp, body).toString('base64')}`;
  });
  if (signatures.length === 0) throw new TypeError('a signing secret is required');
  return {
    'webhook-id': options.id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Every secret currently accepted; any one signing any one value is enough. */
  secrets: readonly string[];
  headers: HeaderBag;
  /** The body exactly as received: parsed and re-serialised JSON would not verify. */
  rawBody: Buffer | string;
  /** Unix seconds. */
  now: number;
  toleranceSeconds?: number;
}

export function verify(options: VerifyOptions): Verification {
  const keys = options.secrets.map(secretKey).filter((key): key is Buffer => key !== null);
  if (keys.length === 0) {
    return fail('no_secret', 'The credential holds no whsec_ secret.');
  }
  const id = header(options.headers, 'webhook-id');
  const timestamp = header(options.headers, 'webhook-timestamp');
  const signature = header(options.headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    return fail('missing_signature', 'The request carries no Standard Webhooks signature.');
  }
  if (!ID_PATTERN.test(id)) return fail('bad_webhook_id', 'The webhook-id is malformed.');
  if (!/^\d{1,15}$/.test(timestamp)) {
    return fail('bad_timestamp', 'The webhook-timestamp is not unix seconds.');
  }
  const tolerance = options.toleranceSeconds ?? TOLERANCE_SECONDS;
  const seconds = Number(timestamp);
  if (Math.abs(options.now - seconds) > tolerance) {
    return fail('stale_timestamp', `The webhook-timestamp is more than ${tolerance} s off.`);
  }
  const body = typeof options.rawBody === 'string' ? Buffer.from(options.rawBody) : options.rawBody;
  const offered: Buffer[] = [];
  for (const part of signature.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    offered.push(Buffer.from(part.slice(comma + 1), 'base64'));
  }
  // Every comparison runs, so the time taken does not tell which secret or value came close.
  let matched = false;
  for (const key of keys) {
    const expected = mac(key, id, timestamp, body);
    for (const candidate of offered) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        matched = true;
      }
    }
  }
  if (!matched) return fail('bad_signature', 'The signature does not verify.');
  return { ok: true, id, timestamp: seconds };
}

function fail(code: VerifyFailure, message: string): Verification {
  return { ok: false, code, message };
}

function header(headers: HeaderBag, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(' ') : value;
    return text.trim() || undefined;
  }
  return undefined;
}
