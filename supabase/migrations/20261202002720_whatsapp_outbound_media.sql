-- Images and documents sent to WhatsApp customers: a message of a WhatsApp conversation may carry
-- one Storage object of its tenant (the knowledge or attachments bucket), which the send job
-- uploads to Meta's media endpoint and sends by its media id.

create table private.outbound_media (
  message_id uuid primary key references public.messages (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  bucket text not null check (bucket in ('knowledge', 'attachments')),
  path text not null check (length(path) between 1 and 1024),
  mime_type text not null,
  size bigint not null check (size >= 0),
  filename text not null check (length(filename) between 1 and 240),
  created_at timestamptz not null default now()
);
alter table private.outbound_media enable row level security;
revoke all on private.outbound_media from public, anon, authenticated;
grant all on private.outbound_media to service_role;

comment on table private.outbound_media is
  'The Storage object an outbound WhatsApp message carries (image, document, audio, video), read by the send job.';
comment on column private.outbound_media.message_id is 'The agent''s or bot''s message.';
comment on column private.outbound_media.tenant_id is 'The tenant; the object lies under its folder.';
comment on column private.outbound_media.bucket is 'knowledge or attachments.';
comment on column private.outbound_media.path is 'The object''s name in the bucket (<tenant_id>/…).';
comment on column private.outbound_media.mime_type is 'Its type when chosen; checked again against the bytes'' type at sending.';
comment on column private.outbound_media.size is 'Its size in bytes when chosen.';
comment on column private.outbound_media.filename is 'The name a document is shown under.';
comment on column private.outbound_media.created_at is 'When it was attached.';

-- What WhatsApp takes (Cloud API media limits): the kind of message for a type, and its size cap.
create or replace function private.whatsapp_media_kind(p_mime text) returns text
language sql immutable
set search_path = ''
as $$
  select case
    when p_mime in ('image/jpeg', 'image/png') then 'image'
    when p_mime in ('audio/aac', 'audio/mp4', 'audio/mpeg', 'audio/amr', 'audio/ogg') then 'audio'
    when p_mime in ('video/mp4', 'video/3gpp') then 'video'
    when p_mime in ('application/pdf', 'text/plain', 'application/msword',
                    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
                    'application/vnd.ms-excel',
                    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
                    'application/vnd.ms-powerpoint',
                    'application/vnd.openxmlformats-officedocument.presentationml.presentation')
      then 'document'
  end
$$;
comment on function private.whatsapp_media_kind(text) is
  'The WhatsApp message type (image, audio, video, document) for a MIME type, null when WhatsApp does not take it.';
revoke all on function private.whatsapp_media_kind(text) from public, anon, authenticated;
grant execute on function private.whatsapp_media_kind(text) to service_role;

create or replace function private.whatsapp_media_max_bytes(p_kind text) returns bigint
language sql immutable
set search_path = ''
as $$
  select case p_kind when 'image' then 5242880 when 'audio' then 16777216
                     when 'video' then 16777216 when 'document' then 104857600 end::bigint
$$;
comment on function private.whatsapp_media_max_bytes(text) is
  'WhatsApp''s size cap per media kind: images 5 MB, audio and video 16 MB, documents 100 MB.';
revoke all on function private.whatsapp_media_max_bytes(text) from public, anon, authenticated;
grant execute on function private.whatsapp_media_max_bytes(text) to service_role;

/** Attaches a Storage object to a new message; shared by staff and the bot. */
create or replace function private.attach_whatsapp_media(p_message_id uuid, p_tenant_id uuid, p_object text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  obj_bucket text := split_part(p_object, '/', 1);
  obj_name text := substr(p_object, length(split_part(p_object, '/', 1)) + 2);
  obj storage.objects;
  mime text;
  kind text;
  size bigint;
begin
  if obj_bucket not in ('knowledge', 'attachments') or private.storage_path_uuid(obj_name, 1) is distinct from p_tenant_id then
    raise exception 'the file must be in the workspace''s knowledge or attachments folder'
      using errcode = '42501';
  end if;
  select * into obj from storage.objects o where o.bucket_id = obj_bucket and o.name = obj_name;
  if obj.id is null then
    raise exception 'no such file: %', p_object using errcode = '22023';
  end if;
  mime := lower(split_part(coalesce(obj.metadata ->> 'mimetype', ''), ';', 1));
  size := coalesce((obj.metadata ->> 'size')::bigint, 0);
  kind := private.whatsapp_media_kind(mime);
  if kind is null then
    raise exception 'WhatsApp does not take % files', coalesce(nullif(mime, ''), 'these') using errcode = '22023';
  end if;
  if size > private.whatsapp_media_max_bytes(kind) then
    raise exception 'the file is larger than WhatsApp takes for an % (% bytes)', kind,
      private.whatsapp_media_max_bytes(kind) using errcode = '22023';
  end if;
  insert into private.outbound_media (message_id, tenant_id, bucket, path, mime_type, size, filename)
  values (p_message_id, p_tenant_id, obj_bucket, obj_name, mime, size,
          left(coalesce(nullif(regexp_replace(obj_name, '^.*/', ''), ''), 'file'), 240));
end;
$$;
comment on function private.attach_whatsapp_media(uuid, uuid, text) is
  'Checks a Storage object (bucket/name under the tenant''s folder, a type and size WhatsApp takes) and attaches it to an outbound message.';
revoke all on function private.attach_whatsapp_media(uuid, uuid, text) from public, anon, authenticated;
grant execute on function private.attach_whatsapp_media(uuid, uuid, text) to service_role;

-- A member sends a file of the workspace into a WhatsApp conversation.
create or replace function public.send_whatsapp_attachment(
  p_conversation_id uuid,
  p_object text,
  p_caption text default ''
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  conv public.conversations;
  message_id uuid;
begin
  select * into conv from public.conversations where id = p_conversation_id;
  if conv.id is null or not private.is_member(conv.tenant_id) then
    raise exception 'no such conversation' using errcode = '42501';
  end if;
  if conv.channel <> 'whatsapp' then
    raise exception 'files are sent this way only into WhatsApp conversations' using errcode = '22023';
  end if;
  insert into public.messages (conversation_id, role, content, author_id)
  values (conv.id, 'agent',
          left(coalesce(nullif(btrim(p_caption), ''), '[' || regexp_replace(p_object, '^.*/', '') || ']'), 1024),
          auth.uid())
  returning id into message_id;
  perform private.attach_whatsapp_media(message_id, conv.tenant_id, p_object);
  return message_id;
end;
$$;
comment on function public.send_whatsapp_attachment(uuid, text, text) is
  'Sends a file of the workspace (knowledge/<tenant_id>/… or attachments/<tenant_id>/…: a JPEG or PNG image up to 5 MB, audio or video up to 16 MB, a PDF, text or Office document up to 100 MB) into a WhatsApp conversation with an optional caption, as the calling member. Returns the message id.';
revoke all on function public.send_whatsapp_attachment(uuid, text, text) from public, anon;
grant execute on function public.send_whatsapp_attachment(uuid, text, text) to authenticated;
