import { z } from 'zod';
import type { Db, Sql } from '../db/port.ts';
import type { Job } from '../jobs/types.ts';
import {
  downloadMedia,
  type GraphDeps,
  type GraphErrorBody,
  listTemplates,
  REENGAGEMENT_REQUIRED,
  readGraphAnswer,
  sendMessage,
  uploadMedia,
} from './graph.ts';

// The two jobs of the WhatsApp channel: sending a bot or agent message to the customer, and
// fetching a customer's media into Storage. Both run through the queue, so a slow or rate-limited
// Graph API delays them and loses nothing.

export const SEND_JOB = 'whatsapp_send';
export const MEDIA_JOB = 'whatsapp_media';
export const TEMPLATE_SYNC_JOB = 'whatsapp_templates_sync';

/** Free-form messages may follow the customer's last message for this long. */
export const SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

// Meta's limits on interactive messages.
const MAX_BUTTONS = 3;
const BUTTON_TITLE = 20;
const MAX_ROWS = 10;
const ROW_TITLE = 24;
const INTERACTIVE_BODY = 1024;
const TEXT_BODY = 4096;

export interface WhatsappJobDeps extends GraphDeps {
  db: Db;
  now?: () => number;
  /** Where the attachments bucket is (the Storage REST API) and the key that may write it. */
  storage?: { url: string; serviceKey: string; fetch: typeof fetch };
  log?: (message: string, error?: unknown) => void;
}

/** The Graph API body for a message with these quick replies: buttons, a list, or plain text. */
export function outboundMessage(
  to: string,
  content: string,
  quickReplies: string[],
  locale: string | null,
): Record<string, unknown> {
  const options = quickReplies.filter((q) => q.trim()).slice(0, MAX_ROWS);
  const body = content.trim() || options.join(' / ');
  if (options.length > 0 && body.length <= INTERACTIVE_BODY) {
    if (options.length <= MAX_BUTTONS && options.every((o) => o.length <= BUTTON_TITLE)) {
      return {
        to,
        type: 'interactive',
        interactive: {
          type: 'button',
          body: { text: body },
          action: {
            buttons: options.map((title) => ({ type: 'reply', reply: { id: title, title } })),
          },
        },
      };
    }
    return {
      to,
      type: 'interactive',
      interactive: {
        type: 'list',
        body: { text: body },
        action: {
          button: locale?.startsWith('es') ? 'Opciones' : 'Options',
          sections: [
            {
              rows: options.map((title, i) => ({
                // The id comes back in the reply; the full text stays readable when the title is cut.
                id: title.slice(0, 200) || `option-${i + 1}`,
                title: title.slice(0, ROW_TITLE),
                ...(title.length > ROW_TITLE ? { description: title.slice(0, 72) } : {}),
              })),
            },
          ],
        },
      },
    };
  }
  const text = options.length ? `${body}\n\n${options.map((o) => `• ${o}`).join('\n')}` : body;
  return { to, type: 'text', text: { body: text.slice(0, TEXT_BODY), preview_url: false } };
}

const sendPayload = z.object({ message_id: z.string().uuid() });

interface Outgoing {
  id: string;
  tenant_id: string;
  conversation_id: string;
  content: string;
  quick_replies: string[];
  locale: string | null;
  connection_id: string;
  wa_id: string;
  phone_number_id: string;
  access_token: string;
  enabled: boolean;
  sent_wamid: string | null;
  last_inbound: Date | null;
  template_name: string | null;
  template_language: string | null;
  template_variables: string[] | null;
  media_bucket: string | null;
  media_path: string | null;
  media_mime: string | null;
  media_filename: string | null;
  media_kind: string | null;
  media_max_bytes: number | null;
}

/** A template message: only the body's variables are filled in ({{1}}, {{2}}… in order). */
export function templateMessage(
  to: string,
  name: string,
  language: string,
  variables: string[],
): Record<string, unknown> {
  return {
    to,
    type: 'template',
    template: {
      name,
      language: { code: language },
      ...(variables.length
        ? {
            components: [
              { type: 'body', parameters: variables.map((text) => ({ type: 'text', text })) },
            ],
          }
        : {}),
    },
  };
}

