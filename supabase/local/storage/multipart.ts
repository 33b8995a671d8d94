import { Buffer } from 'node:buffer';

// A multipart/form-data reader for upload bodies. storage-js names its file part "" (an empty
// field name), which the platform's FormData parsers drop, so the parts are read by hand: text
// fields by name, and the first part that carries a filename as the file.

export interface MultipartFile {
  type: string | null;
  bytes: Uint8Array;
}

export interface Multipart {
  fields: Map<string, string>;
  file: MultipartFile | null;
}

function boundaryOf(contentType: string): string | null {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2] ?? null;
}

function headerParam(header: string, name: string): string | null {
  const match = new RegExp(`(?:^|;)\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header);
  if (match) return (match[1] ?? '').replace(/\\(.)/g, '$1');
  const bare = new RegExp(`(?:^|;)\\s*${name}=([^;\\s]*)`, 'i').exec(header);
  return bare ? (bare[1] ?? '') : null;
}

/** The parts of a multipart body, or null when it is not well formed. */
export function parseMultipart(body: Uint8Array, contentType: string): Multipart | null {
  const boundary = boundaryOf(contentType);
  if (!boundary) return null;
  const data = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const fields = new Map<string, string>();
  let file: MultipartFile | null = null;

  let at = data.indexOf(delimiter);
  if (at < 0) return null;
  for (;;) {
    at += delimiter.length;
    // "--" after a delimiter closes the body.
    if (data[at] === 0x2d && data[at + 1] === 0x2d) break;
    if (data[at] !== 0x0d || data[at + 1] !== 0x0a) return null;
    const headersEnd = data.indexOf('\r\n\r\n', at + 2);
    if (headersEnd < 0) return null;
    const next = data.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd + 4);
    if (next < 0) return null;
    const headers = data.toString('utf8', at + 2, headersEnd).split('\r\n');
    const header = (name: string) =>
      headers
        .find((line) => line.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim() ?? null;
    const disposition = header('content-disposition') ?? '';
    const name = headerParam(disposition, 'name') ?? '';
    const filename = headerParam(disposition, 'filename');
    const content = body.subarray(headersEnd + 4, next);
    if (filename !== null) {
      file ??= { type: header('content-type'), bytes: content };
    } else if (!fields.has(name)) {
      fields.set(name, new TextDecoder().decode(content));
    }
    at = next + 2;
  }
  return { fields, file };
}
