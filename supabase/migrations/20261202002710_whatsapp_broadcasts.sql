-- WhatsApp broadcasts: an approved template sent to the contacts of a segment who opted in and
-- never opted out, through the job queue at the number's throughput, with each recipient's
-- delivery status carried from Meta's status webhooks. Opting out (STOP and its equivalents) is
-- recorded on the contact and honoured by every later broadcast.

-- Consent ---------------------------------------------------------------------------------------

alter table public.contacts
  add column whatsapp_opt_in_at timestamptz,
  add column whatsapp_opted_out_at timestamptz;
comment on column public.contacts.whatsapp_opt_in_at is
  'When the contact agreed to receive WhatsApp broadcasts (recorded by staff or a flow, or by the customer writing START); null: never, and no broadcast reaches them.';
comment on column public.contacts.whatsapp_opted_out_at is
  'When the contact opted out of WhatsApp broadcasts (STOP or an equivalent); only the customer lifts it, by writing START. No broadcast reaches them meanwhile.';

-- Staff may record consent, never undo a customer's opt-out: that is the customer's word alone.
create or replace function private.keep_whatsapp_opt_out() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.whatsapp_opted_out_at is distinct from old.whatsapp_opted_out_at
     and coalesce(auth.role(), '') <> 'service_role'
     and current_user not in ('postgres', 'service_role') then
    raise exception 'an opt-out is changed only by the customer' using errcode = '42501';
  end if;
  return new;
end;
$$;
comment on function private.keep_whatsapp_opt_out() is
  'Refuses changes to contacts.whatsapp_opted_out_at by anyone but the service acting on the customer''s own message.';
create trigger contacts_keep_whatsapp_opt_out before update of whatsapp_opted_out_at on public.contacts
  for each row execute function private.keep_whatsapp_opt_out();

-- Broadcasts ------------------------------------------------------------------------------------

