-- Tenants, their staff, platform operators and plans.

create table public.plans (
  id text primary key,
  name text not null,
  stripe_price_id text unique,
  -- {"conversations_per_month": n, "messages_per_month": n, "documents": n, "seats": n,
  --  "retention_days": n, "tools": n}; a missing key means "no limit".
  limits jsonb not null default '{}'::jsonb,
  price_cents integer not null default 0 check (price_cents >= 0),
  currency text not null default 'usd',
  sort_order integer not null default 0,
  active boolean not null default true,
  created_at timestamptz not null default now()
);

insert into public.plans (id, name, limits, price_cents, sort_order) values
  ('free', 'Free',
   '{"conversations_per_month": 100, "messages_per_month": 1000, "documents": 20, "seats": 2, "retention_days": 30, "tools": 2}',
   0, 0),
  ('pro', 'Pro',
   '{"conversations_per_month": 5000, "messages_per_month": 50000, "documents": 500, "seats": 10, "retention_days": 90, "tools": 20}',
   4900, 1),
  ('business', 'Business',
   '{"conversations_per_month": 50000, "messages_per_month": 500000, "documents": 5000, "seats": 50, "retention_days": 365, "tools": 100}',
   29900, 2);

create table public.tenants (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) between 1 and 120),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  -- The only thing an embedding page needs; public by design, rotatable.
  widget_key text not null unique
    default 'pk_' || replace(gen_random_uuid()::text, '-', '')
    check (widget_key ~ '^pk_[A-Za-z0-9_]{8,64}$'),
  allowed_origins text[] not null default '{}',
  bot_engine text not null default 'ai' check (bot_engine in ('ai', 'n8n')),
  -- Widget look and bot persona: name, greeting (per locale), colors, locale, quick starts,
  -- system prompt, guardrails, pre-chat form.
  bot_config jsonb not null default '{}'::jsonb,
  -- provider, model, base_url, temperature; the API key lives in tenant_secrets.
  llm_config jsonb not null default '{}'::jsonb,
  n8n_webhook_url text,
  enforce_identity boolean not null default false,
  plan_id text not null default 'free' references public.plans (id),
  status text not null default 'active' check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger tenants_touch before update on public.tenants
  for each row execute function private.touch_updated_at();

-- Secrets are kept apart from tenants so that every member can read the tenant row while only
-- owners and admins see what could impersonate the tenant.
create table public.tenant_secrets (
  tenant_id uuid primary key references public.tenants (id) on delete cascade,
  -- HMAC key for identity verification: identityHash = hex(HMAC-SHA256(key, identifier)).
  identity_secret text not null default encode(extensions.gen_random_bytes(32), 'hex'),
  -- Signs the n8n relay and verifies /n8n-callback; the previous one stays valid until it expires.
  n8n_secret text not null default encode(extensions.gen_random_bytes(32), 'hex'),
  n8n_previous_secret text,
  n8n_previous_expires_at timestamptz,
  llm_api_key text,
  updated_at timestamptz not null default now()
);

create trigger tenant_secrets_touch before update on public.tenant_secrets
  for each row execute function private.touch_updated_at();

create table public.tenant_members (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'agent')),
  display_name text,
  avatar_url text,
  created_at timestamptz not null default now(),
  primary key (tenant_id, user_id)
);
create index tenant_members_user_idx on public.tenant_members (user_id);

create table public.platform_admins (
  user_id uuid primary key references auth.users (id) on delete cascade,
  created_at timestamptz not null default now()
);

-- Policy helpers. SECURITY DEFINER so a policy on one table can consult another without recursing
-- into that table's own policies; search_path = '' so nothing can be shadowed; STABLE so the
-- planner evaluates them once per statement when wrapped in a scalar subquery.

create or replace function private.is_platform_admin() returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (select 1 from public.platform_admins where user_id = (select auth.uid()))
$$;

create or replace function private.tenant_role(p_tenant_id uuid) returns text
language sql stable security definer
set search_path = ''
as $$
  select role from public.tenant_members
   where tenant_id = p_tenant_id and user_id = (select auth.uid())
$$;

create or replace function private.has_tenant_role(p_tenant_id uuid, p_roles text[]) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select coalesce(private.tenant_role(p_tenant_id) = any (p_roles), false)
$$;

