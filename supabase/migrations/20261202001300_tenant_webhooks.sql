-- Outgoing tenant webhooks: conversation and billing events posted to a tenant's endpoints,
-- signed per Standard Webhooks, delivered through the job queue with its backoff.
--
-- An event becomes one delivery row per subscribed endpoint, in the same transaction as the change
-- that caused it, so an event is never sent for a change that rolled back nor lost for one that
-- committed. The row's id is the webhook-id: every retry and every manual redelivery of it carries
-- the same id, so a receiver that dedupes on it acts once.

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  event text not null check (event ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  response_code integer,
  latency_ms integer check (latency_ms >= 0),
  last_error text check (length(last_error) <= 1000),
  redeliveries integer not null default 0 check (redeliveries >= 0),
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_deliveries_tenant_created_idx
  on public.webhook_deliveries (tenant_id, created_at desc);
create index webhook_deliveries_endpoint_created_idx
  on public.webhook_deliveries (endpoint_id, created_at desc);
create index webhook_deliveries_created_idx on public.webhook_deliveries (created_at);

create trigger webhook_deliveries_touch before update on public.webhook_deliveries
  for each row execute function private.touch_updated_at();
create trigger webhook_deliveries_same_tenant before update on public.webhook_deliveries
  for each row execute function private.forbid_tenant_change();

comment on table public.webhook_deliveries is
  'The delivery log of outgoing tenant webhooks: one row per event and endpoint; its id is the webhook-id sent with every attempt.';
comment on column public.webhook_deliveries.id is
  'The delivery''s webhook-id, the same on every retry and redelivery.';
comment on column public.webhook_deliveries.tenant_id is 'The tenant whose event this is.';
comment on column public.webhook_deliveries.endpoint_id is 'The endpoint it is sent to.';
comment on column public.webhook_deliveries.event is
  'The event type, such as conversation.created or csat.submitted.';
comment on column public.webhook_deliveries.payload is
  'The body posted: {type, timestamp, data}.';
comment on column public.webhook_deliveries.status is
  'pending (queued or between retries), succeeded (a 2xx answer) or failed (out of attempts, or refused).';
comment on column public.webhook_deliveries.attempts is 'Requests made so far, redeliveries included.';
comment on column public.webhook_deliveries.response_code is
  'The HTTP status of the last attempt; null when it got no answer.';
comment on column public.webhook_deliveries.latency_ms is 'How long the last attempt took.';
comment on column public.webhook_deliveries.last_error is
  'Why the last attempt failed; null after a success.';
comment on column public.webhook_deliveries.redeliveries is 'Manual redeliveries asked for.';
comment on column public.webhook_deliveries.last_attempt_at is 'When the last attempt finished.';
comment on column public.webhook_deliveries.delivered_at is 'When an attempt first succeeded.';
comment on column public.webhook_deliveries.created_at is 'When the event happened.';
comment on column public.webhook_deliveries.updated_at is 'Last change to this row.';

-- Owners and admins read the log (it carries message text, as the transcript does); only the
-- service writes it, and redelivery goes through redeliver_webhook.
alter table public.webhook_deliveries enable row level security;
revoke all on public.webhook_deliveries from anon, authenticated;
grant select on public.webhook_deliveries to authenticated;

create policy webhook_deliveries_select on public.webhook_deliveries for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );

-- The job that sends one delivery. Attempts spread over about half an hour (2 s doubling); a
-- receiver down for longer is served by redelivery.
create or replace function private.enqueue_webhook_delivery(p_delivery_id uuid, p_tenant_id uuid,
                                                            p_round integer)
returns bigint
language sql
security definer
set search_path = ''
as $$
  select private.enqueue_job(
    'tenant_webhook',
    jsonb_build_object('delivery_id', p_delivery_id),
    p_tenant_id,
    now(),
    null,
    10,
    'tenant_webhook:' || p_delivery_id || ':' || p_round
  )
$$;

