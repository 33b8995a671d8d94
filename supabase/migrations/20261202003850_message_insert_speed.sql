-- A message insert's triggers, cheaper, with the same results.
--
-- Postgres cannot inline a SQL function that sets search_path, so each call of one is planned
-- anew; a trigger or check constraint calls them once per row. The ones every message insert runs
-- (the WhatsApp test, the check constraints' shape tests, the broadcast payloads) are PL/pgSQL
-- now, whose plans are kept for the session. The analytics roll-up adds an inserted message to its
-- hour straight from the transition table: on insert there is no old side to build and unnest.

-- The role and privacy decide most messages without reading the conversation.
create or replace function private.goes_to_whatsapp(
  p_role text, p_private boolean, p_conversation_id uuid
) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  -- Its callers test it with IF, where a null (unknown role or privacy) was already a no.
  if p_role in ('assistant', 'agent') and not p_private then
    return exists (select 1 from public.conversations
                    where id = p_conversation_id and channel = 'whatsapp');
  end if;
  return false;
end;
$$;

create or replace function private.valid_attachments(
  p jsonb, p_tenant_id uuid, p_conversation_id uuid
) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return jsonb_typeof(p) = 'array'
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
     );
end;
$$;

create or replace function private.valid_sources(p jsonb) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return jsonb_typeof(p) = 'array'
     and jsonb_array_length(p) <= 20
     and not exists (
       select 1 from jsonb_array_elements(p) as s
        where jsonb_typeof(s) <> 'object'
           or coalesce(jsonb_typeof(s -> 'title'), 'null') not in ('string', 'null')
           or coalesce(jsonb_typeof(s -> 'url'), 'null') not in ('string', 'null')
           or length(s ->> 'title') > 500
           or length(s ->> 'url') > 2048
     );
end;
$$;

create or replace function private.is_text_list(p jsonb, p_max_items integer, p_max_length integer)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return jsonb_typeof(p) = 'array'
     and jsonb_array_length(p) <= p_max_items
     and not exists (
       select 1 from jsonb_array_elements(p) as e
        where jsonb_typeof(e) <> 'string' or length(e #>> '{}') not between 1 and p_max_length
     );
end;
$$;

create or replace function private.message_event_payload_before_attachments(m public.messages)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'id', m.id,
    'conversation_id', m.conversation_id,
    'role', m.role,
    'content', m.content,
    'quick_replies', m.quick_replies,
    'sources', m.sources,
    'status', m.status,
    'client_msg_id', m.client_msg_id,
    'author', (
      select jsonb_build_object('name', tm.display_name, 'avatar_url', tm.avatar_url)
        from public.tenant_members tm
       where tm.tenant_id = m.tenant_id and tm.user_id = m.author_id
    ),
    'feedback', m.feedback,
    'created_at', m.created_at,
    'updated_at', m.updated_at
  );
end;
$$;

create or replace function private.message_event_payload_before_rich(m public.messages)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.message_event_payload_before_attachments(m)
         || jsonb_build_object('attachments', m.attachments);
end;
$$;

create or replace function private.message_event_payload(m public.messages) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return private.message_event_payload_before_rich(m) || jsonb_build_object('rich', m.rich);
end;
$$;

create or replace function private.conversation_event_payload(c public.conversations)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'id', c.id,
    'tenant_id', c.tenant_id,
    'status', c.status,
    'channel', c.channel,
    'assignee_id', c.assignee_id,
    'contact_id', c.contact_id,
    'message_count', c.message_count,
    'unread_count', c.unread_count,
    'last_message_at', c.last_message_at,
    'csat', c.csat,
    'created_at', c.created_at,
    'updated_at', c.updated_at
  );
end;
$$;

-- As in 20261202003570, with inserts (by far the most common change) counted straight from the
-- transition table, the hour computed in place, and only the columns the counts need read.
create or replace function private.analytics_messages_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- A trigger only has the transition tables it declared; both sides of an edit or delete go
  -- through arrays so one statement serves them.
  added public.messages[] := '{}';
  removed public.messages[] := '{}';
  ids uuid[];
