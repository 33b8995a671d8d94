-- Canned responses: a tenant's saved replies, which an agent types as /shortcut in the inbox
-- composer to expand. Every member uses them; owners and admins keep the list.

create table public.canned_responses (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  shortcut text not null check (shortcut ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  content text not null check (length(content) between 1 and 5000),
  created_by uuid references auth.users (id) on delete set null default auth.uid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, shortcut)
);

create trigger canned_responses_touch before update on public.canned_responses
  for each row execute function private.touch_updated_at();
create trigger canned_responses_same_tenant before update on public.canned_responses
  for each row execute function private.forbid_tenant_change();

comment on table public.canned_responses is
  'A tenant''s saved replies, expanded from /shortcut in the inbox composer.';
comment on column public.canned_responses.id is 'Canned response id.';
comment on column public.canned_responses.tenant_id is 'The tenant whose staff use it.';
comment on column public.canned_responses.shortcut is
  'What follows the slash: lower-case letters, digits, - and _, at most 32; unique per tenant.';
comment on column public.canned_responses.content is
  'The reply it expands to (the Markdown subset agent replies use).';
comment on column public.canned_responses.created_by is 'Who added it.';
comment on column public.canned_responses.created_at is 'When it was added.';
comment on column public.canned_responses.updated_at is 'Last change to this row.';

alter table public.canned_responses enable row level security;

create policy canned_responses_select on public.canned_responses for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy canned_responses_insert on public.canned_responses for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy canned_responses_update on public.canned_responses for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy canned_responses_delete on public.canned_responses for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));