-- The hook the billing notices already call; now it sends. Endpoints subscribe by event name or
-- '*'; a disabled endpoint gets nothing, not even a row.
create or replace function private.emit_tenant_event(
  p_tenant_id uuid, p_event text, p_data jsonb default '{}'::jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  delivery record;
begin
  for delivery in
    insert into public.webhook_deliveries (tenant_id, endpoint_id, event, payload)
    select e.tenant_id, e.id, p_event,
           jsonb_build_object(
             'type', p_event,
             'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'data', coalesce(p_data, '{}'::jsonb))
      from public.webhook_endpoints e
     where e.tenant_id = p_tenant_id
       and e.enabled
       and (p_event = any (e.events) or '*' = any (e.events))
    returning id, tenant_id
  loop
    perform private.enqueue_webhook_delivery(delivery.id, delivery.tenant_id, 0);
  end loop;
end;
$$;

-- What receivers see of a conversation: its state, never the visitor's auth identity.
create or replace function private.webhook_conversation(c public.conversations) returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'id', c.id,
    'tenant_id', c.tenant_id,
    'channel', c.channel,
    'status', c.status,
    'assignee_id', c.assignee_id,
    'contact_id', c.contact_id,
    'locale', c.locale,
    'page_url', c.page_url,
    'identity_verified', c.identity_verified,
    'created_at', c.created_at,
    'handoff_at', c.handoff_at,
    'resolved_at', c.resolved_at
  )
$$;

create or replace function private.conversation_webhook_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation jsonb;
begin
  -- Most tenants have no endpoint: no payload is built for them.
  if not exists (select 1 from public.webhook_endpoints where tenant_id = new.tenant_id and enabled) then
    return null;
  end if;
  conversation := private.webhook_conversation(new);
  if tg_op = 'INSERT' then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.created',
                                      jsonb_build_object('conversation', conversation));
    if new.status = 'handoff' then
      perform private.emit_tenant_event(new.tenant_id, 'conversation.handoff',
                                        jsonb_build_object('conversation', conversation));
    end if;
    return null;
  end if;
  if new.status = 'handoff' and old.status is distinct from 'handoff' then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.handoff',
                                      jsonb_build_object('conversation', conversation));
  end if;
  if new.assignee_id is not null and new.assignee_id is distinct from old.assignee_id then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.assigned',
                                      jsonb_build_object('conversation', conversation,
                                                         'previous_assignee_id', old.assignee_id));
  end if;
  if new.status = 'resolved' and old.status is distinct from 'resolved' then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.resolved',
                                      jsonb_build_object('conversation', conversation));
  end if;
  if new.csat is not null and (new.csat is distinct from old.csat
                               or new.csat_comment is distinct from old.csat_comment) then
    perform private.emit_tenant_event(new.tenant_id, 'csat.submitted',
                                      jsonb_build_object('conversation', conversation,
                                                         'rating', new.csat,
                                                         'comment', new.csat_comment));
  end if;
  return null;
end;
$$;

create trigger conversations_webhook_insert after insert on public.conversations
  for each row execute function private.conversation_webhook_events();
create trigger conversations_webhook_update after update on public.conversations
  for each row
  when (old.status is distinct from new.status
        or old.assignee_id is distinct from new.assignee_id
        or old.csat is distinct from new.csat
        or old.csat_comment is distinct from new.csat_comment)
  execute function private.conversation_webhook_events();

-- Internal notes stay internal; system lines are the platform's own bookkeeping.
create or replace function private.message_webhook_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.webhook_endpoints where tenant_id = new.tenant_id and enabled) then
    return null;
  end if;
  perform private.emit_tenant_event(new.tenant_id, 'message.created', jsonb_build_object(
    'message', jsonb_build_object(
      'id', new.id,
      'conversation_id', new.conversation_id,
      'role', new.role,
      'content', new.content,
      'author_id', new.author_id,
      'created_at', new.created_at)));
  return null;
end;
$$;

create trigger messages_webhook_insert after insert on public.messages
  for each row
  when (not new.is_private and new.role <> 'system')
  execute function private.message_webhook_events();

-- Sends a delivery again, with its webhook-id, whatever its state: owners and admins of its tenant.
create or replace function public.redeliver_webhook(p_delivery_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  d public.webhook_deliveries;
begin
  select * into d from public.webhook_deliveries where id = p_delivery_id for update;
  if not found or not private.has_tenant_role(d.tenant_id, array['owner', 'admin']) then
    raise exception 'no such delivery' using errcode = '42501';
  end if;
  update public.webhook_deliveries
     set status = 'pending', redeliveries = redeliveries + 1
   where id = d.id;
  perform private.enqueue_webhook_delivery(d.id, d.tenant_id, d.redeliveries + 1);
end;
$$;

comment on function public.redeliver_webhook(uuid) is
  'Queues a delivery again with the same webhook-id; owners and admins of its tenant.';

revoke execute on function
  private.enqueue_webhook_delivery(uuid, uuid, integer),
  private.webhook_conversation(public.conversations),
  private.conversation_webhook_events(),
  private.message_webhook_events(),
  public.redeliver_webhook(uuid)
from public, anon;
grant execute on function public.redeliver_webhook(uuid) to authenticated, service_role;
grant execute on function private.enqueue_webhook_delivery(uuid, uuid, integer) to service_role;

-- The log keeps a month: enough to look into a failure and redeliver, not an archive of messages.
select cron.schedule(
  'parley-webhook-deliveries', '41 3 * * *',
  $$delete from public.webhook_deliveries where created_at < now() - interval '30 days'$$
);
