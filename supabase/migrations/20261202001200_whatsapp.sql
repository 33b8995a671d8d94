-- WhatsApp Cloud API: per-tenant connections, contacts keyed by wa_id, the wamid of every message
-- that crossed Meta's boundary (deduplication and delivery status), and the hook that sends bot
-- and agent messages of WhatsApp conversations through the job queue.

-- Contacts --------------------------------------------------------------------------------------

alter table public.contacts add column wa_id text check (wa_id ~ '^[0-9]{5,20}$');
create unique index contacts_wa_id_idx on public.contacts (tenant_id, wa_id) where wa_id is not null;
comment on column public.contacts.wa_id is
  'The WhatsApp id (phone number in international format, digits only) of a contact who wrote on WhatsApp; unique per tenant.';

-- Connections -----------------------------------------------------------------------------------

create table public.whatsapp_connections (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  label text not null default 'WhatsApp' check (length(label) between 1 and 100),
  phone_number_id text not null unique check (phone_number_id ~ '^[0-9]{1,30}$'),
  business_account_id text check (business_account_id ~ '^[0-9]{1,30}$'),
  access_token text not null check (length(access_token) between 1 and 1000),
  app_secret text not null check (length(app_secret) between 1 and 200),
  verify_token text not null check (length(verify_token) between 8 and 200),
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index whatsapp_connections_tenant_idx on public.whatsapp_connections (tenant_id);

comment on table public.whatsapp_connections is
  'A tenant''s WhatsApp Business phone number on the Cloud API. Its webhook URL is /functions/v1/whatsapp/<id>. The Meta identifiers and secrets are write-only: owners and admins set them, nobody reads them back through the API.';
comment on column public.whatsapp_connections.id is 'The connection; the last segment of its webhook URL.';
comment on column public.whatsapp_connections.tenant_id is 'The tenant the number answers for.';
comment on column public.whatsapp_connections.label is 'A name for the number shown in the admin.';
comment on column public.whatsapp_connections.phone_number_id is
  'Meta''s phone number id (WhatsApp → API Setup); messages are sent to /{phone_number_id}/messages. Write-only.';
comment on column public.whatsapp_connections.business_account_id is
  'The WhatsApp Business Account id that owns the number and its templates. Write-only.';
comment on column public.whatsapp_connections.access_token is
  'A system user''s permanent access token with whatsapp_business_messaging. Write-only.';
comment on column public.whatsapp_connections.app_secret is
  'The Meta app''s secret: X-Hub-Signature-256 of every webhook delivery is checked with it. Write-only.';
comment on column public.whatsapp_connections.verify_token is
  'The token typed into Meta''s webhook configuration, echoed in the GET handshake. Write-only.';
comment on column public.whatsapp_connections.enabled is 'Off: deliveries are refused and nothing is sent.';
comment on column public.whatsapp_connections.created_at is 'When the connection was added.';
comment on column public.whatsapp_connections.updated_at is 'When the connection last changed.';

create trigger whatsapp_connections_touch before update on public.whatsapp_connections
  for each row execute function private.touch_updated_at();

alter table public.whatsapp_connections enable row level security;

create policy whatsapp_connections_select on public.whatsapp_connections for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
create policy whatsapp_connections_insert on public.whatsapp_connections for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy whatsapp_connections_update on public.whatsapp_connections for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy whatsapp_connections_delete on public.whatsapp_connections for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- Column privileges make the settings write-only: a row policy cannot hide a column.
revoke all on public.whatsapp_connections from anon, authenticated;
grant select (id, tenant_id, label, enabled, created_at, updated_at)
  on public.whatsapp_connections to authenticated;
grant insert (tenant_id, label, phone_number_id, business_account_id, access_token, app_secret,
  verify_token, enabled) on public.whatsapp_connections to authenticated;
grant update (label, phone_number_id, business_account_id, access_token, app_secret, verify_token,
  enabled) on public.whatsapp_connections to authenticated;
grant delete on public.whatsapp_connections to authenticated;
grant all on public.whatsapp_connections to service_role;

-- A connection cannot be moved to another tenant.
create trigger whatsapp_connections_same_tenant before update on public.whatsapp_connections
  for each row execute function private.forbid_tenant_change();

-- Threads and wamids (service only) ---------------------------------------------------------------

create table private.whatsapp_threads (
  conversation_id uuid primary key references public.conversations (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  connection_id uuid not null references public.whatsapp_connections (id) on delete cascade,
  wa_id text not null,
  created_at timestamptz not null default now()
);
create index whatsapp_threads_lookup_idx on private.whatsapp_threads (connection_id, wa_id, created_at desc);
alter table private.whatsapp_threads enable row level security;
revoke all on private.whatsapp_threads from public, anon, authenticated;
grant all on private.whatsapp_threads to service_role;

comment on table private.whatsapp_threads is
  'Which connection and WhatsApp user a WhatsApp conversation belongs to: where its replies are sent from and to.';
comment on column private.whatsapp_threads.conversation_id is 'The conversation (channel whatsapp).';
comment on column private.whatsapp_threads.tenant_id is 'The conversation''s tenant.';
comment on column private.whatsapp_threads.connection_id is 'The number the customer wrote to.';
comment on column private.whatsapp_threads.wa_id is 'The customer''s WhatsApp id.';
comment on column private.whatsapp_threads.created_at is 'When the first message arrived.';

create table private.whatsapp_messages (
  wamid text primary key check (length(wamid) between 1 and 256),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  connection_id uuid not null references public.whatsapp_connections (id) on delete cascade,
  -- Null for a status that arrived before the send that produced the wamid was recorded.
  message_id uuid references public.messages (id) on delete cascade,
  direction text not null check (direction in ('in', 'out')),
  status text check (status in ('sent', 'delivered', 'read', 'failed')),
  errors jsonb not null default '[]'::jsonb check (jsonb_typeof(errors) = 'array'),
  media jsonb,
  status_at timestamptz,
  created_at timestamptz not null default now()
);
create unique index whatsapp_messages_message_idx on private.whatsapp_messages (message_id)
  where message_id is not null;
alter table private.whatsapp_messages enable row level security;
revoke all on private.whatsapp_messages from public, anon, authenticated;
grant all on private.whatsapp_messages to service_role;

comment on table private.whatsapp_messages is
  'Every wamid seen: an inbound message stored once however often Meta redelivers it, and the delivery status of what Parley sent.';
comment on column private.whatsapp_messages.wamid is 'Meta''s message id.';
comment on column private.whatsapp_messages.tenant_id is 'The tenant.';
comment on column private.whatsapp_messages.connection_id is 'The number it went through.';
comment on column private.whatsapp_messages.message_id is 'The Parley message, once known.';
comment on column private.whatsapp_messages.direction is 'in: from the customer; out: sent by Parley.';
comment on column private.whatsapp_messages.status is 'The furthest delivery status Meta reported for an outbound message.';
comment on column private.whatsapp_messages.errors is 'Meta''s errors [{code, title, message, ...}] when the status is failed.';
comment on column private.whatsapp_messages.media is
  'An inbound media message: {kind, id, mime_type, filename}, then storage_path once fetched into the attachments bucket.';
comment on column private.whatsapp_messages.status_at is 'When Meta says the status was reached.';
comment on column private.whatsapp_messages.created_at is 'When the wamid was first seen.';

-- Delivery status ----------------------------------------------------------------------------------
-- Meta's status webhooks may arrive in any order and more than once: a status only ever moves
-- forward (sent < delivered < read), and failed is final except that it never overrides read.

create or replace function private.whatsapp_status_rank(p_status text) returns integer
language sql immutable
set search_path = ''
as $$
  select case p_status
    when 'pending' then 0 when 'sent' then 1 when 'delivered' then 2 when 'read' then 3
    when 'failed' then 4 else -1 end
$$;
comment on function private.whatsapp_status_rank(text) is
  'Order of delivery statuses; a status only replaces a lower one.';

create or replace function private.whatsapp_status_advances(p_old text, p_new text) returns boolean
language sql immutable
set search_path = ''
as $$
  select p_old is null
      or (p_old <> 'read' and p_old <> 'failed'
          and private.whatsapp_status_rank(p_new) > private.whatsapp_status_rank(p_old))
$$;
comment on function private.whatsapp_status_advances(text, text) is
  'Whether a delivery status may replace the current one: forward only, read and failed are final.';

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
  row_now private.whatsapp_messages;
begin
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
end;
$$;
comment on function private.apply_whatsapp_status(text, uuid, uuid, text, jsonb, timestamptz, uuid) is
  'Records a delivery status (or the wamid of a send) and carries the furthest status to the message.';
revoke all on function private.apply_whatsapp_status(text, uuid, uuid, text, jsonb, timestamptz, uuid)
  from public, anon, authenticated;
grant execute on function private.apply_whatsapp_status(text, uuid, uuid, text, jsonb, timestamptz, uuid)
  to service_role;

-- Sending ----------------------------------------------------------------------------------------
-- A bot reply or an agent message in a WhatsApp conversation waits as pending until Meta takes it;
-- the send runs behind the conversation's other jobs, so replies leave in the order written.

create or replace function private.goes_to_whatsapp(
  p_role text, p_private boolean, p_conversation_id uuid
) returns boolean
language sql stable
security definer
set search_path = ''
as $$
  select p_role in ('assistant', 'agent') and not p_private and exists (
    select 1 from public.conversations where id = p_conversation_id and channel = 'whatsapp')
$$;
comment on function private.goes_to_whatsapp(text, boolean, uuid) is
  'Whether a message is one the customer receives on WhatsApp: a bot or agent message, not a private note, of a WhatsApp conversation.';

create or replace function private.whatsapp_outbound_pending() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if private.goes_to_whatsapp(new.role, new.is_private, new.conversation_id) then
    new.status := 'pending';
  end if;
  return new;
end;
$$;
comment on function private.whatsapp_outbound_pending() is
  'Marks a bot or agent message of a WhatsApp conversation pending until Meta accepts it.';

create trigger messages_whatsapp_pending before insert on public.messages
  for each row execute function private.whatsapp_outbound_pending();

create or replace function private.enqueue_whatsapp_send() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if private.goes_to_whatsapp(new.role, new.is_private, new.conversation_id) then
    perform private.enqueue_job(
      'whatsapp_send',
      jsonb_build_object('message_id', new.id, 'conversation_id', new.conversation_id),
      new.tenant_id,
      now(),
      'conversation:' || new.conversation_id,
      8,
      'whatsapp_send:' || new.id
    );
  end if;
  return null;
end;
$$;
comment on function private.enqueue_whatsapp_send() is
  'Queues the send to Meta of every bot or agent message (not private notes) of a WhatsApp conversation.';

create trigger messages_enqueue_whatsapp_send after insert on public.messages
  for each row execute function private.enqueue_whatsapp_send();

-- The customer-service window: 24 hours after the customer's last message, free-form messages may
-- be sent; after that only an approved template.
create or replace function public.whatsapp_window_closes_at(p_conversation_id uuid)
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
  select max(m.created_at) + interval '24 hours'
    from public.messages m
    join public.conversations c on c.id = m.conversation_id
   where m.conversation_id = p_conversation_id and m.role = 'user' and c.channel = 'whatsapp'
     and (private.is_member(c.tenant_id) or (select private.is_platform_admin())
          or (select auth.role()) = 'service_role')
$$;
comment on function public.whatsapp_window_closes_at(uuid) is
  'When the 24-hour customer-service window of a WhatsApp conversation closes (null: never opened); past it only a template may be sent. For the tenant''s members.';
revoke all on function public.whatsapp_window_closes_at(uuid) from public, anon;
grant execute on function public.whatsapp_window_closes_at(uuid) to authenticated, service_role;

-- Customers' WhatsApp media land in the attachments bucket: voice notes, videos and documents
-- join the types the widget already uploads.
update storage.buckets
   set allowed_mime_types = array(
     select distinct unnest(coalesce(allowed_mime_types, '{}') || array[
       'audio/ogg', 'audio/mpeg', 'audio/aac', 'audio/amr', 'audio/mp4', 'video/mp4', 'video/3gpp'])
     order by 1)
 where id = 'attachments';
