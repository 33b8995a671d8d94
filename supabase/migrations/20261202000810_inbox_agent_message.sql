-- post_agent_message answers with the message's public columns only. Returning the whole row
-- needed SELECT on every column of messages, and what a reply cost (tokens, cost, model) is
-- withheld from the API roles (*_column_privileges.sql): staff posting a message got a refusal.
drop function public.post_agent_message(uuid, text, boolean, text);

create function public.post_agent_message(
  p_conversation_id uuid,
  p_content text,
  p_private boolean default false,
  p_client_msg_id text default null
) returns table (
  id uuid,
  conversation_id uuid,
  role text,
  content text,
  is_private boolean,
  author_id uuid,
  client_msg_id text,
  created_at timestamptz
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
  body text := btrim(coalesce(p_content, ''));
  stored uuid;
begin
  if body = '' or length(body) > 20000 then
    raise exception 'a message has 1 to 20000 characters' using errcode = '22023';
  end if;
  if p_client_msg_id is not null then
    select m.id into stored from public.messages m
     where m.conversation_id = c.id and m.client_msg_id = p_client_msg_id;
  end if;
  if stored is null then
    -- A person answering the visitor is working the conversation: it is taken from the bot or the
    -- queue, and reopened if it was resolved. A note changes nothing.
    if not coalesce(p_private, false) and (c.status <> 'open' or c.assignee_id is null) then
      update public.conversations
         set status = 'open', assignee_id = coalesce(assignee_id, (select auth.uid()))
       where public.conversations.id = c.id;
    end if;
    insert into public.messages as m
           (conversation_id, role, content, is_private, author_id, client_msg_id)
    values (c.id, 'agent', body, coalesce(p_private, false), (select auth.uid()), p_client_msg_id)
    returning m.id into stored;
  end if;
  return query
    select m.id, m.conversation_id, m.role, m.content, m.is_private, m.author_id,
           m.client_msg_id, m.created_at
      from public.messages m
     where m.id = stored;
end;
$$;

comment on function public.post_agent_message(uuid, text, boolean, text) is
  'Posts a staff reply (visible to the visitor, and taking the conversation over) or an internal note (p_private); idempotent on p_client_msg_id.';

revoke execute on function public.post_agent_message(uuid, text, boolean, text) from public, anon;
grant execute on function public.post_agent_message(uuid, text, boolean, text)
  to authenticated, service_role;
