/**
 * Webhook ids for Parley's own deliveries. An id names one logical delivery, so it is derived from
 * what makes the delivery that delivery (the job that makes it, what it asks for), never drawn at
 * random: a job retried after a crash, by another worker, computes the same id again and the
 * receiver sees a retry it can dedupe instead of a new request.
 *
 * Shaped as a UUID (version 8, RFC 9562: the bits are ours to define) so it also fits the uuid
 * columns that record it, such as tool_executions.delivery_id.
 */
export async function webhookIdFor(...parts: readonly string[]): Promise<string> {
  // Hashed as a JSON array, so ("ab", "c") and ("a", "bc") differ.
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(JSON.stringify(parts)),
  );
  const bytes = new Uint8Array(digest).slice(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * JSON with object keys sorted at every level: the same arguments written in another key order
 * (as a model asked again may write them) are the same call.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((key) => [key, sortKeys(record[key])]),
  );
}