/** A message that will not reach the customer: marked failed, and the inbox is told why. */
async function markFailed(
  sql: Sql,
  message: Pick<Outgoing, 'id' | 'conversation_id'>,
  reason: string,
  errors: unknown[],
) {
  await sql.query(
    `update public.messages set status = 'failed' where id = $1 and status in ('pending', 'sent')`,
    [message.id],
  );
  await sql.query(
    `insert into public.messages (conversation_id, role, content, is_private)
     values ($1, 'system', $2, true)`,
    [message.conversation_id, `Not delivered on WhatsApp: ${reason}`],
  );
  return { failed: reason, errors };
}

const describeError = (e: GraphErrorBody) =>
  `${e.code ?? 'error'}${e.error_subcode ? `/${e.error_subcode}` : ''}: ${e.message ?? 'unknown'}`;

/**
 * A refusal worth repeating throws, so the queue retries it with backoff; on the last attempt, or
 * for a refusal that will not change, the reason is returned instead.
 */
function retryOrReason(job: Job, outcome: { retry: boolean; error: GraphErrorBody }, what: string) {
  if (outcome.retry && job.attempts < job.max_attempts)
    throw new Error(`WhatsApp: ${what}, retrying later (${describeError(outcome.error)})`);
  return describeError(outcome.error);
}

/**
 * A Storage file as a WhatsApp media message: the bytes read with the service key, checked again
 * (the type and size WhatsApp takes for its kind), uploaded to the number's media store, and
 * referred to by the media id Meta returns.
 */
async function mediaMessage(
  deps: WhatsappJobDeps,
  job: Job,
  message: Outgoing,
): Promise<{ message: Record<string, unknown> } | { failed: string; errors: unknown[] }> {
  if (!deps.storage) throw new Error('Storage is not configured for WhatsApp media');
  const kind = message.media_kind;
  if (!kind || !message.media_mime || !message.media_max_bytes)
    return { failed: `WhatsApp does not take ${message.media_mime ?? 'this'} files`, errors: [] };
  const path = `${message.media_bucket}/${message.media_path}`
    .split('/')
    .map(encodeURIComponent)
    .join('/');
  const file = await deps.storage.fetch(`${deps.storage.url}/storage/v1/object/${path}`, {
    headers: {
      authorization: `Bearer ${deps.storage.serviceKey}`,
      apikey: deps.storage.serviceKey,
    },
  });
  if (file.status === 404 || file.status === 400)
    return { failed: 'the file is no longer in Storage', errors: [] };
  if (!file.ok) throw new Error(`storage download failed (${file.status})`);
  const type = (file.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== message.media_mime)
    return {
      failed: `the file is now ${type || 'of no type'}, not ${message.media_mime}`,
      errors: [],
    };
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.byteLength > message.media_max_bytes)
    return {
      failed: `the file is larger than WhatsApp takes for an ${kind} (${message.media_max_bytes} bytes)`,
      errors: [],
    };
  const uploaded = await readGraphAnswer(
    await uploadMedia(deps, message, {
      bytes,
      mimeType: message.media_mime,
      filename: message.media_filename ?? 'file',
    }),
  );
  if (!uploaded.ok)
    return { failed: retryOrReason(job, uploaded, 'media not uploaded'), errors: [uploaded.error] };
  const id = (uploaded.body as { id?: string } | null)?.id;
  if (!id) throw new Error('the Graph API stored the media without an id');
  // The placeholder "[name]" stands for a file without a caption; audio takes none.
  const caption = /^\[[^\]]*\]$/.test(message.content.trim()) ? '' : message.content.trim();
  return {
    message: {
      to: message.wa_id,
      type: kind,
      [kind]: {
        id,
        ...(caption && kind !== 'audio' ? { caption: caption.slice(0, 1024) } : {}),
        ...(kind === 'document' ? { filename: message.media_filename ?? 'file' } : {}),
      },
    },
  };
}

