import { z } from 'zod';
import type { Sql } from '../db/port.ts';
import { awaitFlowAnswer } from '../flows/run.ts';
import { applyConsent, consentWord, markBroadcastReplied } from './consent.ts';

// What Meta's webhook carries for a business phone number (field "messages"): the customers'
// messages and the delivery statuses of what was sent. Every part is parsed on its own, so one
// shape Parley does not know never costs the rest of a delivery.

export const MEDIA_KINDS = ['image', 'audio', 'video', 'document', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

const media = z.object({
  id: z.string().min(1).max(256),
  mime_type: z.string().max(200).optional(),
  caption: z.string().max(4096).optional(),
  filename: z.string().max(512).optional(),
});

const inboundMessage = z.object({
  from: z.string().regex(/^[0-9]{5,20}$/),
  id: z.string().min(1).max(256),
  timestamp: z.string().regex(/^[0-9]{1,12}$/),
  type: z.string().max(40),
  text: z.object({ body: z.string().max(20000) }).optional(),
  interactive: z
    .object({
      type: z.string(),
      button_reply: z.object({ id: z.string(), title: z.string() }).optional(),
      list_reply: z
        .object({ id: z.string(), title: z.string(), description: z.string().optional() })
        .optional(),
    })
    .optional(),
  button: z.object({ payload: z.string().optional(), text: z.string() }).optional(),
  location: z
    .object({
      latitude: z.number(),
      longitude: z.number(),
      name: z.string().max(1000).optional(),
      address: z.string().max(1000).optional(),
    })
    .optional(),
  contacts: z
    .array(
      z.object({
        name: z.object({ formatted_name: z.string().max(500).optional() }).optional(),
        phones: z.array(z.object({ phone: z.string().max(100).optional() })).optional(),
      }),
    )
    .max(20)
    .optional(),
  image: media.optional(),
  audio: media.optional(),
  video: media.optional(),
  document: media.optional(),
  sticker: media.optional(),
});
export type InboundMessage = z.infer<typeof inboundMessage>;

const statusError = z.object({
  code: z.number().optional(),
  title: z.string().max(1000).optional(),
  message: z.string().max(1000).optional(),
  error_data: z.object({ details: z.string().max(2000).optional() }).optional(),
});

const inboundStatus = z.object({
  id: z.string().min(1).max(256),
  status: z.enum(['sent', 'delivered', 'read', 'failed']),
  timestamp: z.string().regex(/^[0-9]{1,12}$/),
  recipient_id: z.string().max(40).optional(),
  errors: z.array(statusError).max(10).optional(),
});
export type InboundStatus = z.infer<typeof inboundStatus>;

const changeValue = z.object({
  metadata: z.object({ phone_number_id: z.string() }),
  contacts: z
    .array(
      z.object({
        wa_id: z.string(),
        profile: z.object({ name: z.string().max(500).optional() }).optional(),
      }),
    )
    .optional(),
  messages: z.array(z.unknown()).optional(),
  statuses: z.array(z.unknown()).optional(),
});

export const webhookSchema = z.object({
  object: z.string(),
  entry: z
    .array(
      z.object({
        id: z.string().optional(),
        changes: z.array(z.object({ field: z.string(), value: z.unknown() })),
      }),
    )
    .max(1000),
});

const templateUpdate = z.object({
  event: z.string().min(1).max(40),
  message_template_id: z.union([z.number(), z.string()]).transform(String),
  message_template_name: z.string().max(512).optional(),
  message_template_language: z.string().max(20).optional(),
  reason: z.string().max(1000).nullable().optional(),
});
export type TemplateUpdate = z.infer<typeof templateUpdate>;

export interface Delivery {
  messages: { message: InboundMessage; profileName: string | null }[];
  statuses: InboundStatus[];
  templates: TemplateUpdate[];
  /** Parts Parley could not read: logged, never fatal. */
  skipped: number;
}

/** The messages and statuses addressed to this phone number id. */
export function readDelivery(
  payload: z.infer<typeof webhookSchema>,
  phoneNumberId: string,
  businessAccountId: string | null,
) {
  const out: Delivery = { messages: [], statuses: [], templates: [], skipped: 0 };
  for (const entry of payload.entry) {
    for (const change of entry.changes) {
      if (change.field === 'message_template_status_update') {
        const update = templateUpdate.safeParse(change.value);
        // Templates belong to the account: another account's news is not this connection's.
        if (update.success && businessAccountId && entry.id === businessAccountId)
          out.templates.push(update.data);
        else out.skipped++;
        continue;
      }
      if (change.field !== 'messages') continue;
      const value = changeValue.safeParse(change.value);
      if (!value.success) {
        out.skipped++;
        continue;
      }
      // A number shared by mistake between two connections must not cross tenants.
      if (value.data.metadata.phone_number_id !== phoneNumberId) {
        out.skipped++;
        continue;
      }
      const names = new Map(
        (value.data.contacts ?? []).map((c) => [c.wa_id, c.profile?.name ?? null]),
      );
      for (const raw of value.data.messages ?? []) {
        const parsed = inboundMessage.safeParse(raw);
        if (parsed.success)
          out.messages.push({
            message: parsed.data,
            profileName: names.get(parsed.data.from) ?? null,
          });
        else out.skipped++;
      }
      for (const raw of value.data.statuses ?? []) {
        const parsed = inboundStatus.safeParse(raw);
        if (parsed.success) out.statuses.push(parsed.data);
        else out.skipped++;
      }
    }
  }
  return out;
}

export interface MediaRef {
  kind: MediaKind;
  id: string;
  mime_type: string | null;
  filename: string | null;
}

/** The text the bot and the inbox read for a message, and the media to fetch, if any. */
export function describeMessage(
  message: InboundMessage,
): { content: string; media: MediaRef | null } | null {
  switch (message.type) {
    case 'text':
      return message.text ? { content: message.text.body, media: null } : null;
    case 'interactive': {
      const reply = message.interactive?.button_reply ?? message.interactive?.list_reply;
      return reply ? { content: reply.title, media: null } : null;
    }
    case 'button':
      return message.button ? { content: message.button.text, media: null } : null;
    case 'location': {
      const l = message.location;
      if (!l) return null;
      const place = [l.name, l.address].filter(Boolean).join(', ');
      return {
        content: `Location: ${place ? `${place} ` : ''}(${l.latitude}, ${l.longitude})`,
        media: null,
      };
    }
    case 'contacts': {
      const cards = (message.contacts ?? []).map((c) => {
        const phones = (c.phones ?? []).map((p) => p.phone).filter(Boolean);
        return [c.name?.formatted_name, phones.join(', ')].filter(Boolean).join(': ');
      });
      return cards.length ? { content: `Contact: ${cards.join('; ')}`, media: null } : null;
    }
    default: {
      const kind = MEDIA_KINDS.find((k) => k === message.type);
      const ref = kind ? message[kind] : undefined;
      if (!kind || !ref) return null;
      return {
        content: ref.caption?.trim() || `[${kind}${ref.filename ? `: ${ref.filename}` : ''}]`,
        media: {
          kind,
          id: ref.id,
          mime_type: ref.mime_type ?? null,
          filename: ref.filename ?? null,
        },
      };
    }
  }
}

export interface Connection {
  id: string;
  tenant_id: string;
  phone_number_id: string;
}

export interface StoredInbound {
  conversationId: string;
  messageId: string;
}

/**
 * Stores one customer message, once: the wamid row is written first and a redelivery stops there.
 * Returns null for a wamid already seen or a type without content (reactions, unsupported).
 */
export async function storeInbound(
  sql: Sql,
  connection: Connection,
  message: InboundMessage,
  profileName: string | null,
): Promise<StoredInbound | null> {
  const described = describeMessage(message);
  const [fresh] = await sql.query<{ wamid: string }>(
    `insert into private.whatsapp_messages (wamid, tenant_id, connection_id, direction, media)
     values ($1, $2, $3, 'in', $4::jsonb)
     on conflict (wamid) do nothing returning wamid`,
    [message.id, connection.tenant_id, connection.id, described?.media ?? null],
  );
  if (!fresh || !described) return null;

  const [contact] = await sql.query<{ id: string }>(
    `insert into public.contacts (tenant_id, identifier, wa_id, name, last_seen_at)
     values ($1, 'whatsapp:' || $2, $2, $3, now())
     on conflict (tenant_id, identifier) do update
        set wa_id = excluded.wa_id,
            name = coalesce(public.contacts.name, excluded.name),
            last_seen_at = now()
     returning id`,
    [connection.tenant_id, message.from, profileName],
  );
  if (!contact) throw new Error('contact not stored');

  // Two first messages of a new customer arriving together must still make one conversation.
  await sql.query('select pg_advisory_xact_lock(hashtext($1))', [
    `whatsapp:${connection.id}:${message.from}`,
  ]);
  // The customer's open WhatsApp conversation with this number, else a new one.
  const [thread] = await sql.query<{ conversation_id: string }>(
    `select t.conversation_id from private.whatsapp_threads t
       join public.conversations c on c.id = t.conversation_id
      where t.connection_id = $1 and t.wa_id = $2 and c.status <> 'resolved'
      order by t.created_at desc limit 1
      for update of c`,
    [connection.id, message.from],
  );
  let conversationId = thread?.conversation_id;
  if (!conversationId) {
    const [created] = await sql.query<{ id: string }>(
      `insert into public.conversations (tenant_id, contact_id, channel)
       values ($1, $2, 'whatsapp') returning id`,
      [connection.tenant_id, contact.id],
    );
    if (!created) throw new Error('conversation not created');
    conversationId = created.id;
    await sql.query(
      `insert into private.whatsapp_threads (conversation_id, tenant_id, connection_id, wa_id)
       values ($1, $2, $3, $4)`,
      [conversationId, connection.tenant_id, connection.id, message.from],
    );
  }

  // A message Meta delivers late (its retries last for days) is dated when the customer wrote it:
  // the 24-hour window counts from then. A fresh one keeps the arrival order, finer than Meta's
  // whole seconds.
  const [stored] = await sql.query<{ id: string }>(
    `insert into public.messages (conversation_id, role, content, created_at)
     values ($1, 'user', $2,
             case when to_timestamp($3::bigint) < now() - interval '1 minute'
                  then to_timestamp($3::bigint) else now() end)
     returning id`,
    [conversationId, described.content.slice(0, 20000), message.timestamp],
  );
  if (!stored) throw new Error('message not stored');
  await sql.query('update private.whatsapp_messages set message_id = $2 where wamid = $1', [
    message.id,
    stored.id,
  ]);
  const broadcastFlow = await markBroadcastReplied(sql, connection.tenant_id, message.from);
  const word = described.media ? null : consentWord(described.content);
  if (word) await applyConsent(sql, word, contact.id, conversationId, stored.id);
  // The first reply to a broadcast that starts a flow answers the question its template asked.
  else if (broadcastFlow)
    await awaitFlowAnswer(sql, {
      conversationId,
      tenantId: connection.tenant_id,
      flowId: broadcastFlow,
    });
  if (described.media) {
    await sql.query(
      `select private.enqueue_job('whatsapp_media', $1::jsonb, $2, now(), $3, 5, $4)`,
      [
        { wamid: message.id, message_id: stored.id, conversation_id: conversationId },
        connection.tenant_id,
        `whatsapp_media:${conversationId}`,
        `whatsapp_media:${message.id}`,
      ],
    );
  }
  return { conversationId, messageId: stored.id };
}

/** Applies one delivery status; safe in any order and any number of times. */
export async function storeStatus(sql: Sql, connection: Connection, status: InboundStatus) {
  await sql.query(
    'select private.apply_whatsapp_status($1, $2, $3, $4, $5::jsonb, to_timestamp($6::bigint), null)',
    [
      status.id,
      connection.tenant_id,
      connection.id,
      status.status,
      status.errors ?? [],
      status.timestamp,
    ],
  );
}

/** A template's new status from Meta; a template not synced yet brings the whole list in. */
export async function storeTemplateUpdate(
  sql: Sql,
  connection: Connection,
  update: TemplateUpdate,
) {
  const rows = await sql.query(
    `update public.whatsapp_templates
        set status = $3, rejected_reason = nullif($4, 'NONE')
      where connection_id = $1 and meta_id = $2 returning id`,
    [connection.id, update.message_template_id, update.event, update.reason ?? null],
  );
  if (rows.length === 0) {
    await sql.query(
      `select private.enqueue_job('whatsapp_templates_sync', $1::jsonb, $2, now(), $3, 5, null)`,
      [
        { connection_id: connection.id },
        connection.tenant_id,
        `whatsapp_templates:${connection.id}`,
      ],
    );
  }
}
