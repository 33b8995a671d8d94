/**
 * Parley's webhook signatures, used in both directions: calls Parley makes (n8n tools, the n8n
 * relay, tenants' event webhooks) and calls made into Parley (/n8n-callback).
 *
 *   X-Parley-Timestamp: <unix seconds>
 *   X-Parley-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *   X-Parley-Delivery:  <UUID, the same on every retry of one delivery>
 *
 * The timestamp is inside the MAC so a captured request cannot be replayed outside the tolerance
 * window; inside it, receivers dedupe on the delivery id. The delivery header is not signed:
 * dedupe stops honest retries from acting twice, the timestamp window bounds replays.
 */

export const TIMESTAMP_HEADER = 'X-Parley-Timestamp';
export const SIGNATURE_HEADER = 'X-Parley-Signature';
export const DELIVERY_HEADER = 'X-Parley-Delivery';

/** Five minutes, either way: enough for clock skew and queueing, short enough to bound replays. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignedHeaders = {
  'X-Parley-Timestamp': string;
  'X-Parley-Signature': string;
  'X-Parley-Delivery': string;
};

export interface SignRequestOptions {
  /** The current secret first; during a rotation's overlap also the previous one, so a receiver
   * still holding either verifies the request (one `v1=` value per secret, as Stripe does). */
  secret: string | readonly string[];
  /** The exact bytes sent, as text: re-serialising parsed JSON would not reproduce them. */
  body: string;
  /** Unix seconds; defaults to the current time. */
  timestamp?: number;
  /** Pass the same id on every retry of one delivery; defaults to a new UUID. */
  deliveryId?: string;
}

export async function signRequest(options: SignRequestOptions): Promise<SignedHeaders> {
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  if (secrets.length === 0 || secrets.some((secret) => secret.length === 0)) {
    throw new TypeError('a signing secret must not be empty');
  }
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(`timestamp must be a whole number of unix seconds, got ${timestamp}`);
  }
  const values = await Promise.all(
    secrets.map(async (secret) => {
      const key = await hmacKey(secret, 'sign');
      const mac = await crypto.subtle.sign(
        'HMAC',
        key,
        signedPayload(String(timestamp), options.body),
      );
      return `v1=${toHex(new Uint8Array(mac))}`;
    }),
  );
  return {
    'X-Parley-Timestamp': String(timestamp),
    'X-Parley-Signature': values.join(','),
    'X-Parley-Delivery': options.deliveryId ?? crypto.randomUUID(),
  };
}

export type VerifyFailureCode =
  | 'missing_signature'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'missing_delivery';

export type VerifyResult =
  | { ok: true; deliveryId: string }
  | { ok: false; code: VerifyFailureCode };

/** A Fetch Headers object, or a plain record such as node:http's IncomingHttpHeaders. */
export type HeaderSource =
  | Headers
  | Record<string, string | readonly string[] | undefined>
  | readonly (readonly [string, string])[];

export interface VerifyRequestOptions {
  /** Every secret currently accepted (see activeSecrets); empty entries are ignored. */
  secrets: readonly string[];
  headers: HeaderSource;
  /** The raw body as received. */
  body: string | Uint8Array;
  /** Unix seconds. */
  now: number;
  toleranceSeconds?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

export async function verifyRequest(options: VerifyRequestOptions): Promise<VerifyResult> {
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const timestampText = header(options.headers, TIMESTAMP_HEADER);
  const signatureText = header(options.headers, SIGNATURE_HEADER);
  if (!timestampText || !signatureText) return { ok: false, code: 'missing_signature' };

  if (!/^\d{1,15}$/.test(timestampText)) return { ok: false, code: 'bad_timestamp' };
  const timestamp = Number(timestampText);
  if (Math.abs(options.now - timestamp) > tolerance) return { ok: false, code: 'stale_timestamp' };

  // Several v1 values let a sender sign with old and new secret at once during a rotation;
  // unknown schemes are skipped so a future v2 can be added alongside.
  const candidates = signatureText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .map((part) => part.slice(3))
    .filter((hex) => HEX_SHA256.test(hex))
    .map(fromHex);
  const secrets = options.secrets.filter((secret) => secret.length > 0);
  if (candidates.length === 0 || secrets.length === 0) return { ok: false, code: 'bad_signature' };

  const payload = signedPayload(timestampText, options.body);
  let matched = false;
  for (const secret of secrets) {
    const key = await hmacKey(secret, 'verify');
    for (const candidate of candidates) {
      // subtle.verify compares in constant time; every pair is tried so the time taken does not
      // depend on which secret or value matched.
      if (await crypto.subtle.verify('HMAC', key, candidate, payload)) matched = true;
    }
  }
  if (!matched) return { ok: false, code: 'bad_signature' };

  const deliveryId = header(options.headers, DELIVERY_HEADER);
  if (!deliveryId || !UUID.test(deliveryId)) return { ok: false, code: 'missing_delivery' };
  return { ok: true, deliveryId: deliveryId.toLowerCase() };
}

export interface RotatingSecret {
  secret: string;
  previousSecret?: string | null;
  /** When the previous secret stops being accepted: a Date, an ISO string or unix seconds. */
  previousExpiresAt?: Date | string | number | null;
}

/**
 * The secrets a receiver accepts at `now` (unix seconds): the current one, plus the previous one
 * until it expires, so a workflow can switch secrets without dropping calls. A previous secret
 * with no expiry is not accepted: an overlap that never ends would make rotation pointless.
 */
export function activeSecrets(rotation: RotatingSecret, now: number): string[] {
  const secrets = [rotation.secret];
  const previous = rotation.previousSecret;
  const expiresAt = toUnixSeconds(rotation.previousExpiresAt);
  if (previous && previous !== rotation.secret && expiresAt !== null && now < expiresAt) {
    secrets.push(previous);
  }
  return secrets;
}

function toUnixSeconds(value: Date | string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? null : ms / 1000;
}

const encoder = new TextEncoder();

function signedPayload(timestamp: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const prefix = encoder.encode(`${timestamp}.`);
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;
  const payload = new Uint8Array(prefix.length + bytes.length);
  payload.set(prefix);
  payload.set(bytes, prefix.length);
  return payload;
}

function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    [usage],
  );
}

function header(source: HeaderSource, name: string): string | undefined {
  if (source instanceof Headers) return source.get(name)?.trim() || undefined;
  const wanted = name.toLowerCase();
  const entries: Iterable<readonly [string, string | readonly string[] | undefined]> =
    Array.isArray(source)
      ? (source as readonly (readonly [string, string])[])
      : Object.entries(source as Record<string, string | readonly string[] | undefined>);
  for (const [key, value] of entries) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(',');
    return text.trim() || undefined;
  }
  return undefined;
}

function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