create table public.whatsapp_broadcasts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  connection_id uuid not null references public.whatsapp_connections (id) on delete cascade,
  template_id uuid not null references public.whatsapp_templates (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  variables text[] not null default '{}',
  segment jsonb not null default '{}'::jsonb check (jsonb_typeof(segment) = 'object'),
  messages_per_second integer not null default 80 check (messages_per_second between 1 and 1000),
  status text not null default 'scheduled'
    check (status in ('scheduled', 'sending', 'paused', 'completed', 'stopped')),
  stopped_reason text,
  scheduled_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index whatsapp_broadcasts_tenant_idx on public.whatsapp_broadcasts (tenant_id, created_at desc);

comment on table public.whatsapp_broadcasts is
  'A campaign: one approved template sent to the opted-in contacts of a segment, throttled to the number''s throughput. Created, paused and resumed through RPCs by owners and admins.';
comment on column public.whatsapp_broadcasts.id is 'The broadcast.';
comment on column public.whatsapp_broadcasts.tenant_id is 'The tenant.';
comment on column public.whatsapp_broadcasts.connection_id is 'The number it is sent from.';
comment on column public.whatsapp_broadcasts.template_id is 'The approved template sent.';
comment on column public.whatsapp_broadcasts.name is 'A name for the admin.';
comment on column public.whatsapp_broadcasts.variables is 'The values of the template body''s {{1}}, {{2}}… for every recipient.';
comment on column public.whatsapp_broadcasts.segment is
  'Which contacts: {"attributes": {...}} (contacts whose attributes contain these), {} for every opted-in contact with a WhatsApp id.';
comment on column public.whatsapp_broadcasts.messages_per_second is
  'The sending rate; Meta''s default throughput per number is 80 messages per second.';
comment on column public.whatsapp_broadcasts.status is
  'scheduled (waiting for scheduled_at), sending, paused, completed, or stopped (see stopped_reason).';
comment on column public.whatsapp_broadcasts.stopped_reason is 'Why it stopped early (an expired token, a disabled connection).';
comment on column public.whatsapp_broadcasts.scheduled_at is 'When sending starts.';
comment on column public.whatsapp_broadcasts.started_at is 'When the first message left.';
comment on column public.whatsapp_broadcasts.finished_at is 'When every recipient had its outcome.';
comment on column public.whatsapp_broadcasts.created_by is 'The member who created it.';
comment on column public.whatsapp_broadcasts.created_at is 'When it was created.';
comment on column public.whatsapp_broadcasts.updated_at is 'When it last changed.';

create trigger whatsapp_broadcasts_touch before update on public.whatsapp_broadcasts
  for each row execute function private.touch_updated_at();

create table public.whatsapp_broadcast_recipients (
  broadcast_id uuid not null references public.whatsapp_broadcasts (id) on delete cascade,
  contact_id uuid not null references public.contacts (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  wa_id text not null,
  status text not null default 'queued'
    check (status in ('queued', 'sending', 'sent', 'delivered', 'read', 'replied', 'failed', 'skipped')),
  reason text,
  wamid text unique,
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  sent_at timestamptz,
  updated_at timestamptz not null default now(),
  primary key (broadcast_id, contact_id)
);
create index whatsapp_broadcast_recipients_queue_idx on public.whatsapp_broadcast_recipients
  (broadcast_id, next_attempt_at) where status = 'queued';
create index whatsapp_broadcast_recipients_wa_idx on public.whatsapp_broadcast_recipients
  (tenant_id, wa_id) where status in ('sent', 'delivered', 'read');

comment on table public.whatsapp_broadcast_recipients is
  'One contact of a broadcast and what became of its message: queued, sending, sent, delivered, read, replied, failed (with reason) or skipped (opted out).';
comment on column public.whatsapp_broadcast_recipients.broadcast_id is 'The broadcast.';
comment on column public.whatsapp_broadcast_recipients.contact_id is 'The contact.';
comment on column public.whatsapp_broadcast_recipients.tenant_id is 'The tenant.';
comment on column public.whatsapp_broadcast_recipients.wa_id is 'The WhatsApp id it is sent to.';
comment on column public.whatsapp_broadcast_recipients.status is
  'Moves forward only: queued → sending → sent → delivered → read → replied; failed and skipped are final.';
comment on column public.whatsapp_broadcast_recipients.reason is 'Why it failed or was skipped.';
comment on column public.whatsapp_broadcast_recipients.wamid is 'Meta''s id of the message, once accepted.';
comment on column public.whatsapp_broadcast_recipients.attempts is 'Sends tried (Meta''s rate limits are retried).';
comment on column public.whatsapp_broadcast_recipients.next_attempt_at is 'When a queued recipient may be tried (again).';
comment on column public.whatsapp_broadcast_recipients.sent_at is 'When Meta accepted the message.';
comment on column public.whatsapp_broadcast_recipients.updated_at is 'When the status last changed.';

-- Owners and admins read them; every change goes through the RPCs below or the service.
alter table public.whatsapp_broadcasts enable row level security;
alter table public.whatsapp_broadcast_recipients enable row level security;
create policy whatsapp_broadcasts_select on public.whatsapp_broadcasts for select to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin'])
         or (select private.is_platform_admin()));
create policy whatsapp_broadcast_recipients_select on public.whatsapp_broadcast_recipients
  for select to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin'])
         or (select private.is_platform_admin()));
revoke all on public.whatsapp_broadcasts, public.whatsapp_broadcast_recipients from anon, authenticated;
grant select on public.whatsapp_broadcasts, public.whatsapp_broadcast_recipients to authenticated;
grant all on public.whatsapp_broadcasts, public.whatsapp_broadcast_recipients to service_role;

-- Recipient status: forward only, whatever order Meta's webhooks come in.
create or replace function private.broadcast_status_advances(p_old text, p_new text) returns boolean
language sql immutable
set search_path = ''
as $$
  select case
    when p_old in ('failed', 'skipped', 'replied') then false
    when p_new = 'failed' then p_old in ('queued', 'sending', 'sent', 'delivered')
    else (case p_new when 'sent' then 1 when 'delivered' then 2 when 'read' then 3
                     when 'replied' then 4 else -1 end)
       > (case p_old when 'sent' then 1 when 'delivered' then 2 when 'read' then 3 else 0 end)
  end
