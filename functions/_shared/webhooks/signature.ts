import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/**
 * Standard Webhooks (standardwebhooks.com), in both directions: calls Parley makes (tools, the
 * n8n relay, tenants' event webhooks) and calls made into Parley (/n8n-callback).
 *
 *   webhook-id:        the same on every retry of one logical delivery
 *   webhook-timestamp: unix seconds
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>, several
 *                      separated by spaces while a secret is being rotated
 *
 * Secrets are `whsec_<base64 key>`. The id is inside the MAC, so a captured request cannot be
 * replayed under a fresh id; within the timestamp window, receivers dedupe on the id. The
 * `standardwebhooks` package does the signing and the verifying, so any receiver using a Standard
 * Webhooks library (Svix's, Supabase's Auth Hooks') agrees with Parley byte for byte.
 */

export const ID_HEADER = 'webhook-id';
export const TIMESTAMP_HEADER = 'webhook-timestamp';
export const SIGNATURE_HEADER = 'webhook-signature';
export const SECRET_PREFIX = 'whsec_';

/** The package's window, either way: enough for clock skew and queueing, short enough to bound replays. */
export const TOLERANCE_SECONDS = 300;

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;
// Printable ASCII without spaces: the id travels in a header and into the signed content.
const ID_PATTERN = /^[\x21-\x7e]{1,255}$/;

export function isWebhookSecret(value: string): boolean {
  return SECRET_PATTERN.test(value);
}

function webhookFor(secret: string): Webhook {
  if (!isWebhookSecret(secret)) {
    throw new TypeError('a webhook secret looks like whsec_<base64>');
  }
  try {
    return new Webhook(secret);
  } catch {
    throw new TypeError('a webhook secret looks like whsec_<base64>');
  }
}

export interface SignRequestOptions {
  /** The current secret first; during a rotation's overlap also the previous one, so a receiver
   * still holding either verifies the request (one `v1,` value per secret). */
  secret: string | readonly string[];
  /** The exact bytes sent, as text: re-serialising parsed JSON would not reproduce them. */
  body: string;
  /** The logical delivery's id: pass the same one on every retry (see webhookIdFor). */
  id: string;
  /** Unix seconds; defaults to the current time. */
  timestamp?: number;
}

export function signRequest(options: SignRequestOptions): SignedHeaders {
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  if (secrets.length === 0) throw new TypeError('a signing secret is required');
  if (!ID_PATTERN.test(options.id)) {
    throw new TypeError('a webhook id is 1 to 255 printable characters without spaces');
  }
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(`timestamp must be a whole number of unix seconds, got ${timestamp}`);
  }
  const at = new Date(timestamp * 1000);
  const signatures = secrets.map((secret) => webhookFor(secret).sign(options.id, at, options.body));
  return {
    'webhook-id': options.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  };
}

export type VerifyFailureCode =
  | 'missing_signature'
  | 'bad_timestamp'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'bad_webhook_id';

export type VerifyResult = { ok: true; id: string } | { ok: false; code: VerifyFailureCode };

/** A Fetch Headers object, or a plain record such as node:http's IncomingHttpHeaders. */
export type HeaderSource =
  | Headers
  | Record<string, string | readonly string[] | undefined>
  | readonly (readonly [string, string])[];

export interface VerifyRequestOptions {
  /** Every secret currently accepted (see activeSecrets); malformed entries never match. */
  secrets: readonly string[];
  headers: HeaderSource;
  /** The raw body as received. */
  body: string | Uint8Array;
}

/**
 * Verifies a signed request against the clock (the package reads Date.now). Any one secret
 * signing any one of the space-separated values is enough, so a sender may rotate first.
 */
export function verifyRequest(options: VerifyRequestOptions): VerifyResult {
  const id = header(options.headers, ID_HEADER);
  const timestamp = header(options.headers, TIMESTAMP_HEADER);
  const signature = header(options.headers, SIGNATURE_HEADER);
  if (!id || !timestamp || !signature) return { ok: false, code: 'missing_signature' };
  if (!ID_PATTERN.test(id)) return { ok: false, code: 'bad_webhook_id' };
  // The package would refuse these too; checked first so a sender is told which of them it was.
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, code: 'bad_timestamp' };
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(timestamp)) > TOLERANCE_SECONDS) {
    return { ok: false, code: 'stale_timestamp' };
  }
  let body: string;
  try {
    body =
      typeof options.body === 'string'
        ? options.body
        : new TextDecoder('utf-8', { fatal: true }).decode(options.body);
  } catch {
    return { ok: false, code: 'bad_signature' };
  }
  const signed = {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
  for (const secret of options.secrets) {
    let webhook: Webhook;
    try {
      webhook = webhookFor(secret);
    } catch {
      continue;
    }
    try {
      webhook.verify(body, signed, { jsonParse: false });
      return { ok: true, id };
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
    }
  }
  return { ok: false, code: 'bad_signature' };
}

export interface RotatingSecret {
  secret: string;
  previousSecret?: string | null;
  /** When the previous secret stops being accepted: a Date, an ISO string or unix seconds. */
  previousExpiresAt?: Date | string | number | null;
}

/**
 * The secrets in use at `now` (unix seconds): the current one, plus the previous one until it
 * expires, so a workflow can switch secrets without dropping calls. Senders sign with all of them,
 * receivers accept any. A previous secret with no expiry is not used: an overlap that never ends
 * would make rotation pointless.
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

function header(source: HeaderSource, name: string): string | undefined {
  if (source instanceof Headers) return source.get(name)?.trim() || undefined;
  const entries: Iterable<readonly [string, string | readonly string[] | undefined]> =
    Array.isArray(source)
      ? (source as readonly (readonly [string, string])[])
      : Object.entries(source as Record<string, string | readonly string[] | undefined>);
  for (const [key, value] of entries) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    const text = typeof value === 'string' ? value : value.join(' ');
    return text.trim() || undefined;
  }
  return undefined;
}
