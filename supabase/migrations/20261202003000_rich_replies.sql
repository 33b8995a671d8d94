-- Rich replies: buttons (a link, or a postback the widget sends as the visitor's message) and
-- cards (image, title, text, buttons) under a bot or agent message. The widget renders them as
-- nodes, so like sources and quick replies their shape is checked where they are written: the
-- reply engine and n8n callbacks check them with zod first, staff writing through the Data API
-- meet this constraint.

-- A button: {label, url} with an http(s) url, or {label, payload}; never both.
create or replace function private.valid_rich_button(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'object'
     and jsonb_typeof(p -> 'label') = 'string'
     and length(p ->> 'label') between 1 and 80
     and case
       when p ? 'url' then not p ? 'payload'
         and jsonb_typeof(p -> 'url') = 'string'
         and length(p ->> 'url') <= 2048
         and p ->> 'url' ~* '^https?://[^\s]+$'
       when p ? 'payload' then jsonb_typeof(p -> 'payload') = 'string'
         and length(p ->> 'payload') between 1 and 200
       else false
     end
$$;

-- messages.rich: {buttons?: [button] (≤ 5), cards?: [{title, text?, image_url?, buttons?}] (≤ 10)}.
create or replace function private.valid_rich(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'object'
     and not exists (select 1 from jsonb_object_keys(p) as k where k not in ('buttons', 'cards'))
     and case jsonb_typeof(p -> 'buttons')
       when 'array' then jsonb_array_length(p -> 'buttons') <= 5 and not exists (
         select 1 from jsonb_array_elements(p -> 'buttons') as b where not private.valid_rich_button(b))
       else p -> 'buttons' is null
     end
     and case jsonb_typeof(p -> 'cards')
       when 'array' then jsonb_array_length(p -> 'cards') <= 10 and not exists (
         select 1 from jsonb_array_elements(p -> 'cards') as c
          where jsonb_typeof(c) <> 'object'
             or jsonb_typeof(c -> 'title') is distinct from 'string'
             or length(c ->> 'title') not between 1 and 120
             or coalesce(jsonb_typeof(c -> 'text'), 'string') <> 'string'
             or coalesce(length(c ->> 'text'), 0) > 1000
             or (c ? 'image_url' and (jsonb_typeof(c -> 'image_url') <> 'string'
                 or length(c ->> 'image_url') > 2048
                 or c ->> 'image_url' !~* '^https?://[^\s]+$'))
             or case jsonb_typeof(c -> 'buttons')
               when 'array' then jsonb_array_length(c -> 'buttons') > 3 or exists (
                 select 1 from jsonb_array_elements(c -> 'buttons') as b
                  where not private.valid_rich_button(b))
               else c -> 'buttons' is not null
             end
       )
       else p -> 'cards' is null
     end
$$;

comment on function private.valid_rich_button(jsonb) is
  'A rich-reply button: {label, url} with an http(s) url, or {label, payload}.';
comment on function private.valid_rich(jsonb) is
  'messages.rich as the widget renders it: at most 5 buttons and 10 cards {title, text?, image_url?, buttons? (at most 3)}.';

grant execute on function private.valid_rich_button(jsonb), private.valid_rich(jsonb)
  to authenticated, service_role;

alter table public.messages add column rich jsonb
  constraint messages_rich_shape check (rich is null or private.valid_rich(rich));

comment on column public.messages.rich is
  'Buttons and cards shown under a bot or agent message ({buttons?, cards?}), or null.';
comment on constraint messages_rich_shape on public.messages is
  'Rich replies the widget can render: http(s) links only, bounded lists and lengths.';

-- Messages have column-level SELECT grants (20261202000900): a new column is readable once granted.
grant select (rich) on public.messages to anon, authenticated;

-- A visitor writes plain text: buttons under its own message would be the visitor's words
-- dressed up as the tenant's.
create policy messages_rich_not_visitor on public.messages as restrictive for insert
  to authenticated with check (rich is null or role <> 'user');

comment on policy messages_rich_not_visitor on public.messages is
  'Only bot and staff messages carry buttons and cards.';

-- The realtime payload gains the column. The existing payload is kept under another name and
-- extended, so whatever else it carries stays as it is.
alter function private.message_event_payload(public.messages)
  rename to message_event_payload_before_rich;

create or replace function private.message_event_payload(m public.messages) returns jsonb
language sql stable
set search_path = ''
as $$
  select private.message_event_payload_before_rich(m) || jsonb_build_object('rich', m.rich)
$$;

comment on function private.message_event_payload_before_rich(public.messages) is
  'A message as the widget needs it, without its rich part (see private.message_event_payload).';
comment on function private.message_event_payload(public.messages) is
  'A message as the widget needs it (broadcast on conversation topics), rich replies included.';
