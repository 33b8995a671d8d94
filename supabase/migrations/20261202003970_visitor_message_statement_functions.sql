-- POST /chat/messages's statements as functions, so their plans are kept for the session: the
-- visitor's conversation, a message already stored under the same client_msg_id, the tenant's
-- status and identity rule, and the message's insert. Sent as statements of their own they were
-- parsed, analysed (row policies included) and planned anew for every message, on the local
-- database (unnamed statements) and on a hosted project alike (the transaction pooler is used
-- without prepared statements). Each body is the statement the endpoint sent, with the same
-- columns. The visitor's ones run with the caller's rights, so row level security decides exactly
-- as before; the check runs for the service role.

create or replace function private.visitor_conversation(p_conversation_id uuid)
returns table (
  id uuid,
  tenant_id uuid,
  status text,
  identity_verified boolean,
  locale text,
  created_at timestamptz,
  staff_read_at timestamptz
)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query
  select c.id, c.tenant_id, c.status, c.identity_verified, c.locale, c.created_at, c.staff_read_at
    from public.conversations c
   where c.id = p_conversation_id;
end;
$$;

revoke all on function private.visitor_conversation(uuid) from public, anon, authenticated;
grant execute on function private.visitor_conversation(uuid) to authenticated;

comment on function private.visitor_conversation(uuid) is
  'The conversation the chat API acts on, as far as the caller''s row policies let it be read (a visitor: only their own); runs with the caller''s rights.';

create or replace function private.visitor_message_by_client_id(p_conversation_id uuid, p_client_msg_id text)
returns table (
  id uuid,
  conversation_id uuid,
  role text,
  content text,
  attachments jsonb,
  quick_replies jsonb,
  sources jsonb,
  rich jsonb,
  status text,
  client_msg_id text,
  feedback smallint,
  created_at timestamptz,
  updated_at timestamptz,
  author jsonb
)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query
  select m.id, m.conversation_id, m.role, m.content, m.attachments, m.quick_replies, m.sources,
         m.rich, m.status, m.client_msg_id, m.feedback, m.created_at, m.updated_at,
         (select jsonb_build_object('name', tm.display_name, 'avatar_url', tm.avatar_url)
            from public.tenant_members tm
           where tm.tenant_id = m.tenant_id and tm.user_id = m.author_id)
    from public.messages m
   where m.conversation_id = p_conversation_id and m.client_msg_id = p_client_msg_id;
end;
$$;

revoke all on function private.visitor_message_by_client_id(uuid, text) from public, anon, authenticated;
grant execute on function private.visitor_message_by_client_id(uuid, text) to authenticated;

comment on function private.visitor_message_by_client_id(uuid, text) is
  'The message stored in the conversation under this client_msg_id, with the chat API''s columns, as far as the caller''s row policies let it be read; runs with the caller''s rights.';

create or replace function private.visitor_post_message(
  p_conversation_id uuid,
  p_content text,
  p_client_msg_id text,
  p_attachments jsonb
)
returns table (
  id uuid,
  conversation_id uuid,
  role text,
  content text,
  attachments jsonb,
  quick_replies jsonb,
  sources jsonb,
  rich jsonb,
  status text,
  client_msg_id text,
  feedback smallint,
  created_at timestamptz,
  updated_at timestamptz,
  author jsonb
)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query
  insert into public.messages as m (conversation_id, role, content, client_msg_id, attachments)
  values (p_conversation_id, 'user', p_content, p_client_msg_id, p_attachments)
  on conflict on constraint messages_conversation_id_client_msg_id_key do nothing
  returning m.id, m.conversation_id, m.role, m.content, m.attachments, m.quick_replies, m.sources,
            m.rich, m.status, m.client_msg_id, m.feedback, m.created_at, m.updated_at,
            (select jsonb_build_object('name', tm.display_name, 'avatar_url', tm.avatar_url)
               from public.tenant_members tm
              where tm.tenant_id = m.tenant_id and tm.user_id = m.author_id);
end;
$$;

revoke all on function private.visitor_post_message(uuid, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.visitor_post_message(uuid, text, text, jsonb) to authenticated;

comment on function private.visitor_post_message(uuid, text, text, jsonb) is
  'Inserts the caller''s message into the conversation, nothing when its client_msg_id is already stored there, and returns it with the chat API''s columns; runs with the caller''s rights, so the row policies decide who may post.';

create or replace function private.visitor_post_check(p_conversation_id uuid)
returns table (reason text, enforce boolean)
language plpgsql
stable
set search_path = ''
as $$
begin
  -- A playground conversation is the tenant's own staff trying the bot: no identity to verify.
  return query
  select private.quota_exceeded(t.id), t.enforce_identity and c.playground_by is null
    from public.conversations c
    join public.tenants t on t.id = c.tenant_id
   where c.id = p_conversation_id;
end;
$$;

revoke all on function private.visitor_post_check(uuid) from public, anon, authenticated;
grant execute on function private.visitor_post_check(uuid) to service_role;

comment on function private.visitor_post_check(uuid) is
  'Why the conversation''s tenant takes no message now (a quota, a suspended tenant) or null, and whether it asks for a verified identity; for the service role.';
