-- Staff typing reaches the visitor. The conversation's topic is receive-only for clients, so the
-- admin asks the database to say it: the caller must work the conversation's tenant, and the name
-- shown is the one the tenant gave that member, never one the client sent.
create or replace function public.send_agent_typing(p_conversation_id uuid, p_typing boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  tenant uuid;
  shown text;
begin
  select c.tenant_id into tenant from public.conversations c where c.id = p_conversation_id;
  if tenant is null or not private.is_member(tenant) then
    raise exception 'only the tenant''s staff can type in this conversation' using errcode = '42501';
  end if;
  select tm.display_name into shown from public.tenant_members tm
   where tm.tenant_id = tenant and tm.user_id = (select auth.uid());
  perform realtime.send(
    jsonb_build_object(
      'conversation_id', p_conversation_id,
      'typing', coalesce(p_typing, false),
      'by', 'agent',
      'name', shown
    ),
    'typing',
    'conversation:' || p_conversation_id,
    true
  );
end;
$$;

comment on function public.send_agent_typing(uuid, boolean) is
  'Tells the conversation''s visitor (and staff watching it) that the calling staff member is typing, under the name the tenant shows for them.';

revoke execute on function public.send_agent_typing(uuid, boolean) from public, anon;
grant execute on function public.send_agent_typing(uuid, boolean) to authenticated, service_role;
