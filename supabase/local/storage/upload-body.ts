import { z } from 'zod';
import { errors } from './errors.ts';
import { readCapped } from './http.ts';
import { parseMultipart } from './multipart.ts';

// An upload's bytes and the headers Storage keeps with them, from either body storage-js sends:
// the raw bytes with Content-Type, Cache-Control and a base64 JSON x-metadata header, or a
// multipart form (Blob, File and FormData uploads) whose first file part carries the bytes.

export interface IncomingFile {
  /** Null when the body is longer than the size limit. */
  bytes: Uint8Array | null;
  /** Null only when an oversized form was not read far enough to know it. */
  mimetype: string | null;
  cacheControl: string;
  contentEncoding: string | null;
  userMetadata: Record<string, unknown> | null;
}

const userMetadata = z.record(z.string(), z.unknown());
/** Storage caps the metadata form field at 1 MiB. */
const MAX_METADATA = 1 << 20;

function parseMetadata(text: string | null): Record<string, unknown> | null {
  if (text === null || text === '') return null;
  if (text.length > MAX_METADATA) throw errors.invalidRequest('metadata is too large');
  try {
    return userMetadata.parse(JSON.parse(text));
  } catch {
    throw errors.invalidRequest('Invalid metadata');
  }
}

function decodeBase64(text: string): string {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
  } catch {
    throw errors.invalidRequest('Invalid metadata');
  }
}

async function readMultipart(request: Request, limit: number): Promise<IncomingFile> {
  // Room for the form's framing and its small fields on top of the file itself.
  const raw = await readCapped(request.body, limit + MAX_METADATA + 64 * 1024);
  const tooLarge = (): IncomingFile => ({
    bytes: null,
    mimetype: null,
    cacheControl: 'no-cache',
    contentEncoding: null,
    userMetadata: null,
  });
  if (raw === null) return tooLarge();
  const form = parseMultipart(raw, request.headers.get('content-type') ?? '');
  if (!form) throw errors.invalidRequest('Malformed multipart body');
  if (!form.file) throw errors.invalidRequest('No content provided');
  const field = (name: string) => form.fields.get(name) ?? null;
  const seconds = field('cacheControl');
  const bytes = form.file.bytes.byteLength > limit ? null : form.file.bytes;
  return {
    bytes,
    mimetype: field('contentType') || form.file.type || 'application/octet-stream',
    cacheControl: seconds ? `max-age=${seconds}` : 'no-cache',
    contentEncoding: field('contentEncoding'),
    userMetadata: parseMetadata(field('metadata')),
  };
}

async function readRaw(request: Request, limit: number): Promise<IncomingFile> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  const bytes = declared > limit ? null : await readCapped(request.body, limit);
  const metadata = request.headers.get('x-metadata');
  return {
    bytes,
    mimetype: request.headers.get('content-type') || 'application/octet-stream',
    cacheControl: request.headers.get('cache-control') || 'no-cache',
    contentEncoding: request.headers.get('content-encoding'),
    userMetadata: metadata ? parseMetadata(decodeBase64(metadata)) : null,
  };
}

/** The upload in this request; bytes beyond limit are not read, and bytes comes back null. */
export function readUpload(request: Request, limit: number): Promise<IncomingFile> {
  const type = request.headers.get('content-type') ?? '';
  return type.toLowerCase().startsWith('multipart/form-data')
    ? readMultipart(request, limit)
    : readRaw(request, limit);
}

/** Storage's check: type/subtype or type/* against the mimetype exactly as it was sent. */
export function checkMimeType(mimetype: string, allowed: string[] | null) {
  if (!allowed || allowed.length === 0) return;
  const [type, subtype] = mimetype.split('/');
  const ok = allowed.some((entry) => {
    const [allowedType, allowedSubtype] = entry.split('/');
    return allowedType === type && (allowedSubtype === '*' || allowedSubtype === subtype);
  });
  if (!ok || subtype === undefined) throw errors.invalidMimeType(mimetype);
}
