-- A workflow that answers the relay with 202 promises to call /n8n-callback. How long Parley waits
-- for that call before the visitor gets an answer from retrieval and the offer of a person is the
-- tenant's to choose: a quick lookup needs seconds, a human-in-the-loop workflow minutes.

alter table public.tenants
  add column n8n_callback_timeout_seconds integer not null default 60
    constraint tenants_n8n_callback_timeout_range
    check (n8n_callback_timeout_seconds between 5 and 3600);

comment on column public.tenants.n8n_callback_timeout_seconds is
  'Engine n8n: seconds after a 202 from the workflow before the visitor is answered without it (retrieval and the offer of a person). 5 to 3600, default 60.';

-- Owners and admins set it with the rest of the bot's settings; every member may read it, as the
-- other engine settings that are not connection details.
grant update (n8n_callback_timeout_seconds) on public.tenants to authenticated;
grant select (n8n_callback_timeout_seconds) on public.tenants to anon, authenticated;