$$;
comment on function private.broadcast_status_advances(text, text) is
  'Whether a broadcast recipient''s status may replace the current one: forward only; failed, skipped and replied are final.';

-- Creating, pausing, resuming ---------------------------------------------------------------------

create or replace function public.create_whatsapp_broadcast(
  p_template_id uuid,
  p_name text,
  p_variables text[] default '{}',
  p_segment jsonb default '{}'::jsonb,
  p_scheduled_at timestamptz default null,
  p_messages_per_second integer default 80
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  tpl public.whatsapp_templates;
  body text;
  wanted integer;
  broadcast_id uuid;
  attrs jsonb := coalesce(p_segment -> 'attributes', '{}'::jsonb);
begin
  select * into tpl from public.whatsapp_templates where id = p_template_id;
  if tpl.id is null or not private.has_tenant_role(tpl.tenant_id, array['owner', 'admin']) then
    raise exception 'only the workspace''s owners and admins send broadcasts' using errcode = '42501';
  end if;
  if tpl.status <> 'APPROVED' then
    raise exception 'the template is %, not APPROVED', tpl.status using errcode = '22023';
  end if;
  if jsonb_typeof(coalesce(p_segment, '{}'::jsonb)) <> 'object' or jsonb_typeof(attrs) <> 'object'
     or exists (select 1 from jsonb_object_keys(coalesce(p_segment, '{}'::jsonb)) k where k <> 'attributes') then
    raise exception 'the segment is {"attributes": {...}}' using errcode = '22023';
  end if;
  select c ->> 'text' into body from jsonb_array_elements(tpl.components) c
   where upper(c ->> 'type') = 'BODY';
  select coalesce(max((m[1])::integer), 0) into wanted
    from regexp_matches(coalesce(body, ''), '\{\{([0-9]+)\}\}', 'g') as m;
  if coalesce(array_length(p_variables, 1), 0) <> wanted then
    raise exception 'the template takes % variable(s)', wanted using errcode = '22023';
  end if;

  insert into public.whatsapp_broadcasts
    (tenant_id, connection_id, template_id, name, variables, segment, messages_per_second,
     scheduled_at, created_by)
  values (tpl.tenant_id, tpl.connection_id, tpl.id, p_name, coalesce(p_variables, '{}'),
          coalesce(p_segment, '{}'::jsonb), coalesce(p_messages_per_second, 80),
          coalesce(p_scheduled_at, now()), auth.uid())
  returning id into broadcast_id;
  insert into public.whatsapp_broadcast_recipients (broadcast_id, contact_id, tenant_id, wa_id)
  select broadcast_id, k.id, k.tenant_id, k.wa_id
    from public.contacts k
   where k.tenant_id = tpl.tenant_id and k.wa_id is not null
     and k.whatsapp_opt_in_at is not null and k.whatsapp_opted_out_at is null
     and k.attributes @> attrs;
  perform private.enqueue_job('whatsapp_broadcast', jsonb_build_object('broadcast_id', broadcast_id),
    tpl.tenant_id, coalesce(p_scheduled_at, now()), 'broadcast:' || broadcast_id, 10, null);
  return broadcast_id;
end;
$$;
comment on function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer) is
  'Creates a broadcast of an APPROVED template (with its body variables) to the opted-in, not opted-out contacts of a segment, sent from scheduled_at (default now). Owners and admins only. Returns its id.';
revoke all on function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer) from public, anon;
grant execute on function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer) to authenticated;

create or replace function public.set_whatsapp_broadcast_paused(p_broadcast_id uuid, p_paused boolean)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  b public.whatsapp_broadcasts;
begin
  select * into b from public.whatsapp_broadcasts where id = p_broadcast_id for update;
  if b.id is null or not private.has_tenant_role(b.tenant_id, array['owner', 'admin']) then
    raise exception 'no such broadcast' using errcode = '42501';
  end if;
  if p_paused and b.status in ('scheduled', 'sending') then
    update public.whatsapp_broadcasts set status = 'paused' where id = b.id;
    return 'paused';
  end if;
  if not p_paused and b.status = 'paused' then
    update public.whatsapp_broadcasts
       set status = case when started_at is null then 'scheduled' else 'sending' end
     where id = b.id;
    perform private.enqueue_job('whatsapp_broadcast', jsonb_build_object('broadcast_id', b.id),
      b.tenant_id, greatest(now(), b.scheduled_at), 'broadcast:' || b.id, 10, null);
    return 'resumed';
  end if;
  return b.status;
