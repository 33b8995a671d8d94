-- Realtime: what each change broadcasts, and who may listen.
--
-- Topics (private channels only):
--   conversation:<uuid>  the conversation's visitor and its tenant's members
--   tenant:<uuid>:inbox  the tenant's members

-- A message as the widget needs it: never tokens or cost, and for a staff author only the name
-- and avatar the tenant chose to show, not the account behind them.
create or replace function private.message_event_payload(m public.messages) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
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
  )
$$;

create or replace function private.broadcast_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  event_name text := case when tg_op = 'INSERT' then 'message_created' else 'message_updated' end;
  body jsonb := private.message_event_payload(new);
begin
  if new.is_private then
    -- Staff notes go to staff only.
    perform realtime.send(body || jsonb_build_object('is_private', true), event_name,
      'tenant:' || new.tenant_id || ':inbox', true);
  else
    perform realtime.send(body, event_name, 'conversation:' || new.conversation_id, true);
  end if;
  return null;
end;
$$;

create trigger messages_broadcast after insert or update on public.messages
  for each row execute function private.broadcast_message();

create or replace function private.conversation_event_payload(c public.conversations) returns jsonb
language sql stable
set search_path = ''
as $$
  select jsonb_build_object(
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
  )
$$;

-- New conversations and handoffs reach the inbox; status changes reach the widget as well.
create or replace function private.broadcast_conversation() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  body jsonb := private.conversation_event_payload(new);
  inbox text := 'tenant:' || new.tenant_id || ':inbox';
begin
  if tg_op = 'INSERT' then
    perform realtime.send(body, 'conversation_created', inbox, true);
    return null;
  end if;

  if new.status is distinct from old.status then
    perform realtime.send(
      jsonb_build_object('id', new.id, 'status', new.status, 'previous_status', old.status),
      'status_changed', 'conversation:' || new.id, true);
    if new.status = 'handoff' then
      perform realtime.send(body, 'handoff', inbox, true);
    end if;
  end if;

  if new.status is distinct from old.status
     or new.assignee_id is distinct from old.assignee_id
     or new.last_message_at is distinct from old.last_message_at
     or new.csat is distinct from old.csat then
    perform realtime.send(body, 'conversation_updated', inbox, true);
  end if;
  return null;
end;
$$;

create trigger conversations_broadcast after insert or update on public.conversations
  for each row execute function private.broadcast_conversation();

-- Handoff bookkeeping kept next to the status it describes.
create or replace function private.conversation_status_times() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status then
    if new.status = 'handoff' then
      new.handoff_at := now();
    elsif new.status = 'resolved' then
      new.resolved_at := now();
    elsif old.status = 'resolved' then
      new.resolved_at := null;
    end if;
  end if;
  return new;
end;
$$;

create trigger conversations_status_times before update of status on public.conversations
  for each row execute function private.conversation_status_times();

-- May the caller use this realtime topic? The uuid is parsed defensively: a malformed topic is a
-- plain "no", never an error that would leak through the join reply.
create or replace function private.can_use_topic(p_topic text) returns boolean
language plpgsql stable security definer
set search_path = ''
as $$
declare
  parts text[];
  target uuid;
begin
  if p_topic is null then
    return false;
  end if;
  parts := string_to_array(p_topic, ':');
  if parts[2] !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    return false;
  end if;
  target := parts[2]::uuid;

  if parts[1] = 'conversation' and array_length(parts, 1) = 2 then
    return exists (
      select 1 from public.conversations c
       where c.id = target
         and (c.visitor_id = (select auth.uid()) or private.is_member(c.tenant_id))
    );
  elsif parts[1] = 'tenant' and array_length(parts, 1) = 3 and parts[3] = 'inbox' then
    return private.is_member(target);
  end if;
  return false;
end;
$$;

grant execute on function private.can_use_topic(text) to authenticated, service_role;

-- Receiving (select) and sending client broadcasts / presence (insert) use the same audience.
create policy parley_topics_receive on realtime.messages for select to authenticated
  using (
    realtime.messages.extension in ('broadcast', 'presence')
    and realtime.messages.topic = (select realtime.topic())
    and private.can_use_topic((select realtime.topic()))
  );

create policy parley_topics_send on realtime.messages for insert to authenticated
  with check (
    realtime.messages.extension in ('broadcast', 'presence')
    and realtime.messages.topic = (select realtime.topic())
    and private.can_use_topic((select realtime.topic()))
  );