begin
  if tg_op = 'INSERT' then
    insert into public.analytics_hourly as h
      (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out,
       cost_usd)
    select n.tenant_id, pg_catalog.date_trunc('hour', n.created_at, 'UTC'),
           sum((n.role = 'user')::int)::int,
           sum((n.role = 'assistant')::int)::int,
           sum((n.role = 'agent' and not n.is_private)::int)::int,
           sum(n.tokens_in)::bigint,
           sum(n.tokens_out)::bigint,
           sum(n.cost_usd)
      from new_rows n
     where not exists (select 1 from private.analytics_conversations s
                        where s.conversation_id = n.conversation_id and s.playground)
       and exists (select 1 from public.tenants t where t.id = n.tenant_id)
     group by 1, 2
    having (sum((n.role = 'user')::int)::int, sum((n.role = 'assistant')::int)::int,
            sum((n.role = 'agent' and not n.is_private)::int)::int, sum(n.tokens_in)::bigint,
            sum(n.tokens_out)::bigint, sum(n.cost_usd))
           <> (0, 0, 0, 0::bigint, 0::bigint, 0::numeric)
     order by 1, 2
    on conflict (tenant_id, hour) do update
      set user_messages = h.user_messages + excluded.user_messages,
          bot_messages = h.bot_messages + excluded.bot_messages,
          agent_messages = h.agent_messages + excluded.agent_messages,
          tokens_in = h.tokens_in + excluded.tokens_in,
          tokens_out = h.tokens_out + excluded.tokens_out,
          cost_usd = h.cost_usd + excluded.cost_usd;

    select array_agg(distinct n.conversation_id) into ids
      from new_rows n
     where n.role = 'agent'
        or (n.role in ('user', 'assistant')
            and not exists (select 1 from public.messages m
                             where m.conversation_id = n.conversation_id and m.role = n.role
                               and m.created_at < n.created_at));
    perform private.analytics_refresh_conversations(ids);
    return null;
  end if;

  if tg_op = 'UPDATE' then
    added := array(select n from new_rows n);
  end if;
  removed := array(select o from old_rows o);
  with rows as (
    select 1 as sign, a.tenant_id, a.created_at, a.role, a.is_private, a.tokens_in, a.tokens_out,
           a.cost_usd, a.conversation_id
      from unnest(added) a
    union all
    select -1, r.tenant_id, r.created_at, r.role, r.is_private, r.tokens_in, r.tokens_out,
           r.cost_usd, r.conversation_id
      from unnest(removed) r
  ),
  sums as (
    select r.tenant_id, private.analytics_hour(r.created_at) as hour,
           sum(r.sign * (r.role = 'user')::int)::int as user_messages,
           sum(r.sign * (r.role = 'assistant')::int)::int as bot_messages,
           sum(r.sign * (r.role = 'agent' and not r.is_private)::int)::int as agent_messages,
           sum(r.sign * r.tokens_in)::bigint as tokens_in,
           sum(r.sign * r.tokens_out)::bigint as tokens_out,
           sum(r.sign * r.cost_usd) as cost_usd
      from rows r
     where not exists (select 1 from private.analytics_conversations s
                        where s.conversation_id = r.conversation_id and s.playground)
     group by 1, 2
  )
  insert into public.analytics_hourly as h
    (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
  select x.tenant_id, x.hour, x.user_messages, x.bot_messages, x.agent_messages, x.tokens_in,
         x.tokens_out, x.cost_usd
    from sums x
   where (x.user_messages, x.bot_messages, x.agent_messages, x.tokens_in, x.tokens_out, x.cost_usd)
         <> (0, 0, 0, 0::bigint, 0::bigint, 0::numeric)
     and exists (select 1 from public.tenants t where t.id = x.tenant_id)
   order by 1, 2
  on conflict (tenant_id, hour) do update
    set user_messages = h.user_messages + excluded.user_messages,
        bot_messages = h.bot_messages + excluded.bot_messages,
        agent_messages = h.agent_messages + excluded.agent_messages,
        tokens_in = h.tokens_in + excluded.tokens_in,
        tokens_out = h.tokens_out + excluded.tokens_out,
        cost_usd = h.cost_usd + excluded.cost_usd;

  if tg_op = 'UPDATE' then
    -- Receipts and text edits change no fact; an author, a note made visible, a new time or
    -- conversation may.
    select array_agg(distinct x.id) into ids
      from unnest(added) n join unnest(removed) o on o.id = n.id,
           lateral (values (n.conversation_id), (o.conversation_id)) x (id)
     where n.role is distinct from o.role
        or n.is_private is distinct from o.is_private
        or n.created_at is distinct from o.created_at
        or n.conversation_id is distinct from o.conversation_id;
  else
    select array_agg(distinct r.conversation_id) into ids
      from unnest(removed) r
     where r.role = 'agent'
        or (r.role in ('user', 'assistant')
            and not exists (select 1 from public.messages m
                             where m.conversation_id = r.conversation_id and m.role = r.role
                               and m.created_at < r.created_at));
  end if;
  perform private.analytics_refresh_conversations(ids);
  return null;
end;
$$;

-- An UPDATE runs the statement triggers of its table even when it changes no row: the visitor's
-- message looks for a resolved conversation before it reopens one.
create or replace function private.reopen_on_visitor_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.role = 'user' and exists (select 1 from public.conversations
                                    where id = new.conversation_id and status = 'resolved') then
    update public.conversations
       set status = case when assignee_id is null then 'handoff' else 'open' end
     where id = new.conversation_id and status = 'resolved';
  end if;
  return new;
end;
$$;

-- As in 20261202003550, except that an update which touches nothing the roll-ups record (the
-- message counters every message moves, read receipts) is done with after one look.
create or replace function private.analytics_conversations_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
  removed private.analytics_conversations[];
  added private.analytics_conversations[];
begin
  if tg_op = 'INSERT' then
    with made as (
      insert into private.analytics_conversations as s
        (conversation_id, tenant_id, created_at, playground)
      select n.id, n.tenant_id, n.created_at, n.playground_by is not null from new_rows n
      on conflict (conversation_id) do nothing
      returning s
    )
    select array(select m.s from made m) into added;
    perform private.analytics_count_conversations('{}', added);
    select array_agg(n.id) into ids from new_rows n;
    perform private.analytics_refresh_conversations(ids);
  elsif tg_op = 'DELETE' then
    with gone as (
      delete from private.analytics_conversations s
       using old_rows o
       where s.conversation_id = o.id
      returning s
    )
    select array(select g.s from gone g) into removed;
    perform private.analytics_count_conversations(removed, '{}');
  else
    select array_agg(n.id) into ids
      from new_rows n join old_rows o on o.id = n.id
     where n.handoff_at is distinct from o.handoff_at
        or n.assignee_id is distinct from o.assignee_id
        or n.status is distinct from o.status
        or n.resolved_at is distinct from o.resolved_at
        or n.csat is distinct from o.csat
        or n.tenant_id <> o.tenant_id or n.created_at <> o.created_at;
    if ids is null then
      return null;
    end if;
    -- A conversation moved in time or between tenants (imports, repairs): count it where it is
    -- now, its facts recounted below.
    if exists (select 1 from new_rows n join old_rows o on o.id = n.id
                where n.tenant_id <> o.tenant_id or n.created_at <> o.created_at) then
      with moved as (
        select n.id, n.tenant_id, n.created_at
          from new_rows n join old_rows o on o.id = n.id
         where n.tenant_id <> o.tenant_id or n.created_at <> o.created_at
      ),
      prior as (
        select s from private.analytics_conversations s join moved m on m.id = s.conversation_id
      ),
      now_at as (
        update private.analytics_conversations s
           set tenant_id = m.tenant_id, created_at = m.created_at, bot_only = false,
               assignee_id = null, handed_off = false, first_response_seconds = null,
               resolution_seconds = null, csat = null
          from moved m
         where s.conversation_id = m.id
        returning s
      )
      select array(select p.s from prior p), array(select x.s from now_at x) into removed, added;
      perform private.analytics_count_conversations(removed, added);
    end if;
    perform private.analytics_refresh_conversations(ids);
  end if;
  return null;
end;
$$;
