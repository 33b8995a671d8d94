import type { StorageContext } from './context.ts';
import { errors } from './errors.ts';
import type { ObjectRow } from './metadata.ts';

// An object's bytes with the headers Storage sends: its type (HTML as plain text, so an uploaded
// page never runs on the storage origin), ETag, Cache-Control, Last-Modified, a single byte range
// when asked, and Content-Disposition for ?download.

function attachment(request: Request, object: ObjectRow): string | null {
  const url = new URL(request.url);
  if (!url.searchParams.has('download')) return null;
  const name = url.searchParams.get('download') || (object.name.split('/').pop() ?? object.name);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

function range(header: string | null, size: number): [number, number] | null {
  const match = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start > end || start >= size) throw errors.rangeNotSatisfiable();
  return [start, end];
}

export async function serveBytes(
  request: Request,
  ctx: StorageContext,
  object: ObjectRow,
  expires?: Date,
): Promise<Response> {
  const bytes = await ctx.blobs.get(object.bucket_id, object.name, object.version);
  if (!bytes) throw errors.noSuchKey();
  const type = object.metadata.mimetype.toLowerCase().startsWith('text/html')
    ? 'text/plain'
    : object.metadata.mimetype;
  const headers = new Headers({
    'Content-Type': type,
    ETag: object.metadata.eTag,
    'Cache-Control': object.metadata.cacheControl,
    'Last-Modified': new Date(object.updated_at).toUTCString(),
    'Accept-Ranges': 'bytes',
  });
  if (expires) headers.set('Expires', expires.toUTCString());
  const disposition = attachment(request, object);
  if (disposition) headers.set('Content-Disposition', disposition);

  const wanted = range(request.headers.get('range'), bytes.byteLength);
  const body = wanted ? bytes.slice(wanted[0], wanted[1] + 1) : bytes.slice();
  if (wanted) headers.set('Content-Range', `bytes ${wanted[0]}-${wanted[1]}/${bytes.byteLength}`);
  headers.set('Content-Length', String(body.byteLength));
  return new Response(request.method === 'HEAD' ? null : body, {
    status: wanted ? 206 : 200,
    headers,
  });
}