end;
$$;
comment on function public.set_whatsapp_broadcast_paused(uuid, boolean) is
  'Pauses a scheduled or sending broadcast, or resumes a paused one where it stopped. Owners and admins only. Returns what happened.';
revoke all on function public.set_whatsapp_broadcast_paused(uuid, boolean) from public, anon;
grant execute on function public.set_whatsapp_broadcast_paused(uuid, boolean) to authenticated;

create or replace function public.whatsapp_broadcast_summary(p_broadcast_id uuid) returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select jsonb_build_object(
           'status', b.status, 'stopped_reason', b.stopped_reason,
           'total', count(r.contact_id),
           'queued', count(*) filter (where r.status in ('queued', 'sending')),
           'sent', count(*) filter (where r.status = 'sent'),
           'delivered', count(*) filter (where r.status = 'delivered'),
           'read', count(*) filter (where r.status = 'read'),
           'replied', count(*) filter (where r.status = 'replied'),
           'failed', count(*) filter (where r.status = 'failed'),
           'skipped', count(*) filter (where r.status = 'skipped'))
    from public.whatsapp_broadcasts b
    left join public.whatsapp_broadcast_recipients r on r.broadcast_id = b.id
   where b.id = p_broadcast_id
     and (private.has_tenant_role(b.tenant_id, array['owner', 'admin'])
          or (select private.is_platform_admin()) or (select auth.role()) = 'service_role')
   group by b.id
$$;
comment on function public.whatsapp_broadcast_summary(uuid) is
  'A broadcast''s counts per recipient status (queued counts those being sent), with its own status; null for a broadcast the caller may not see.';
revoke all on function public.whatsapp_broadcast_summary(uuid) from public, anon;
grant execute on function public.whatsapp_broadcast_summary(uuid) to authenticated, service_role;

-- Statuses from Meta reach broadcast recipients too -------------------------------------------------

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
  fail_reason text;
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
  if row_now.status is not null then
    select string_agg(
             concat_ws(' ', e ->> 'code', coalesce(e ->> 'title', e ->> 'message'),
                       nullif('(' || (e -> 'error_data' ->> 'details') || ')', '()')),
             '; ')
      into fail_reason
      from jsonb_array_elements(row_now.errors) e;
    update public.whatsapp_broadcast_recipients r
       set status = row_now.status,
           reason = case when row_now.status = 'failed'
                         then coalesce(fail_reason, 'Meta reported a failure') else r.reason end,
           updated_at = now()
     where r.wamid = p_wamid and r.tenant_id = p_tenant_id
       and private.broadcast_status_advances(r.status, row_now.status);
  end if;
  if row_now.message_id is not null and row_now.status is not null then
    update public.messages m set status = row_now.status
     where m.id = row_now.message_id
       and m.status is distinct from row_now.status
       and (m.status = 'pending' or private.whatsapp_status_advances(m.status, row_now.status));
  end if;
  -- Once per message: when it is first known to be failed and to be this message.
  if row_now.status = 'failed' and row_now.message_id is not null
     and not (before_status is not distinct from 'failed' and before_message is not null) then
    insert into public.messages (conversation_id, role, content, is_private)
    select m.conversation_id, 'system',
           left('Not delivered on WhatsApp: ' || coalesce(fail_reason, 'Meta reported a failure'), 20000),
           true
      from public.messages m where m.id = row_now.message_id;
  end if;
end;
$$;
comment on function private.apply_whatsapp_status(text, uuid, uuid, text, jsonb, timestamptz, uuid) is
  'Records a delivery status (or the wamid of a send), carries the furthest status to the message or broadcast recipient, and notes a failure with Meta''s error codes in the conversation once.';