create or replace function private.is_member(p_tenant_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select private.tenant_role(p_tenant_id) is not null
$$;

-- Tenants the caller belongs to, for set-based policies (`tenant_id in (select ...)`).
create or replace function private.member_tenant_ids(p_roles text[] default null) returns setof uuid
language sql stable security definer
set search_path = ''
as $$
  select tenant_id from public.tenant_members
   where user_id = (select auth.uid()) and (p_roles is null or role = any (p_roles))
$$;

grant execute on function
  private.is_platform_admin(),
  private.tenant_role(uuid),
  private.has_tenant_role(uuid, text[]),
  private.is_member(uuid),
  private.member_tenant_ids(text[])
to authenticated, service_role;

-- RLS -------------------------------------------------------------------------------------------
alter table public.plans enable row level security;
alter table public.tenants enable row level security;
alter table public.tenant_secrets enable row level security;
alter table public.tenant_members enable row level security;
alter table public.platform_admins enable row level security;

-- Plans are the price list for people choosing one: signed-in, non-anonymous users. Visitors
-- (anonymous users) read nothing but their own conversations; anon reads nothing.
create policy plans_select on public.plans for select to authenticated
  using (not coalesce(((select auth.jwt()) ->> 'is_anonymous')::boolean, false));

create policy tenants_select on public.tenants for select to authenticated
  using (private.is_member(id) or (select private.is_platform_admin()));
create policy tenants_update on public.tenants for update to authenticated
  using (private.has_tenant_role(id, array['owner', 'admin']))
  with check (private.has_tenant_role(id, array['owner', 'admin']));
-- Tenants are created by the signup flow and deleted by operators, both as the service role:
-- no API role inserts or deletes them.

-- The plan, status and widget key follow billing and operator decisions, never a member's edit.
revoke update on public.tenants from anon, authenticated;
grant update (name, allowed_origins, bot_engine, bot_config, llm_config, n8n_webhook_url,
  enforce_identity) on public.tenants to authenticated;

create policy tenant_secrets_select on public.tenant_secrets for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
create policy tenant_secrets_update on public.tenant_secrets for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- Every member sees the team; owners manage everyone, admins manage agents only.
create policy tenant_members_select on public.tenant_members for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy tenant_members_insert on public.tenant_members for insert to authenticated
  with check (
    private.has_tenant_role(tenant_id, array['owner'])
    or (role = 'agent' and private.has_tenant_role(tenant_id, array['admin']))
  );
create policy tenant_members_update on public.tenant_members for update to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner'])
    or (role = 'agent' and private.has_tenant_role(tenant_id, array['admin']))
  )
  with check (
    private.has_tenant_role(tenant_id, array['owner'])
    or (role = 'agent' and private.has_tenant_role(tenant_id, array['admin']))
  );
create policy tenant_members_delete on public.tenant_members for delete to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner'])
    or (role = 'agent' and private.has_tenant_role(tenant_id, array['admin']))
  );

-- A tenant always keeps at least one owner.
create or replace function private.keep_one_owner() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.role = 'owner'
     and (tg_op = 'DELETE' or new.role <> 'owner' or new.tenant_id <> old.tenant_id)
     and exists (select 1 from public.tenants where id = old.tenant_id)
     and not exists (
       select 1 from public.tenant_members
        where tenant_id = old.tenant_id and role = 'owner' and user_id <> old.user_id
     ) then
    raise exception 'a tenant must keep at least one owner' using errcode = 'P0001';
  end if;
  return coalesce(new, old);
end;
$$;

create trigger tenant_members_keep_owner
  before update or delete on public.tenant_members
  for each row execute function private.keep_one_owner();

-- Only platform admins see the list of platform admins; changes are made by the service role.
create policy platform_admins_select on public.platform_admins for select to authenticated
  using ((select private.is_platform_admin()));

-- Every tenant gets its secrets row.
create or replace function private.create_tenant_secrets() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.tenant_secrets (tenant_id) values (new.id) on conflict do nothing;
  return new;
end;
$$;

create trigger tenants_create_secrets after insert on public.tenants
  for each row execute function private.create_tenant_secrets();

create trigger tenant_secrets_same_tenant before update on public.tenant_secrets
  for each row execute function private.forbid_tenant_change();
create trigger tenant_members_same_tenant before update on public.tenant_members
  for each row execute function private.forbid_tenant_change();
