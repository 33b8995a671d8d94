-- Receiver-side dedupe of signed webhooks (X-Parley-Delivery). Senders retry a delivery with the
-- same id, so a receiver that records the id before acting performs each delivery once, however
-- many times it arrives.

create table public.webhook_receipts (
  delivery_id uuid primary key,
  -- Which endpoint received it (n8n-callback, …): for operators reading the table.
  source text not null check (length(source) between 1 and 64),
  tenant_id uuid references public.tenants (id) on delete cascade,
  received_at timestamptz not null default now()
);
create index webhook_receipts_received_idx on public.webhook_receipts (received_at);

-- Receipts are the service's bookkeeping: no API role reads or writes them, so RLS is on with no
-- policies, and the Data API roles lose the table privileges Supabase grants by default.
alter table public.webhook_receipts enable row level security;
revoke all on public.webhook_receipts from anon, authenticated, service_role;
grant select, insert, delete on public.webhook_receipts to service_role;

-- True the first time a delivery id is seen, false for every replay. The insert is the check, so
-- two concurrent arrivals of one delivery cannot both see true.
create or replace function private.record_webhook_delivery(
  p_delivery_id uuid, p_source text, p_tenant_id uuid default null
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.webhook_receipts (delivery_id, source, tenant_id)
  values (p_delivery_id, p_source, p_tenant_id)
  on conflict (delivery_id) do nothing;
  return found;
end;
$$;

-- A receipt only has to outlive the 5-minute signature window: after that the timestamp check
-- refuses a replay on its own. A day leaves ample room for slow retries and clock skew.
create or replace function private.prune_webhook_receipts(p_now timestamptz default now())
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  deleted bigint;
begin
  delete from public.webhook_receipts where received_at < p_now - interval '1 day';
  get diagnostics deleted = row_count;
  return deleted;
end;
$$;

grant execute on function
  private.record_webhook_delivery(uuid, text, uuid),
  private.prune_webhook_receipts(timestamptz)
to service_role;

-- Hourly, so the table stays around one day of deliveries.
select cron.schedule(
  'parley-webhook-receipts', '23 * * * *', 'select private.prune_webhook_receipts()'
);
