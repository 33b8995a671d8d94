// Meta signs every webhook delivery: X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
// body)>. The raw bytes are what was signed, so nothing may parse the body before this passes.

const encoder = new TextEncoder();

function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export type SignatureCheck =
  | { ok: true }
  | { ok: false; code: 'missing_signature' | 'bad_signature' };

/** crypto.subtle.verify compares in constant time, so no byte of the expected MAC leaks. */
export async function verifyHubSignature(
  appSecret: string,
  body: Uint8Array<ArrayBuffer>,
  header: string | null | undefined,
): Promise<SignatureCheck> {
  if (!header) return { ok: false, code: 'missing_signature' };
  const match = /^sha256=([0-9a-fA-F]+)$/.exec(header.trim());
  const mac = match?.[1] ? hexToBytes(match[1]) : null;
  if (!mac) return { ok: false, code: 'bad_signature' };
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(appSecret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  const ok = await crypto.subtle.verify('HMAC', key, mac, body);
  return ok ? { ok: true } : { ok: false, code: 'bad_signature' };
}

/** Equality of two secrets without an early exit on the first differing character. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
  const key = await crypto.subtle.importKey(
    'raw',
    crypto.getRandomValues(new Uint8Array(32)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(a));
  return crypto.subtle.verify('HMAC', key, mac, encoder.encode(b));
}
