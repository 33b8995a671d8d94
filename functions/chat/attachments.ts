import type { Hono } from 'hono';
import { z } from 'zod';
import type { Db, JwtClaims, Sql } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';
import { jsonBody } from '../_shared/http/validation.ts';
import { enforceRateLimits } from './limits.ts';
import type { requireVisitor, VisitorEnv } from './visitor.ts';

// Files a visitor sends (docs/widget.md, "Attachments"). The widget asks here where a file may
// go; the bucket's own limits (types, size) answer in words before a byte is sent. It then
// uploads to Storage itself with its session, where the policies confine it to its conversation's
// folder, and names the uploaded paths in POST /chat/messages; the message takes type and size
// from what Storage holds, not from the widget.

export const MAX_ATTACHMENTS = 5;

export const attachmentRefs = z
  .array(
    z.object({
      path: z.string().min(75).max(1024),
      name: z.string().trim().min(1).max(255),
    }),
  )
  .max(MAX_ATTACHMENTS);

export interface Attachment {
  path: string;
  name: string;
  type: string;
  size: number;
}

/** The uploaded files a message names, as Storage has them; 422 for one that is not there. */
export async function storedAttachments(
  sql: Sql,
  conversation: { id: string; tenant_id: string },
  refs: z.infer<typeof attachmentRefs>,
): Promise<Attachment[]> {
  if (!refs.length) return [];
  const folder = `${conversation.tenant_id}/${conversation.id}/`;
  // As the caller: the storage policies decide what it may see, so another conversation's file
  // is as absent as one never uploaded.
  const rows = await sql.query<{ name: string; type: string | null; size: string | null }>(
    `select name, metadata ->> 'mimetype' as type, metadata ->> 'size' as size
       from storage.objects where bucket_id = 'attachments' and name = any($1::text[])`,
    [refs.map((r) => r.path)],
  );
  return refs.map((ref) => {
    const row = rows.find((r) => r.name === ref.path);
    if (!row || !ref.path.startsWith(folder) || ref.path.includes('..'))
      throw new HttpError(422, 'attachment_not_found', 'An attached file was not uploaded.');
    return {
      path: ref.path,
      name: ref.name,
      type: row.type ?? 'application/octet-stream',
      size: Number(row.size ?? 0),
    };
  });
}

/** A file name Storage and every browser accept: the extension kept, the rest plain. */
export function storageName(name: string): string {
  const cleaned = name
    .normalize('NFKD')
    .replace(/[^\w.-]+/g, '_')
    .replace(/^[._]+/, '')
    .replace(/\.{2,}/g, '.');
  return (cleaned || 'file').slice(-80);
}

const megabytes = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

interface AttachmentDeps {
  db: Db;
  uploadsPerMinute: number;
  conversationOf(visitor: JwtClaims, id: string): Promise<{ id: string; tenant_id: string }>;
}

export function registerAttachmentRoutes(
  app: Hono<VisitorEnv>,
  deps: AttachmentDeps,
  visitorOnly: ReturnType<typeof requireVisitor>,
) {
  app.post('/chat/attachments', visitorOnly, async (c) => {
    const body = await jsonBody(
      c,
      z.object({
        conversation_id: z.string().uuid(),
        name: z.string().trim().min(1).max(255),
        type: z.string().trim().toLowerCase().min(1).max(100),
        size: z.number().int().min(1),
      }),
    );
    const visitor = c.get('visitor');
    const conversation = await deps.conversationOf(visitor, body.conversation_id);
    await enforceRateLimits(deps.db, [
      [`attachments:visitor:${visitor.sub}`, deps.uploadsPerMinute],
    ]);
    const [bucket] = await deps.db.asService((sql) =>
      sql.query<{ file_size_limit: string | null; allowed_mime_types: string[] | null }>(
        `select file_size_limit, allowed_mime_types from storage.buckets where id = 'attachments'`,
      ),
    );
    const maxBytes = Number(bucket?.file_size_limit ?? 0) || 5 * 1024 * 1024;
    const types = bucket?.allowed_mime_types ?? [];
    if (types.length && !types.includes(body.type)) {
      throw new HttpError(
        415,
        'attachment_type_refused',
        `Files of type ${body.type} cannot be sent here; these can: ${types.join(', ')}.`,
      );
    }
    if (body.size > maxBytes) {
      throw new HttpError(
        413,
        'attachment_too_large',
        `This file is larger than the ${megabytes(maxBytes)} MB a file may have here.`,
      );
    }
    const path = `${conversation.tenant_id}/${conversation.id}/${crypto.randomUUID()}-${storageName(body.name)}`;
    return c.json({ bucket: 'attachments', path, max_bytes: maxBytes, allowed: types }, 201);
  });
}
