-- Signed webhooks move to Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature
-- "v1,<base64>"), whose secrets are written whsec_<base64 key>.
--
-- Existing secrets are converted so that the HMAC key stays the same bytes: whsec_ followed by the
-- base64 of the old secret's text. A receiver holding the old secret keeps its key; it only has to
-- verify the new way (any Standard Webhooks library takes the whsec_ form, or the old text as a
-- raw key).

create or replace function private.to_webhook_secret(p_secret text)
returns text
language sql
immutable
set search_path = ''
as $$
  select case
    when p_secret is null then null
    when p_secret ~ '^whsec_[A-Za-z0-9+/]+={0,2}$' then p_secret
    -- encode(…, 'base64') wraps lines every 76 characters; the key is one line.
    else 'whsec_' || translate(encode(convert_to(p_secret, 'UTF8'), 'base64'), E'\n', '')
  end
$$;

comment on function private.to_webhook_secret(text) is
  'A webhook secret in the whsec_<base64> form, with the same key bytes as the text given.';

-- Rows whose URL the outbound check refuses cannot be updated without fixing the URL; they are
-- never called either, and whoever fixes the URL sets a new secret with it.
update public.tenant_tools
   set secret = private.to_webhook_secret(secret),
       previous_secret = private.to_webhook_secret(previous_secret)
 where private.outbound_url_problem(webhook_url) is null;
update public.tenant_secrets
   set n8n_secret = private.to_webhook_secret(n8n_secret),
       n8n_previous_secret = private.to_webhook_secret(n8n_previous_secret);
update public.webhook_endpoints
   set secret = private.to_webhook_secret(secret)
 where private.outbound_url_problem(url) is null;

alter table public.tenant_tools
  alter column secret set default 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64');
alter table public.tenant_secrets
  alter column n8n_secret set default 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64');
alter table public.webhook_endpoints
  alter column secret set default 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64');

alter table public.tenant_tools
  add constraint tenant_tools_secret_format
  check (secret ~ '^whsec_[A-Za-z0-9+/]{22,}={0,2}$'
         and (previous_secret is null or previous_secret ~ '^whsec_[A-Za-z0-9+/]+={0,2}$'))
  not valid;
alter table public.tenant_secrets
  add constraint tenant_secrets_n8n_secret_format
  check (n8n_secret ~ '^whsec_[A-Za-z0-9+/]{22,}={0,2}$'
         and (n8n_previous_secret is null or n8n_previous_secret ~ '^whsec_[A-Za-z0-9+/]+={0,2}$'))
  not valid;
alter table public.webhook_endpoints
  add constraint webhook_endpoints_secret_format
  check (secret ~ '^whsec_[A-Za-z0-9+/]{22,}={0,2}$') not valid;

comment on constraint tenant_tools_secret_format on public.tenant_tools is
  'Standard Webhooks secrets: whsec_ and the base64 of a key of at least 16 bytes.';
comment on constraint tenant_secrets_n8n_secret_format on public.tenant_secrets is
  'Standard Webhooks secrets: whsec_ and the base64 of a key of at least 16 bytes.';
comment on constraint webhook_endpoints_secret_format on public.webhook_endpoints is
  'Standard Webhooks secrets: whsec_ and the base64 of a key of at least 16 bytes.';
comment on column public.tenant_tools.secret is
  'Signs each call to the tool (Standard Webhooks, whsec_<base64>); shown to owners and admins.';
comment on column public.tenant_tools.previous_secret is
  'The secret before the last rotation: calls are signed with it too until previous_secret_expires_at.';
comment on column public.tenant_secrets.n8n_secret is
  'Signs the n8n relay and verifies /n8n-callback (Standard Webhooks, whsec_<base64>).';
comment on column public.tenant_secrets.n8n_previous_secret is
  'The n8n secret before the last rotation: signs and verifies too until n8n_previous_expires_at.';

-- Receipts: the webhook-id is whatever the sender chose (n8n's own ids are not UUIDs), and one
-- tenant's ids must not be able to shadow another's, so an id is unique per endpoint and tenant.
alter table public.webhook_receipts drop constraint webhook_receipts_pkey;
alter table public.webhook_receipts alter column delivery_id type text;
alter table public.webhook_receipts
  add constraint webhook_receipts_delivery_id_length check (length(delivery_id) between 1 and 255);
create unique index webhook_receipts_once_idx on public.webhook_receipts
  (source, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), delivery_id);
comment on column public.webhook_receipts.delivery_id is
  'The signed webhook-id of a delivery received; unique per source and tenant.';

drop function private.record_webhook_delivery(uuid, text, uuid);

-- True the first time a webhook-id reaches an endpoint for a tenant, false for every replay. The
-- insert is the check, so two concurrent arrivals of one delivery cannot both see true.
create function private.record_webhook_delivery(
  p_webhook_id text, p_source text, p_tenant_id uuid default null
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.webhook_receipts (delivery_id, source, tenant_id)
  values (p_webhook_id, p_source, p_tenant_id)
  on conflict (source, coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), delivery_id)
  do nothing;
  return found;
end;
$$;

revoke execute on function private.record_webhook_delivery(text, text, uuid) from public;
grant execute on function private.record_webhook_delivery(text, text, uuid) to service_role;