export function createWhatsappSendHandler(deps: WhatsappJobDeps) {
  const now = deps.now ?? Date.now;
  return async (job: Job) => {
    const { message_id } = sendPayload.parse(job.payload);
    const [message] = await deps.db.asService((sql) =>
      sql.query<Outgoing>(
        `select m.id, m.tenant_id, m.conversation_id, m.content, m.quick_replies, cv.locale,
                t.connection_id, t.wa_id, c.phone_number_id, c.access_token, c.enabled,
                w.wamid as sent_wamid, tp.name as template_name,
                tp.language as template_language, ts.variables as template_variables,
                om.bucket as media_bucket, om.path as media_path, om.mime_type as media_mime,
                om.filename as media_filename,
                private.whatsapp_media_kind(om.mime_type) as media_kind,
                private.whatsapp_media_max_bytes(private.whatsapp_media_kind(om.mime_type))::float8
                  as media_max_bytes,
                (select max(u.created_at) from public.messages u
                  where u.conversation_id = m.conversation_id and u.role = 'user') as last_inbound
           from public.messages m
           join public.conversations cv on cv.id = m.conversation_id
           join private.whatsapp_threads t on t.conversation_id = m.conversation_id
           join public.whatsapp_connections c on c.id = t.connection_id
           left join private.whatsapp_messages w on w.message_id = m.id
           left join private.whatsapp_template_sends ts on ts.message_id = m.id
           left join public.whatsapp_templates tp on tp.id = ts.template_id
           left join private.outbound_media om on om.message_id = m.id
          where m.id = $1`,
        [message_id],
      ),
    );
    if (!message) {
      // The number was disconnected: its conversations stay, but nothing reaches the customer now.
      return deps.db.asService(async (sql) => {
        const [orphan] = await sql.query<{ id: string; conversation_id: string }>(
          `select id, conversation_id from public.messages where id = $1 and status = 'pending'`,
          [message_id],
        );
        return orphan
          ? markFailed(sql, orphan, 'the WhatsApp number was disconnected', [])
          : { skipped: 'message_gone' };
      });
    }
    if (message.sent_wamid) return { skipped: 'already_sent', wamid: message.sent_wamid };
    const fail = (reason: string, errors: unknown[] = []) =>
      deps.db.asService((sql) => markFailed(sql, message, reason, errors));
    if (!message.enabled) return fail('the WhatsApp connection is disabled');
    const template = message.template_name
      ? templateMessage(
          message.wa_id,
          message.template_name,
          message.template_language ?? 'en_US',
          message.template_variables ?? [],
        )
      : null;
    const windowOpen =
      message.last_inbound !== null && now() - message.last_inbound.getTime() <= SERVICE_WINDOW_MS;
    if (!template && !windowOpen)
      return fail(
        'the 24-hour customer-service window is closed; only an approved template can be sent',
      );

    let media: Record<string, unknown> | null = null;
    if (message.media_path) {
      const prepared = await mediaMessage(deps, job, message);
      if ('failed' in prepared) return fail(prepared.failed, prepared.errors);
      media = prepared.message;
    }
    const answer = await readGraphAnswer(
      await sendMessage(
        deps,
        message,
        template ??
          media ??
          outboundMessage(message.wa_id, message.content, message.quick_replies, message.locale),
      ),
    );
    if (answer.ok) {
      const wamid = (answer.body as { messages?: { id?: string }[] } | null)?.messages?.[0]?.id;
      if (!wamid) throw new Error('the Graph API accepted the message without a wamid');
      await deps.db.asService((sql) =>
        sql.query(
          `select private.apply_whatsapp_status($1, $2, $3, 'sent', '[]'::jsonb, now(), $4)`,
          [wamid, message.tenant_id, message.connection_id, message.id],
        ),
      );
      return { wamid };
    }
    if (answer.error.code === REENGAGEMENT_REQUIRED)
      return fail(
        'the 24-hour customer-service window is closed; only an approved template can be sent',
        [answer.error],
      );
    return fail(retryOrReason(job, answer, 'not sent'), [answer.error]);
  };
}

const mediaPayload = z.object({
  wamid: z.string(),
  message_id: z.string().uuid(),
  conversation_id: z.string().uuid(),
});

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/aac': 'aac',
  'audio/amr': 'amr',
  'audio/mp4': 'm4a',
  'video/mp4': 'mp4',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
};

