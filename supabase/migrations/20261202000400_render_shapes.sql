-- The shapes of what the widget renders, checked where they are written.
--
-- Staff (through the Data API), n8n workflows and the reply engine write JSON that every visitor's
-- widget renders: a message's sources and quick replies, the bot's greeting, quick starts and
-- pre-chat form. One malformed value (a source title that is a list, a greeting that is a number)
-- used to be stored as is and break the view of every conversation showing it. The checks below
-- refuse it at the write (23514, a 400 through the Data API) instead. They are NOT VALID, so a
-- deployment with an old malformed row still migrates; new writes and updates are checked.

-- A list of at most p_max_items non-empty strings of at most p_max_length characters.
create or replace function private.is_text_list(p jsonb, p_max_items integer, p_max_length integer)
returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'array'
     and jsonb_array_length(p) <= p_max_items
     and not exists (
       select 1 from jsonb_array_elements(p) as e
        where jsonb_typeof(e) <> 'string' or length(e #>> '{}') not between 1 and p_max_length
     )
$$;

-- The tenant's own words: one string, or one per language ({"en": "…", "he": "…"}).
create or replace function private.is_localized_text(p jsonb, p_max_length integer)
returns boolean
language sql immutable
set search_path = ''
as $$
  select case jsonb_typeof(p)
    when 'string' then length(p #>> '{}') <= p_max_length
    when 'object' then not exists (
      select 1 from jsonb_each(p) as e
       where length(e.key) not between 2 and 16
          or jsonb_typeof(e.value) <> 'string'
          or length(e.value #>> '{}') > p_max_length
    )
    else false
  end
$$;

-- A list of strings, or one list per language.
create or replace function private.is_localized_list(p jsonb, p_max_items integer, p_max_length integer)
returns boolean
language sql immutable
set search_path = ''
as $$
  select case jsonb_typeof(p)
    when 'array' then private.is_text_list(p, p_max_items, p_max_length)
    when 'object' then not exists (
      select 1 from jsonb_each(p) as e
       where length(e.key) not between 2 and 16
          or not private.is_text_list(e.value, p_max_items, p_max_length)
    )
    else false
  end
$$;

-- messages.sources: [{title?, url?, …}]; the widget shows the title, links the url.
create or replace function private.valid_sources(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'array'
     and jsonb_array_length(p) <= 20
     and not exists (
       select 1 from jsonb_array_elements(p) as s
        where jsonb_typeof(s) <> 'object'
           or coalesce(jsonb_typeof(s -> 'title'), 'null') not in ('string', 'null')
           or coalesce(jsonb_typeof(s -> 'url'), 'null') not in ('string', 'null')
           or length(s ->> 'title') > 500
           or length(s ->> 'url') > 2048
     )
$$;

-- bot_config.prechat_form: {enabled?, fields?: [{name, label?, type?, required?}]}.
create or replace function private.valid_prechat_form(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'object'
     and coalesce(jsonb_typeof(p -> 'enabled'), 'boolean') = 'boolean'
     and case jsonb_typeof(p -> 'fields')
       when 'array' then jsonb_array_length(p -> 'fields') <= 20 and not exists (
         select 1 from jsonb_array_elements(p -> 'fields') as f
          where jsonb_typeof(f) <> 'object'
             or jsonb_typeof(f -> 'name') is distinct from 'string'
             or length(f ->> 'name') not between 1 and 64
             or (jsonb_typeof(f -> 'label') <> 'null'
                 and not private.is_localized_text(f -> 'label', 200))
             or coalesce(f ->> 'type', 'text') not in ('text', 'email')
             or coalesce(jsonb_typeof(f -> 'required'), 'boolean') <> 'boolean'
       )
       when 'null' then true
       else p -> 'fields' is null
     end
$$;

-- tenants.bot_config: what the widget shows of it has the shape the widget expects.
create or replace function private.valid_bot_config(p jsonb) returns boolean
language sql immutable
set search_path = ''
as $$
  select jsonb_typeof(p) = 'object'
     and (p -> 'greeting' is null or jsonb_typeof(p -> 'greeting') = 'null'
          or private.is_localized_text(p -> 'greeting', 2000))
     and (p -> 'quick_starts' is null or jsonb_typeof(p -> 'quick_starts') = 'null'
          or private.is_localized_list(p -> 'quick_starts', 10, 200))
     and (p -> 'prechat_form' is null or jsonb_typeof(p -> 'prechat_form') = 'null'
          or private.valid_prechat_form(p -> 'prechat_form'))
     and coalesce(jsonb_typeof(p -> 'name'), 'string') in ('string', 'null')
     and coalesce(length(p ->> 'name'), 0) <= 100
     and coalesce(jsonb_typeof(p -> 'color'), 'string') in ('string', 'null')
     and coalesce(jsonb_typeof(p -> 'font'), 'string') in ('string', 'null')
     and coalesce(jsonb_typeof(p -> 'avatar_url'), 'string') in ('string', 'null')
     and coalesce(p ->> 'position', 'right') in ('left', 'right')
$$;

comment on function private.is_text_list(jsonb, integer, integer) is
  'A JSON array of at most p_max_items strings of 1 to p_max_length characters.';
comment on function private.is_localized_text(jsonb, integer) is
  'A string, or an object of language code to string, each at most p_max_length characters.';
comment on function private.is_localized_list(jsonb, integer, integer) is
  'A text list, or an object of language code to text list.';
comment on function private.valid_sources(jsonb) is
  'messages.sources as the widget renders it: at most 20 objects whose title and url are strings when present.';
comment on function private.valid_prechat_form(jsonb) is
  'bot_config.prechat_form: {enabled?: boolean, fields?: [{name, label?, type?: text|email, required?: boolean}]}.';
comment on function private.valid_bot_config(jsonb) is
  'tenants.bot_config: greeting, quick starts, pre-chat form and the look have the shapes the widget renders.';

-- Constraints run as the writer: a visitor posting a message or an admin saving the bot's look.
grant execute on function
  private.is_text_list(jsonb, integer, integer),
  private.is_localized_text(jsonb, integer),
  private.is_localized_list(jsonb, integer, integer),
  private.valid_sources(jsonb),
  private.valid_prechat_form(jsonb),
  private.valid_bot_config(jsonb)
to authenticated, service_role;

alter table public.messages
  add constraint messages_sources_shape check (private.valid_sources(sources)) not valid,
  add constraint messages_quick_replies_shape
    check (private.is_text_list(quick_replies, 10, 200)) not valid;
alter table public.tenants
  add constraint tenants_bot_config_shape check (private.valid_bot_config(bot_config)) not valid;

comment on constraint messages_sources_shape on public.messages is
  'Sources the widget can render: objects with string title and url.';
comment on constraint messages_quick_replies_shape on public.messages is
  'Quick replies the widget can render: at most 10 strings of 1 to 200 characters.';
comment on constraint tenants_bot_config_shape on public.tenants is
  'Greeting, quick starts, pre-chat form and look in the shapes the widget renders.';
