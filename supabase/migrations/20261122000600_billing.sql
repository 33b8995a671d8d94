-- Stripe subscriptions, webhook idempotency, and daily usage.

create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null unique references public.tenants (id) on delete cascade,
  stripe_customer_id text unique,
  stripe_subscription_id text unique,
  plan_id text not null default 'free' references public.plans (id),
  status text not null default 'inactive'
    check (status in ('inactive', 'incomplete', 'incomplete_expired', 'trialing', 'active',
                      'past_due', 'canceled', 'unpaid', 'paused')),
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  -- Stripe's event.created of the last event applied: an older event never overwrites a newer one.
  last_event_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger subscriptions_touch before update on public.subscriptions
  for each row execute function private.touch_updated_at();

create table public.stripe_events (
  id text primary key check (id ~ '^evt_'),
  type text not null,
  created_at timestamptz not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  payload jsonb not null
);
create index stripe_events_received_idx on public.stripe_events (received_at);

create table public.usage_daily (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  day date not null,
  conversations_started integer not null default 0,
  user_messages integer not null default 0,
  bot_messages integer not null default 0,
  agent_messages integer not null default 0,
  tokens_in bigint not null default 0,
  tokens_out bigint not null default 0,
  cost_usd numeric(14, 6) not null default 0,
  tool_calls integer not null default 0,
  tool_failures integer not null default 0,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, day)
);

alter table public.subscriptions enable row level security;
alter table public.stripe_events enable row level security;
alter table public.usage_daily enable row level security;

-- Billing is the owners' and admins' business; it is written only by the Stripe webhook.
create policy subscriptions_select on public.subscriptions for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );

-- Raw Stripe payloads are for operators.
create policy stripe_events_select on public.stripe_events for select to authenticated
  using ((select private.is_platform_admin()));

create policy usage_daily_select on public.usage_daily for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));

create trigger subscriptions_same_tenant before update on public.subscriptions
  for each row execute function private.forbid_tenant_change();
create trigger usage_daily_same_tenant before update on public.usage_daily
  for each row execute function private.forbid_tenant_change();