export function createWhatsappMediaHandler(deps: WhatsappJobDeps) {
  return async (job: Job) => {
    const payload = mediaPayload.parse(job.payload);
    const [row] = await deps.db.asService((sql) =>
      sql.query<{
        tenant_id: string;
        media: { kind: string; id: string; storage_path?: string } | null;
        access_token: string;
      }>(
        `select w.tenant_id, w.media, c.access_token
           from private.whatsapp_messages w
           join public.whatsapp_connections c on c.id = w.connection_id
          where w.wamid = $1`,
        [payload.wamid],
      ),
    );
    if (!row?.media) return { skipped: 'no_media' };
    if (row.media.storage_path) return { skipped: 'already_stored' };
    if (!deps.storage) throw new Error('Storage is not configured for WhatsApp media');
    const media = await downloadMedia(deps, row.access_token, row.media.id);
    if (!media.ok) return { failed: retryOrReason(job, media, 'media not fetched') };
    if (!('bytes' in media)) return { failed: 'no media bytes' };
    const mime = media.info.mime_type.split(';')[0]?.trim() || 'application/octet-stream';
    const path = `${row.tenant_id}/${payload.conversation_id}/wa-${payload.message_id}.${EXTENSIONS[mime] ?? 'bin'}`;
    const upload = await deps.storage.fetch(
      `${deps.storage.url}/storage/v1/object/attachments/${path}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${deps.storage.serviceKey}`,
          apikey: deps.storage.serviceKey,
          'content-type': mime,
          'x-upsert': 'true',
        },
        body: media.bytes,
      },
    );
    if (!upload.ok) {
      const detail = await upload.text().catch(() => '');
      // The bucket refusing a type or a size will refuse it again: stop here.
      if (upload.status >= 400 && upload.status < 500)
        return { failed: `storage refused the media (${upload.status}) ${detail.slice(0, 200)}` };
      throw new Error(`storage upload failed (${upload.status})`);
    }
    await deps.db.asService((sql) =>
      sql.query(
        `update private.whatsapp_messages
            set media = media || jsonb_build_object('storage_path', $2::text, 'mime_type', $3::text,
                                                    'size', $4::int)
          where wamid = $1`,
        [payload.wamid, `attachments/${path}`, mime, media.bytes.byteLength],
      ),
    );
    return { stored: `attachments/${path}` };
  };
}

const syncPayload = z.object({ connection_id: z.string().uuid() });

/** Reads every template of the connection's account and mirrors it; gone ones are dropped. */
export function createTemplateSyncHandler(deps: WhatsappJobDeps) {
  return async (job: Job) => {
    const { connection_id } = syncPayload.parse(job.payload);
    const [connection] = await deps.db.asService((sql) =>
      sql.query<{ tenant_id: string; business_account_id: string | null; access_token: string }>(
        `select tenant_id, business_account_id, access_token
           from public.whatsapp_connections where id = $1`,
        [connection_id],
      ),
    );
    if (!connection?.business_account_id) return { skipped: 'no_business_account' };
    const listed = await listTemplates(deps, {
      business_account_id: connection.business_account_id,
      access_token: connection.access_token,
    });
    if (!listed.ok) return { failed: retryOrReason(job, listed, 'templates not read') };
    if (!('templates' in listed)) return { failed: 'no templates' };
    await deps.db.asService(async (sql) => {
      for (const t of listed.templates) {
        await sql.query(
          `insert into public.whatsapp_templates
             (tenant_id, connection_id, meta_id, name, language, category, status, components,
              rejected_reason, synced_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, now())
           on conflict (connection_id, meta_id) do update
              set name = excluded.name, language = excluded.language,
                  category = excluded.category, status = excluded.status,
                  components = excluded.components, rejected_reason = excluded.rejected_reason,
                  synced_at = now()`,
          [
            connection.tenant_id,
            connection_id,
            t.id,
            t.name,
            t.language,
            t.category ?? null,
            t.status,
            t.components ?? [],
            t.rejected_reason && t.rejected_reason !== 'NONE' ? t.rejected_reason : null,
          ],
        );
      }
      await sql.query(
        `delete from public.whatsapp_templates
          where connection_id = $1 and not (meta_id = any($2::text[]))`,
        [connection_id, listed.templates.map((t) => t.id)],
      );
    });
    return { templates: listed.templates.length };
  };
}
