-- Staff compose buttons and cards in the inbox: post_agent_message takes the rich part with the
-- text. The messages_rich_shape constraint would refuse a bad one anyway; it is checked here first
-- so the inbox hears why in words (22023) rather than as a failed insert. A note is for staff only
-- and never carries buttons the visitor would not see.
drop function public.post_agent_message(uuid, text, boolean, text);

create function public.post_agent_message(
  p_conversation_id uuid,
  p_content text,
  p_private boolean default false,
  p_client_msg_id text default null,
  p_rich jsonb default null
) returns table (
  id uuid,
  conversation_id uuid,
  role text,
  content text,
  is_private boolean,
  author_id uuid,
  client_msg_id text,
  created_at timestamptz,
  rich jsonb
)
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
  body text := btrim(coalesce(p_content, ''));
  extra jsonb := case when p_rich = '{}'::jsonb or jsonb_typeof(p_rich) = 'null' then null else p_rich end;
  stored uuid;
begin
  if body = '' or length(body) > 20000 then
    raise exception 'a message has 1 to 20000 characters' using errcode = '22023';
  end if;
  if extra is not null and coalesce(p_private, false) then
    raise exception 'an internal note has no buttons or cards' using errcode = '22023';
  end if;
  if extra is not null and not private.valid_rich(extra) then
    raise exception 'buttons and cards: at most 5 buttons and 10 cards of at most 3 buttons, labels up to 80 characters, titles up to 120, text up to 1000, payloads up to 200, links and pictures http(s) only'
      using errcode = '22023';
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
           (conversation_id, role, content, is_private, author_id, client_msg_id, rich)
    values (c.id, 'agent', body, coalesce(p_private, false), (select auth.uid()), p_client_msg_id,
            extra)
    returning m.id into stored;
  end if;
  return query
    select m.id, m.conversation_id, m.role, m.content, m.is_private, m.author_id,
           m.client_msg_id, m.created_at, m.rich
      from public.messages m
     where m.id = stored;
end;
$$;

comment on function public.post_agent_message(uuid, text, boolean, text, jsonb) is
  'Posts a staff reply (visible to the visitor, taking the conversation over, optionally with buttons and cards in p_rich) or an internal note (p_private); idempotent on p_client_msg_id.';

revoke execute on function public.post_agent_message(uuid, text, boolean, text, jsonb)
  from public, anon;
grant execute on function public.post_agent_message(uuid, text, boolean, text, jsonb)
  to authenticated, service_role;
