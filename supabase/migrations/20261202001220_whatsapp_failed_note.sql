-- A message Meta reports as failed (after accepting it) tells the inbox why, in a private note,
-- as a refused send already does: the error codes are not left in a table agents cannot read.

create or replace function private.apply_whatsapp_status(
  p_wamid text,
  p_tenant_id uuid,
  p_connection_id uuid,
  p_status text,
  p_errors jsonb,
  p_at timestamptz,
  p_message_id uuid default null
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  before_status text;
  before_message uuid;
  row_now private.whatsapp_messages;
  reason text;
begin
  select status, message_id into before_status, before_message
    from private.whatsapp_messages where wamid = p_wamid for update;
  insert into private.whatsapp_messages as w
      (wamid, tenant_id, connection_id, message_id, direction, status, errors, status_at)
  values (p_wamid, p_tenant_id, p_connection_id, p_message_id, 'out', p_status,
          coalesce(p_errors, '[]'::jsonb), p_at)
  on conflict (wamid) do update
     set message_id = coalesce(w.message_id, excluded.message_id),
         status = case when private.whatsapp_status_advances(w.status, excluded.status)
                       then excluded.status else w.status end,
         errors = case when private.whatsapp_status_advances(w.status, excluded.status)
                       then excluded.errors else w.errors end,
         status_at = case when private.whatsapp_status_advances(w.status, excluded.status)
                          then excluded.status_at else w.status_at end
   where w.direction = 'out' and w.tenant_id = excluded.tenant_id
  returning * into row_now;
  if row_now.message_id is not null and row_now.status is not null then
    update public.messages m set status = row_now.status
     where m.id = row_now.message_id
       and m.status is distinct from row_now.status
       and (m.status = 'pending' or private.whatsapp_status_advances(m.status, row_now.status));
  end if;
  -- Once per message: when it is first known to be failed and to be this message.
  if row_now.status = 'failed' and row_now.message_id is not null
     and not (before_status is not distinct from 'failed' and before_message is not null) then
    select string_agg(
             concat_ws(' ', e ->> 'code', coalesce(e ->> 'title', e ->> 'message'),
                       nullif('(' || (e -> 'error_data' ->> 'details') || ')', '()')),
             '; ')
      into reason
      from jsonb_array_elements(row_now.errors) e;
    insert into public.messages (conversation_id, role, content, is_private)
    select m.conversation_id, 'system',
           left('Not delivered on WhatsApp: ' || coalesce(reason, 'Meta reported a failure'), 20000),
           true
      from public.messages m where m.id = row_now.message_id;
  end if;
end;
$$;
comment on function private.apply_whatsapp_status(text, uuid, uuid, text, jsonb, timestamptz, uuid) is
  'Records a delivery status (or the wamid of a send), carries the furthest status to the message, and notes a failure with Meta''s error codes in the conversation once.';
