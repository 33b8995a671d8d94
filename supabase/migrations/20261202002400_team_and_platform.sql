-- Team invitations and platform operators.
--
-- Invitations: owners invite anyone, admins invite agents (the same rule as the member policies).
-- The invitation holds a place: members plus pending invitations may not pass the plan's seats.
-- The link itself comes from Supabase Auth (invite or magic link); accepting needs the invited
-- address, confirmed, in the caller's session, so a leaked invitation id is worth nothing.
--
-- Operators: tenants with plan, usage and status; suspend and resume; a read-only view into a
-- tenant. Each of these is written to platform_audit_log, which only operators read and nobody
-- edits.

create table public.tenant_invitations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  email text not null check (email = lower(email) and length(email) between 3 and 255),
  role text not null check (role in ('owner', 'admin', 'agent')),
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid references auth.users (id) on delete set null
);
-- One pending invitation per address and tenant: inviting again renews it.
create unique index tenant_invitations_pending_idx on public.tenant_invitations (tenant_id, email)
  where accepted_at is null;

comment on table public.tenant_invitations is
  'People invited to a tenant''s team by email, pending until they accept with that address.';
comment on column public.tenant_invitations.id is 'Invitation id; carried by the invite link.';
comment on column public.tenant_invitations.tenant_id is 'The tenant the person is invited to.';
comment on column public.tenant_invitations.email is 'The invited address, lower-case.';
comment on column public.tenant_invitations.role is 'The role the person gets: owner, admin or agent.';
comment on column public.tenant_invitations.invited_by is 'Who sent the invitation.';
comment on column public.tenant_invitations.created_at is 'When it was sent (or last renewed).';
comment on column public.tenant_invitations.expires_at is 'After this it can no longer be accepted.';
comment on column public.tenant_invitations.accepted_at is 'When it was accepted; null while pending.';
comment on column public.tenant_invitations.accepted_by is 'The user who accepted it.';

alter table public.tenant_invitations enable row level security;
revoke all on public.tenant_invitations from anon, authenticated;
grant select, delete on public.tenant_invitations to authenticated;

-- Owners and admins see and withdraw invitations (admins only those for agents); operators read.
-- They are created by invite_member, which counts seats, and used by accept_invitation.
create policy tenant_invitations_select on public.tenant_invitations for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
create policy tenant_invitations_delete on public.tenant_invitations for delete to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner'])
    or (role = 'agent' and private.has_tenant_role(tenant_id, array['admin']))
  );

create or replace function public.invite_member(p_tenant_id uuid, p_email text, p_role text)
returns public.tenant_invitations
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  clean_email text := lower(btrim(coalesce(p_email, '')));
  seats bigint;
  taken bigint;
  invited public.tenant_invitations;
begin
  if caller is null or coalesce(((select auth.jwt()) ->> 'is_anonymous')::boolean, false) then
    raise exception 'Sign in to invite people.' using errcode = '42501';
  end if;
  if p_role is null or p_role not in ('owner', 'admin', 'agent') then
    raise exception 'The role must be owner, admin or agent.' using errcode = '22023';
  end if;
  if not (private.has_tenant_role(p_tenant_id, array['owner'])
          or (p_role = 'agent' and private.has_tenant_role(p_tenant_id, array['admin']))) then
    if private.has_tenant_role(p_tenant_id, array['admin']) then
      raise exception 'Only owners can invite owners and admins.' using errcode = '42501';
    end if;
    raise exception 'Only the workspace''s owners and admins invite people.' using errcode = '42501';
  end if;
  if clean_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' or length(clean_email) > 255 then
    raise exception 'That is not an email address.' using errcode = '22023';
  end if;
  if exists (
    select 1 from public.tenant_members m join auth.users u on u.id = m.user_id
     where m.tenant_id = p_tenant_id and lower(u.email) = clean_email
  ) then
    raise exception '% is already a member of this workspace.', clean_email using errcode = '23505';
  end if;

  -- The same turn-taking as the seats trigger on tenant_members, so an invitation and a join
  -- cannot both take the last seat.
  perform pg_advisory_xact_lock(hashtextextended('quota:seats:' || p_tenant_id::text, 0));
  seats := private.plan_limit(p_tenant_id, 'seats');
  if seats is not null then
    taken := (select count(*) from public.tenant_members where tenant_id = p_tenant_id)
           + (select count(*) from public.tenant_invitations
               where tenant_id = p_tenant_id and accepted_at is null and expires_at > now()
                 and email <> clean_email);
    if taken + 1 > seats then
      raise exception 'Your plan allows % seats at most, and members and pending invitations take them all: remove one or upgrade.', seats
        using errcode = 'P0001', hint = 'quota_exceeded:seats';
    end if;
  end if;

  insert into public.tenant_invitations (tenant_id, email, role, invited_by)
  values (p_tenant_id, clean_email, p_role, caller)
  on conflict (tenant_id, email) where accepted_at is null do update
    set role = excluded.role, invited_by = excluded.invited_by, created_at = now(),
        expires_at = now() + interval '7 days'
  returning * into invited;
  return invited;
