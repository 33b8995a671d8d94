import type { z } from 'zod';
import { errors } from './errors.ts';

// Request and response plumbing of the Storage routes: CORS for browser callers (the widget and
// the admin SPA upload from other origins) and JSON bodies checked against a schema.

const EXPOSED_HEADERS = [
  'Content-Length',
  'Content-Type',
  'Content-Range',
  'Content-Disposition',
  'ETag',
  'Last-Modified',
  'Cache-Control',
].join(', ');

export function withCors(response: Response): Response {
  response.headers.set('Access-Control-Allow-Origin', '*');
  response.headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  return response;
}

export const json = (body: unknown, status = 200) => Response.json(body, { status });

/** JSON bodies are small; anything bigger is not a Storage API request. */
const MAX_JSON_BYTES = 1 << 20;

export async function readJson<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<z.output<S>> {
  const text = await request.text();
  if (text.length > MAX_JSON_BYTES) throw errors.invalidRequest('body is too large');
  let raw: unknown = {};
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      throw errors.invalidRequest('Body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `body/${issue.path.join('/')} ` : 'body ';
    throw errors.invalidRequest(`${where}${issue?.message ?? 'is invalid'}`);
  }
  return parsed.data;
}

/** Reads at most limit bytes of a body: the bytes, or null when it is longer. */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (!body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
