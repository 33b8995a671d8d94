-- Files a visitor sends with a message: objects it uploaded to the attachments bucket under its
-- own conversation's folder (<tenant_id>/<conversation_id>/…, see 20261202000100_storage.sql).
-- The message keeps what the widget, the admin and the bot need to name and fetch them; the bytes
-- stay in Storage, behind its policies.

-- attachments: [{path, name, type, size}] (at most 5), every path inside this message's own
-- conversation folder, so no message can point anyone at another conversation's files.
create or replace function private.valid_attachments(p jsonb, p_tenant_id uuid, p_conversation_id uuid)
returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'array'
     and jsonb_array_length(p) <= 5
     and not exists (
       select 1 from jsonb_array_elements(p) as a
        where jsonb_typeof(a) <> 'object'
           or jsonb_typeof(a -> 'path') is distinct from 'string'
           or jsonb_typeof(a -> 'name') is distinct from 'string'
           or jsonb_typeof(a -> 'type') is distinct from 'string'
           or jsonb_typeof(a -> 'size') is distinct from 'number'
           or length(a ->> 'name') not between 1 and 255
           or length(a ->> 'type') not between 1 and 100
           or (a ->> 'size')::numeric < 0
           or length(a ->> 'path') > 1024
           or position('..' in a ->> 'path') > 0
           or left(a ->> 'path', 74) <> p_tenant_id::text || '/' || p_conversation_id::text || '/'
           or length(a ->> 'path') <= 74
     )
$$;

-- What the bot reads for a message's files: their names, types and sizes, never their contents.
create or replace function private.attachment_note(p jsonb) returns text
language sql immutable
set search_path = ''
as $$
  select case when jsonb_typeof(p) = 'array' and jsonb_array_length(p) > 0 then
    '[The visitor attached: ' || (
      select string_agg(format('%s (%s, %s KB)', a ->> 'name', a ->> 'type',
                               ceil(coalesce((a ->> 'size')::numeric, 0) / 1024)), '; ')
        from jsonb_array_elements(p) as a
    ) || ']'
  end
$$;

comment on function private.valid_attachments(jsonb, uuid, uuid) is
  'messages.attachments as the widget and admin render it: at most 5 {path, name, type, size}, each path inside <tenant_id>/<conversation_id>/.';
comment on function private.attachment_note(jsonb) is
  'A line naming a message''s attachments (name, type, size) for the bot; null when there are none.';

grant execute on function private.valid_attachments(jsonb, uuid, uuid), private.attachment_note(jsonb)
  to authenticated, service_role;

alter table public.messages add column attachments jsonb not null default '[]'::jsonb
  constraint messages_attachments_shape
    check (private.valid_attachments(attachments, tenant_id, conversation_id));

comment on column public.messages.attachments is
  'Files sent with the message: [{path, name, type, size}] in the attachments bucket, under the conversation''s folder.';
comment on constraint messages_attachments_shape on public.messages is
  'At most 5 attachments, each a file of this message''s own conversation folder.';

-- Messages have column-level SELECT grants (20261202000900): a new column is readable once granted.
grant select (attachments) on public.messages to anon, authenticated;

-- The realtime payload gains the column; the existing payload is kept under another name and
-- extended, so whatever else it carries stays as it is.
alter function private.message_event_payload(public.messages)
  rename to message_event_payload_before_attachments;

create or replace function private.message_event_payload(m public.messages) returns jsonb
language sql stable
set search_path = ''
as $$
  select private.message_event_payload_before_attachments(m)
         || jsonb_build_object('attachments', m.attachments)
$$;

comment on function private.message_event_payload_before_attachments(public.messages) is
  'A message as the widget needs it, without its attachments (see private.message_event_payload).';
comment on function private.message_event_payload(public.messages) is
  'A message as the widget needs it (broadcast on conversation topics), attachments included.';