end;
$$;

comment on function public.invite_member(uuid, text, text) is
  'Invites an address to the tenant''s team with a role (owners: any role; admins: agents), holding a seat; renews a pending invitation. The caller then gets the link from Auth.';

create or replace function public.accept_invitation(p_invitation_id uuid)
returns public.tenant_members
language plpgsql
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  caller_email text;
  invitation public.tenant_invitations;
  member public.tenant_members;
begin
  select lower(email) into caller_email from auth.users
   where id = caller and email_confirmed_at is not null;
  if caller_email is null then
    raise exception 'Sign in with the invited address to accept.' using errcode = '42501';
  end if;
  select * into invitation from public.tenant_invitations
   where id = p_invitation_id and email = caller_email
   for update;
  if invitation.id is null or invitation.accepted_at is not null or invitation.expires_at <= now() then
    raise exception 'This invitation is not for this account, was already used, or has expired.'
      using errcode = 'P0002', hint = 'invitation_invalid';
  end if;
  -- Someone already in the team keeps the role they have; the seats trigger counts a newcomer.
  insert into public.tenant_members (tenant_id, user_id, role)
  values (invitation.tenant_id, caller, invitation.role)
  on conflict (tenant_id, user_id) do nothing;
  update public.tenant_invitations set accepted_at = now(), accepted_by = caller
   where id = invitation.id;
  select * into member from public.tenant_members
   where tenant_id = invitation.tenant_id and user_id = caller;
  return member;
end;
$$;

comment on function public.accept_invitation(uuid) is
  'Makes the caller a member with the invitation''s role, if the invitation is pending, unexpired and for the caller''s confirmed address; the plan''s seats still apply.';

