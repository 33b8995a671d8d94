-- The bot's tools (n8n workflows), their audit trail, and tenants' outgoing event webhooks.

-- The global catalog: what a tool is for and the JSON schema of its arguments.
create table public.tools (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z][a-z0-9_]{1,63}$'),
  name text not null,
  description text not null default '',
  parameters jsonb not null default '{"type": "object", "properties": {}}'::jsonb
    check (jsonb_typeof(parameters) = 'object'),
  created_at timestamptz not null default now()
);

create table public.tenant_tools (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tool_id uuid references public.tools (id) on delete set null,
  -- The name the model calls; unique per tenant.
  name text not null check (name ~ '^[a-zA-Z][a-zA-Z0-9_-]{0,63}$'),
  description text not null default '',
  enabled boolean not null default true,
  webhook_url text not null check (webhook_url ~ '^https?://'),
  -- Signs each call (X-Parley-Signature); the previous secret stays valid until it expires so a
  -- workflow can be updated without dropped calls.
  secret text not null default encode(extensions.gen_random_bytes(32), 'hex'),
  previous_secret text,
  previous_secret_expires_at timestamptz,
  timeout_ms integer not null default 10000 check (timeout_ms between 100 and 60000),
  parameters jsonb not null default '{"type": "object", "properties": {}}'::jsonb
    check (jsonb_typeof(parameters) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, name)
);

create trigger tenant_tools_touch before update on public.tenant_tools
  for each row execute function private.touch_updated_at();

create table public.tool_executions (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  tenant_tool_id uuid references public.tenant_tools (id) on delete set null,
  conversation_id uuid references public.conversations (id) on delete set null,
  message_id uuid references public.messages (id) on delete set null,
  tool_name text not null,
  call_id text not null,
  delivery_id uuid not null default gen_random_uuid(),
  arguments jsonb not null default '{}'::jsonb,
  response jsonb,
  success boolean not null default false,
  error text,
  http_status integer,
  attempts integer not null default 0,
  duration_ms integer,
  created_at timestamptz not null default now()
);
create index tool_executions_tenant_created_idx on public.tool_executions (tenant_id, created_at);
create index tool_executions_conversation_idx on public.tool_executions (conversation_id);

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  url text not null check (url ~ '^https?://'),
  -- Event names such as conversation.created, conversation.handoff, message.created; '*' for all.
  events text[] not null default '{*}',
  secret text not null default encode(extensions.gen_random_bytes(32), 'hex'),
  enabled boolean not null default true,
  description text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_endpoints_tenant_idx on public.webhook_endpoints (tenant_id);

create trigger webhook_endpoints_touch before update on public.webhook_endpoints
  for each row execute function private.touch_updated_at();

alter table public.tools enable row level security;
alter table public.tenant_tools enable row level security;
alter table public.tool_executions enable row level security;
alter table public.webhook_endpoints enable row level security;

-- The catalog is for staff choosing tools; visitors (anonymous users) have no use for it.
create policy tools_select on public.tools for select to authenticated
  using (
    exists (select 1 from private.member_tenant_ids())
    or (select private.is_platform_admin())
  );

-- Tool configuration carries signing secrets: owners and admins only.
create policy tenant_tools_select on public.tenant_tools for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
create policy tenant_tools_insert on public.tenant_tools for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy tenant_tools_update on public.tenant_tools for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy tenant_tools_delete on public.tenant_tools for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- The audit trail is read by staff and written only by the service.
create policy tool_executions_select on public.tool_executions for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));

create policy webhook_endpoints_select on public.webhook_endpoints for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
create policy webhook_endpoints_insert on public.webhook_endpoints for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy webhook_endpoints_update on public.webhook_endpoints for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy webhook_endpoints_delete on public.webhook_endpoints for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

create trigger tenant_tools_same_tenant before update on public.tenant_tools
  for each row execute function private.forbid_tenant_change();
create trigger tool_executions_same_tenant before update on public.tool_executions
  for each row execute function private.forbid_tenant_change();
create trigger webhook_endpoints_same_tenant before update on public.webhook_endpoints
  for each row execute function private.forbid_tenant_change();
