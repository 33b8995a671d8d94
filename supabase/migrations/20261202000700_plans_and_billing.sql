-- Plans as data, workspaces created by their owners, and the tenant's billing state as Stripe
-- reports it. Stripe price ids are configuration (STRIPE_PRICE_<PLAN>_<INTERVAL> of the billing
-- functions), not data: the same migrations serve test and live Stripe accounts.

-- Plans ----------------------------------------------------------------------------------------------

alter table public.plans
  add column price_yearly_cents integer not null default 0 check (price_yearly_cents >= 0);

comment on column public.plans.price_yearly_cents is
  'Yearly price in the smallest currency unit, shown next to price_cents (monthly); Stripe charges the configured price.';

-- Limits per key: bot_replies_per_month, conversations_per_month and crawl_pages are counted per
-- calendar month (UTC); documents, storage_mb, tools, seats and channels are what may exist at
-- once; retention_days is how long messages are kept. A missing key means no limit.
insert into public.plans (id, name, limits, price_cents, price_yearly_cents, sort_order, active)
values
  ('free', 'Free',
   '{"bot_replies_per_month": 200, "conversations_per_month": 100, "documents": 10, "storage_mb": 50,
     "tools": 2, "seats": 2, "channels": 1, "retention_days": 30, "crawl_pages": 50}',
   0, 0, 0, true),
  ('starter', 'Starter',
   '{"bot_replies_per_month": 2000, "conversations_per_month": 1000, "documents": 100, "storage_mb": 500,
     "tools": 5, "seats": 3, "channels": 1, "retention_days": 60, "crawl_pages": 500}',
   1900, 19000, 1, true),
  ('pro', 'Pro',
   '{"bot_replies_per_month": 10000, "conversations_per_month": 5000, "documents": 500, "storage_mb": 2000,
     "tools": 20, "seats": 10, "channels": 2, "retention_days": 90, "crawl_pages": 5000}',
   4900, 49000, 2, true),
  ('business', 'Business',
   '{"bot_replies_per_month": 100000, "conversations_per_month": 50000, "documents": 5000, "storage_mb": 20000,
     "tools": 100, "seats": 50, "channels": 2, "retention_days": 365, "crawl_pages": 50000}',
   29900, 299000, 3, true)
on conflict (id) do update
  set name = excluded.name,
      limits = excluded.limits,
      price_cents = excluded.price_cents,
      price_yearly_cents = excluded.price_yearly_cents,
      sort_order = excluded.sort_order,
      active = excluded.active;

-- Workspaces -----------------------------------------------------------------------------------------

alter table public.tenants
  add column website text check (website is null or (website ~* '^https?://' and length(website) <= 2048));

comment on column public.tenants.website is
  'The tenant''s own site as entered when the workspace was created; its origin seeds allowed_origins.';

grant update (website) on public.tenants to authenticated;