-- The team with each member's address (auth.users is not readable through the API).
create or replace function public.team_members(p_tenant_id uuid)
returns table (user_id uuid, email text, role text, display_name text, created_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select m.user_id, u.email::text, m.role, m.display_name, m.created_at
    from public.tenant_members m join auth.users u on u.id = m.user_id
   where m.tenant_id = p_tenant_id
     and (private.is_member(p_tenant_id) or (select private.is_platform_admin()))
   order by case m.role when 'owner' then 0 when 'admin' then 1 else 2 end, u.email
$$;

comment on function public.team_members(uuid) is
  'The tenant''s members with their email addresses, for its members and operators.';

revoke execute on function public.invite_member(uuid, text, text) from public, anon;
revoke execute on function public.accept_invitation(uuid) from public, anon;
revoke execute on function public.team_members(uuid) from public, anon;
grant execute on function public.invite_member(uuid, text, text) to authenticated, service_role;
grant execute on function public.accept_invitation(uuid) to authenticated, service_role;
grant execute on function public.team_members(uuid) to authenticated, service_role;

-- Platform audit log ------------------------------------------------------------------------------

create table public.platform_audit_log (
  id bigint generated always as identity primary key,
  actor_id uuid,
  action text not null check (action in ('view', 'suspend', 'resume')),
  -- No foreign key: the record outlives the tenant it names.
  tenant_id uuid,
  detail jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
create index platform_audit_log_tenant_idx on public.platform_audit_log (tenant_id, created_at desc);

comment on table public.platform_audit_log is
  'What platform operators did to or saw of a tenant: append-only, readable by operators only.';
comment on column public.platform_audit_log.id is 'Entry number, in the order written.';
comment on column public.platform_audit_log.actor_id is 'The operator''s Auth user.';
comment on column public.platform_audit_log.action is 'view (read-only view of the tenant), suspend or resume.';
comment on column public.platform_audit_log.tenant_id is 'The tenant concerned.';
comment on column public.platform_audit_log.detail is 'What was viewed, or the reason given.';
comment on column public.platform_audit_log.created_at is 'When it happened.';

alter table public.platform_audit_log enable row level security;
revoke all on public.platform_audit_log from anon, authenticated, service_role;
grant select on public.platform_audit_log to authenticated;
grant select, insert on public.platform_audit_log to service_role;

create policy platform_audit_log_select on public.platform_audit_log for select to authenticated
  using ((select private.is_platform_admin()));

create or replace function private.refuse_audit_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception 'the platform audit log is append-only' using errcode = '42501';
end;
$$;

create trigger platform_audit_log_append_only before update or delete on public.platform_audit_log
  for each row execute function private.refuse_audit_change();
create trigger platform_audit_log_no_truncate before truncate on public.platform_audit_log
  for each statement execute function private.refuse_audit_change();

create or replace function private.require_platform_admin() returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not coalesce(private.is_platform_admin(), false) then
    raise exception 'Only platform operators may do this.' using errcode = '42501';
  end if;
  return (select auth.uid());
end;
$$;

create or replace function private.audit_platform(p_action text, p_tenant_id uuid, p_detail jsonb)
returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.platform_audit_log (actor_id, action, tenant_id, detail)
  values ((select auth.uid()), p_action, p_tenant_id, coalesce(p_detail, '{}'::jsonb))
$$;

-- Operators' functions ------------------------------------------------------------------------------

create or replace function public.platform_tenants()
returns table (
  id uuid, name text, slug text, plan_id text, status text, created_at timestamptz,
  members bigint, conversations_this_month bigint, bot_replies_this_month bigint,
  documents bigint, last_activity_at timestamptz, suspended_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.require_platform_admin();
  return query
  select t.id, t.name, t.slug, t.plan_id, t.status, t.created_at,
         (select count(*) from public.tenant_members m where m.tenant_id = t.id),
         coalesce((select c.used from public.usage_counters c
                    where c.tenant_id = t.id and c.metric = 'conversations_per_month'
                      and c.period_start = private.quota_period()), 0)::bigint,
         coalesce((select c.used from public.usage_counters c
                    where c.tenant_id = t.id and c.metric = 'bot_replies_per_month'
                      and c.period_start = private.quota_period()), 0)::bigint,
         (select count(*) from public.documents d where d.tenant_id = t.id),
         (select max(v.last_message_at) from public.conversations v where v.tenant_id = t.id),
         case when t.status = 'suspended' then
           (select max(a.created_at) from public.platform_audit_log a
             where a.tenant_id = t.id and a.action = 'suspend') end
    from public.tenants t
   order by t.name, t.id;
end;
$$;

comment on function public.platform_tenants() is
  'Every tenant with its plan, status, members and this month''s usage; platform operators only.';

create or replace function private.set_tenant_status(
  p_tenant_id uuid, p_status text, p_reason text
) returns public.tenants
language plpgsql
security definer
set search_path = ''
as $$
declare
  changed public.tenants;
begin
  perform private.require_platform_admin();
  if p_reason is not null and length(p_reason) > 500 then
    raise exception 'Keep the reason under 500 characters.' using errcode = '22023';
  end if;
  update public.tenants set status = p_status where id = p_tenant_id returning * into changed;
  if changed.id is null then
    raise exception 'No such tenant.' using errcode = 'P0002';
  end if;
  perform private.audit_platform(
    case p_status when 'suspended' then 'suspend' else 'resume' end, p_tenant_id,
    case when nullif(btrim(p_reason), '') is null then '{}'::jsonb
         else jsonb_build_object('reason', btrim(p_reason)) end);
  return changed;
end;
$$;

create or replace function public.suspend_tenant(p_tenant_id uuid, p_reason text default null)
returns public.tenants
language sql
security definer
set search_path = ''
as $$ select * from private.set_tenant_status(p_tenant_id, 'suspended', p_reason) $$;

create or replace function public.resume_tenant(p_tenant_id uuid, p_reason text default null)
returns public.tenants
language sql
security definer
set search_path = ''
as $$ select * from private.set_tenant_status(p_tenant_id, 'active', p_reason) $$;

comment on function public.suspend_tenant(uuid, text) is
  'Suspends a tenant: its widget, WhatsApp and n8n callbacks are refused until resumed. Operators only; audited.';
comment on function public.resume_tenant(uuid, text) is
  'Resumes a suspended tenant. Operators only; audited.';

-- What an operator sees of a tenant without working in it: settings that are not secrets, the
-- team, usage, recent conversations (no message text) and documents. Written to the audit log.
create or replace function public.platform_view_tenant(p_tenant_id uuid)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  result jsonb;
begin
  perform private.require_platform_admin();
  select jsonb_build_object(
    'tenant', jsonb_build_object(
      'id', t.id, 'name', t.name, 'slug', t.slug, 'plan_id', t.plan_id, 'status', t.status,
      'bot_engine', t.bot_engine, 'allowed_origins', to_jsonb(t.allowed_origins),
      'enforce_identity', t.enforce_identity, 'created_at', t.created_at),
    'members', coalesce((
      select jsonb_agg(jsonb_build_object('email', u.email, 'role', m.role,
                                          'joined_at', m.created_at)
                       order by m.role, u.email)
        from public.tenant_members m join auth.users u on u.id = m.user_id
       where m.tenant_id = t.id), '[]'::jsonb),
    'usage', coalesce((
      select jsonb_agg(jsonb_build_object('metric', q.metric, 'used', q.used, 'quota', q.quota)
                       order by q.metric)
        from public.tenant_usage(t.id) q), '[]'::jsonb),
    'conversations', coalesce((
      select jsonb_agg(jsonb_build_object('id', c.id, 'status', c.status, 'channel', c.channel,
                                          'created_at', c.created_at,
                                          'last_message_at', c.last_message_at)
                       order by c.created_at desc)
        from (select * from public.conversations where tenant_id = t.id
               order by created_at desc limit 20) c), '[]'::jsonb),
    'documents', coalesce((
      select jsonb_object_agg(s.status, s.n)
        from (select d.status, count(*) as n from public.documents d
               where d.tenant_id = t.id group by d.status) s), '{}'::jsonb)
  ) into result
    from public.tenants t where t.id = p_tenant_id;
  if result is null then
    raise exception 'No such tenant.' using errcode = 'P0002';
  end if;
  perform private.audit_platform('view', p_tenant_id, '{"what": "summary"}'::jsonb);
  return result;
end;
$$;

comment on function public.platform_view_tenant(uuid) is
  'A read-only summary of one tenant for platform operators, recorded in the audit log.';

-- The admin records an operator opening a tenant's pages the same way.
create or replace function public.record_platform_view(p_tenant_id uuid, p_page text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.require_platform_admin();
  if p_page is null or p_page !~ '^[a-z][a-z0-9-]{0,31}$' then
    raise exception 'Name the page viewed.' using errcode = '22023';
  end if;
  if not exists (select 1 from public.tenants where id = p_tenant_id) then
    raise exception 'No such tenant.' using errcode = 'P0002';
  end if;
  perform private.audit_platform('view', p_tenant_id, jsonb_build_object('what', p_page));
end;
$$;

comment on function public.record_platform_view(uuid, text) is
  'Records in the audit log that an operator opened one of a tenant''s pages. Operators only.';

revoke execute on function
  public.platform_tenants(), public.suspend_tenant(uuid, text), public.resume_tenant(uuid, text),
  public.platform_view_tenant(uuid), public.record_platform_view(uuid, text)
from public, anon;
grant execute on function
  public.platform_tenants(), public.suspend_tenant(uuid, text), public.resume_tenant(uuid, text),
  public.platform_view_tenant(uuid), public.record_platform_view(uuid, text)
to authenticated, service_role;
revoke execute on function
  private.require_platform_admin(), private.audit_platform(text, uuid, jsonb),
  private.set_tenant_status(uuid, text, text), private.refuse_audit_change()
from public, anon, authenticated;