-- The origin (scheme://host[:port], lower case) of an http(s) URL, or null when it is not one.
create or replace function private.url_origin(p_url text) returns text
language sql immutable
set search_path = ''
as $$
  select lower(m[1] || '://' || m[2] || coalesce(m[3], ''))
    from regexp_match(
      btrim(p_url),
      '^(https?)://([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(:[0-9]{1,5})?(?:[/?#].*)?$',
      'i'
    ) as m
$$;

-- How many workspaces one person may own: enough for agencies and test workspaces, few enough that
-- a script cannot mint tenants (and widget keys) without bound.
create or replace function private.max_owned_workspaces() returns integer
language sql immutable
set search_path = ''
as $$ select 5 $$;

-- Creates a workspace for the signed-in (non-anonymous) caller, who becomes its owner, on the free
-- plan: widget key and identity secret by their column defaults and trigger, default bot settings,
-- an empty knowledge base, and the website's origin as the only allowed origin. Callable through
-- the Data API (supabase.rpc('create_workspace', {...})).
create or replace function public.create_workspace(
  p_name text, p_slug text, p_website text default null
) returns public.tenants
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  claims jsonb := (select auth.jwt());
  clean_name text := btrim(coalesce(p_name, ''));
  clean_slug text := lower(btrim(coalesce(p_slug, '')));
  clean_website text := nullif(btrim(coalesce(p_website, '')), '');
  origin text;
  owned integer;
  created public.tenants;
begin
  if caller is null or coalesce(claims ->> 'role', '') <> 'authenticated'
     or coalesce((claims ->> 'is_anonymous')::boolean, false) then
    raise exception 'Sign in with an account to create a workspace.' using errcode = '42501';
  end if;
  if length(clean_name) not between 1 and 120 then
    raise exception 'The name must be 1 to 120 characters.' using errcode = '22023';
  end if;
  if clean_slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' or length(clean_slug) < 2
     or clean_slug like '%--%' then
    raise exception 'The slug must be 2 to 63 lower-case letters, digits or single hyphens.'
      using errcode = '22023';
  end if;
  -- Names the platform uses in its own URLs and mail.
  if clean_slug in ('admin', 'api', 'app', 'auth', 'billing', 'docs', 'help', 'parley', 'rest',
                    'status', 'storage', 'support', 'www', 'widget', 'functions', 'realtime') then
    raise exception 'The slug "%" is reserved.', clean_slug using errcode = '22023';
  end if;
  if clean_website is not null then
    origin := private.url_origin(clean_website);
    if origin is null then
      raise exception 'The website must be an http(s) address.' using errcode = '22023';
    end if;
  end if;

  -- One creation at a time per person, so concurrent calls cannot both slip under the cap.
  perform pg_advisory_xact_lock(hashtextextended('create_workspace:' || caller::text, 0));
  select count(*) into owned from public.tenant_members where user_id = caller and role = 'owner';
  if owned >= private.max_owned_workspaces() then
    raise exception 'You already own % workspaces, the most one account may own.', owned
      using errcode = 'P0001', hint = 'workspace_limit';
  end if;

  begin
    insert into public.tenants (name, slug, website, allowed_origins, bot_config)
    values (
      clean_name, clean_slug, clean_website,
      case when origin is null then '{}'::text[] else array[origin] end,
      jsonb_build_object(
        'name', left(clean_name, 100) || ' assistant',
        'locale', 'en',
        'greeting', jsonb_build_object('en', 'Hi! How can we help you today?'),
        'color', '#2f6f4f',
        'position', 'right'
      )
    )
    returning * into created;
  exception when unique_violation then
    raise exception 'The slug "%" is taken.', clean_slug using errcode = '23505';
  end;
  insert into public.tenant_members (tenant_id, user_id, role) values (created.id, caller, 'owner');
  insert into public.subscriptions (tenant_id, plan_id, status) values (created.id, 'free', 'active');
  return created;
end;
$$;

revoke execute on function public.create_workspace(text, text, text) from public, anon;
grant execute on function public.create_workspace(text, text, text) to authenticated, service_role;

-- Notices --------------------------------------------------------------------------------------------

create table public.tenant_notices (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  kind text not null
    check (kind in ('quota_warning', 'quota_reached', 'payment_failed', 'plan_downgraded',
                    'plan_changed')),
  -- Makes a notice once-only: e.g. 'bot_replies_per_month:2026-12-01' for a quota in a period.
  dedupe_key text,
  data jsonb not null default '{}'::jsonb check (jsonb_typeof(data) = 'object'),
  created_at timestamptz not null default now(),
  read_at timestamptz,
  unique (tenant_id, kind, dedupe_key)
);
create index tenant_notices_tenant_idx on public.tenant_notices (tenant_id, created_at desc);

comment on table public.tenant_notices is
  'What the owners of a tenant are told in the admin: quota warnings (80 %) and limits reached, failed payments, plan changes.';
comment on column public.tenant_notices.id is 'Notice id.';
comment on column public.tenant_notices.tenant_id is 'The tenant told.';
comment on column public.tenant_notices.kind is
  'quota_warning, quota_reached, payment_failed, plan_downgraded or plan_changed.';
comment on column public.tenant_notices.dedupe_key is
  'Makes the notice once-only per key (a quota per period, a grace episode); null for notices that may repeat.';
comment on column public.tenant_notices.data is
  'Details for the admin: metric, used, limit, period, plan, grace_until, …';
comment on column public.tenant_notices.created_at is 'When the notice was raised.';
comment on column public.tenant_notices.read_at is 'When a member dismissed it; null while unread.';

alter table public.tenant_notices enable row level security;

create policy tenant_notices_select on public.tenant_notices for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
-- Owners and admins dismiss notices; nothing else about a notice is theirs to change.
create policy tenant_notices_update on public.tenant_notices for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
revoke insert, update, delete on public.tenant_notices from anon, authenticated;
grant update (read_at) on public.tenant_notices to authenticated;

create trigger tenant_notices_same_tenant before update on public.tenant_notices
  for each row execute function private.forbid_tenant_change();

-- The tenant webhook hook: every tenant-facing billing event goes through here. Until outgoing
-- tenant webhooks are delivered, it does nothing; their delivery replaces this body and keeps the
-- signature, so the callers below need no change.
create or replace function private.emit_tenant_event(
  p_tenant_id uuid, p_event text, p_data jsonb default '{}'::jsonb
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform p_tenant_id, p_event, p_data;
end;
$$;

-- Raises a notice once per dedupe key and sends the matching tenant event; true when it is new.
create or replace function private.raise_notice(
  p_tenant_id uuid, p_kind text, p_dedupe_key text, p_data jsonb default '{}'::jsonb
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.tenant_notices (tenant_id, kind, dedupe_key, data)
  values (p_tenant_id, p_kind, p_dedupe_key, coalesce(p_data, '{}'::jsonb))
  on conflict (tenant_id, kind, dedupe_key) do nothing;
  if not found then
    return false;
  end if;
  perform private.emit_tenant_event(p_tenant_id, 'billing.' || p_kind, coalesce(p_data, '{}'::jsonb));
  return true;
end;
$$;

-- Billing state ------------------------------------------------------------------------------------

alter table public.subscriptions
  add column stripe_price_id text,
  add column billing_interval text check (billing_interval in ('month', 'year')),
  add column grace_until timestamptz,
  add column synced_at timestamptz;

comment on column public.subscriptions.stripe_price_id is
  'The Stripe price of the subscription''s item, as Stripe last reported it.';
comment on column public.subscriptions.billing_interval is 'month or year, from that price.';
comment on column public.subscriptions.grace_until is
  'While a payment is failing (past_due or unpaid), the paid plan stays in force until then; afterwards the tenant is on free. Null otherwise.';
comment on column public.subscriptions.synced_at is
  'When the subscription was last read back from the Stripe API.';

-- Sets the tenant's billing state to what Stripe says the subscription is now. Called by the Stripe
-- webhook with the subscription it has just read from Stripe's API (never the event's copy), inside
-- one transaction that holds this row, so repeated and reordered deliveries all end in Stripe's
-- current state. p_plan_id is the plan of the subscription's price (null when the price is not
-- one of ours). tenants.plan_id is the plan in force; subscriptions.plan_id is the one paid for.
create or replace function private.apply_stripe_subscription(
  p_tenant_id uuid,
  p_customer_id text,
  p_subscription_id text,
  p_status text,
  p_plan_id text,
  p_price_id text,
  p_interval text,
  p_current_period_end timestamptz,
  p_cancel_at_period_end boolean,
  p_event_created timestamptz,
  p_grace interval default interval '7 days'
) returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  sub public.subscriptions;
  previous_plan text;
  paid_plan text := coalesce(p_plan_id, 'free');
  grace timestamptz;
  in_force text;
  live constant text[] := array['active', 'trialing', 'past_due', 'unpaid'];
begin
  insert into public.subscriptions (tenant_id) values (p_tenant_id) on conflict (tenant_id) do nothing;
  select * into sub from public.subscriptions where tenant_id = p_tenant_id for update;
  select plan_id into previous_plan from public.tenants where id = p_tenant_id for update;
  if previous_plan is null then
    return jsonb_build_object('applied', false, 'reason', 'unknown_tenant');
  end if;

  -- News of an older subscription never replaces a newer one that is still live (a second
  -- checkout, a replaced subscription being cancelled).
  if sub.stripe_subscription_id is not null and sub.stripe_subscription_id <> p_subscription_id
     and sub.status = any (live) and not (p_status = any (live)) then
    return jsonb_build_object('applied', false, 'reason', 'superseded', 'plan_id', previous_plan);
  end if;

  if p_status in ('past_due', 'unpaid') then
    -- The grace period starts at the first failure Parley learns of and is not extended by
    -- further reports of the same failure.
    grace := case when sub.status in ('past_due', 'unpaid') and sub.stripe_subscription_id = p_subscription_id
                  then coalesce(sub.grace_until, now() + p_grace)
                  else now() + p_grace end;
  end if;

  in_force := case
    when p_status in ('active', 'trialing') then paid_plan
    when p_status in ('past_due', 'unpaid') and grace > now() then paid_plan
    else 'free'
  end;

  update public.subscriptions
     set stripe_customer_id = coalesce(p_customer_id, stripe_customer_id),
         stripe_subscription_id = p_subscription_id,
         plan_id = paid_plan,
         status = p_status,
         stripe_price_id = p_price_id,
         billing_interval = p_interval,
         current_period_end = p_current_period_end,
         cancel_at_period_end = coalesce(p_cancel_at_period_end, false),
         grace_until = grace,
         last_event_at = greatest(last_event_at, p_event_created),
         synced_at = now()
   where tenant_id = p_tenant_id;

  if grace is not null and sub.grace_until is distinct from grace then
    perform private.raise_notice(p_tenant_id, 'payment_failed',
      p_subscription_id || ':' || grace::text,
      jsonb_build_object('plan_id', paid_plan, 'grace_until', grace, 'status', p_status));
  end if;
  if in_force is distinct from previous_plan then
    update public.tenants set plan_id = in_force where id = p_tenant_id;
    perform private.raise_notice(p_tenant_id,
      case when in_force = 'free' then 'plan_downgraded' else 'plan_changed' end,
      null,
      jsonb_build_object('from', previous_plan, 'to', in_force, 'status', p_status));
  end if;
  return jsonb_build_object('applied', true, 'plan_id', in_force, 'status', p_status,
                            'grace_until', grace);
end;
$$;

-- Tenants whose grace period ran out while a payment still fails go to the free plan. Run by
-- pg_cron; the subscription keeps Stripe's status, so a later payment (invoice.paid) restores the plan.
create or replace function private.expire_billing_grace(p_now timestamptz default now())
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  expired record;
  n integer := 0;
begin
  for expired in
    select s.tenant_id, t.plan_id, s.status, s.grace_until
      from public.subscriptions s join public.tenants t on t.id = s.tenant_id
     where s.status in ('past_due', 'unpaid') and s.grace_until <= p_now and t.plan_id <> 'free'
     for update of t
  loop
    update public.tenants set plan_id = 'free' where id = expired.tenant_id;
    perform private.raise_notice(expired.tenant_id, 'plan_downgraded', null,
      jsonb_build_object('from', expired.plan_id, 'to', 'free', 'status', expired.status,
                         'grace_until', expired.grace_until));
    n := n + 1;
  end loop;
  return n;
end;
$$;

-- Records a Stripe event id; true the first time (or while an earlier delivery left it
-- unprocessed), false once it has been applied.
create or replace function private.record_stripe_event(
  p_id text, p_type text, p_created timestamptz, p_payload jsonb
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.stripe_events (id, type, created_at, payload)
  values (p_id, p_type, p_created, p_payload)
  on conflict (id) do nothing;
  return found or exists (
    select 1 from public.stripe_events where id = p_id and processed_at is null
  );
end;
$$;

grant execute on function
  private.url_origin(text),
  private.max_owned_workspaces(),
  private.emit_tenant_event(uuid, text, jsonb),
  private.raise_notice(uuid, text, text, jsonb),
  private.apply_stripe_subscription(uuid, text, text, text, text, text, text, timestamptz, boolean,
                                    timestamptz, interval),
  private.expire_billing_grace(timestamptz),
  private.record_stripe_event(text, text, timestamptz, jsonb)
to service_role;

select cron.schedule('parley-billing-grace', '*/15 * * * *', 'select private.expire_billing_grace()');
