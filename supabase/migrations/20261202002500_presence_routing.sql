-- Agents' presence and automatic routing of handed-off conversations (docs/admin.md, "Presence
-- and routing").
--
-- Presence is set from the admin (online, away, offline) and kept alive by heartbeats: a row not
-- refreshed for 90 seconds counts as offline, whatever it says, so a closed laptop stops taking
-- conversations within a minute and a half. Routing gives a conversation waiting for a person to
-- the online agent who was given one longest ago (round-robin), among those below the tenant's cap
-- of open conversations per agent; when nobody qualifies it waits, unassigned, and is handed out
-- oldest first as soon as someone frees up or comes online.
--
-- Concurrency: every routing decision of a tenant runs under one transaction-scoped advisory lock,
-- so two handoffs at once are decided one after the other and the second counts the first's
-- assignment (read committed takes a fresh snapshot per statement, after the lock is granted).
-- Lock order is "the conversation being changed, then the tenant's routing lock"; a routing pass
-- over the queue skips conversations another transaction has locked (that transaction routes them
-- itself once it gets the lock), so the two orders never wait on each other.

alter table public.tenants
  add column auto_assign boolean not null default true,
  add column max_open_per_agent integer not null default 5
    check (max_open_per_agent between 1 and 200);

comment on column public.tenants.auto_assign is
  'Whether conversations waiting for a person are assigned round-robin to online agents.';
comment on column public.tenants.max_open_per_agent is
  'Routing cap: an agent with this many conversations waiting or open is given no more automatically.';

grant select (auto_assign, max_open_per_agent) on public.tenants to anon, authenticated;
grant update (auto_assign, max_open_per_agent) on public.tenants to authenticated;

create table public.agent_presence (
  tenant_id uuid not null,
  user_id uuid not null,
  status text not null default 'offline' check (status in ('online', 'away', 'offline')),
  last_seen_at timestamptz not null default now(),
  last_assigned_at timestamptz,
  primary key (tenant_id, user_id),
  foreign key (tenant_id, user_id) references public.tenant_members (tenant_id, user_id)
    on delete cascade
);

comment on table public.agent_presence is
  'Each staff member''s availability per tenant, set from the admin and kept alive by heartbeats; routing reads it.';
comment on column public.agent_presence.tenant_id is 'The tenant the person works in.';
comment on column public.agent_presence.user_id is 'The staff member.';
comment on column public.agent_presence.status is
  'What the person set: online (takes conversations), away or offline. Stale rows count as offline.';
comment on column public.agent_presence.last_seen_at is
  'The last heartbeat; 90 seconds without one and the person counts as offline.';
comment on column public.agent_presence.last_assigned_at is
  'When routing last gave this person a conversation: round-robin picks the longest ago first.';

alter table public.agent_presence enable row level security;

-- Colleagues see each other's presence; it is written only through set_agent_presence.
create policy agent_presence_select on public.agent_presence for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));

grant select on public.agent_presence to authenticated;
grant all on public.agent_presence to service_role;

-- The status that counts: what was set, unless the heartbeats stopped.
create or replace function private.effective_presence(p_status text, p_last_seen_at timestamptz)
returns text
language sql
stable
set search_path = ''
as $$
  select case when p_last_seen_at < now() - interval '90 seconds' then 'offline' else p_status end
$$;

comment on function private.effective_presence(text, timestamptz) is
  'A presence row''s status as routing and the inbox see it: offline once heartbeats have stopped for 90 seconds.';

create or replace function private.lock_tenant_routing(p_tenant_id uuid) returns void
language sql
set search_path = ''
as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('parley.routing:' || p_tenant_id, 0))
$$;

comment on function private.lock_tenant_routing(uuid) is
  'Serialises the tenant''s routing decisions until the transaction ends (a transaction-scoped advisory lock).';

-- Gives one waiting conversation to the next online agent below the cap; the agent's id, or null
-- when it stays in the queue.
create or replace function private.route_conversation(p_conversation_id uuid) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.conversations;
  t public.tenants;
  chosen uuid;
begin
  select * into c from public.conversations where id = p_conversation_id;
  if not found then
    return null;
  end if;
  perform private.lock_tenant_routing(c.tenant_id);
  -- Read again under the lock: another routing pass may have placed it meanwhile.
  select * into c from public.conversations where id = p_conversation_id;
  if c.status <> 'handoff' or c.assignee_id is not null then
    return c.assignee_id;
  end if;
  select * into t from public.tenants where id = c.tenant_id;
  if not t.auto_assign then
    return null;
  end if;
  select p.user_id into chosen
    from public.agent_presence p
   where p.tenant_id = c.tenant_id
     and private.effective_presence(p.status, p.last_seen_at) = 'online'
     and (select count(*) from public.conversations o
           where o.tenant_id = c.tenant_id and o.assignee_id = p.user_id
             and o.status in ('handoff', 'open')) < t.max_open_per_agent
   order by p.last_assigned_at nulls first, p.user_id
   limit 1;
  if chosen is null then
    return null;
  end if;
  update public.agent_presence set last_assigned_at = clock_timestamp()
   where tenant_id = c.tenant_id and user_id = chosen;
  update public.conversations set assignee_id = chosen where id = c.id;
  return chosen;
end;
$$;

comment on function private.route_conversation(uuid) is
  'Assigns a conversation waiting for a person round-robin to an online agent below the tenant''s cap; null when it has to wait.';

-- Hands out the tenant's queue, oldest handoff first, until nobody can take more. Conversations
-- locked by another transaction are left to it.
create or replace function private.drain_routing_queue(p_tenant_id uuid) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  waiting uuid;
  placed integer := 0;
begin
  perform private.lock_tenant_routing(p_tenant_id);
  for waiting in
    select id from public.conversations
     where tenant_id = p_tenant_id and status = 'handoff' and assignee_id is null
     order by handoff_at nulls first, created_at, id
     for update skip locked
  loop
    exit when private.route_conversation(waiting) is null;
    placed := placed + 1;
  end loop;
  return placed;
end;
$$;

comment on function private.drain_routing_queue(uuid) is
  'Routes the tenant''s waiting conversations, oldest handoff first, until no online agent has room; returns how many were placed.';

-- A conversation starts waiting (route it), or a person's load drops (hand out the queue).
create or replace function private.route_on_change() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.status = 'handoff' and new.assignee_id is null then
    perform private.route_conversation(new.id);
  end if;
  if tg_op = 'UPDATE' and old.assignee_id is not null and old.status in ('handoff', 'open')
     and (new.assignee_id is distinct from old.assignee_id or new.status not in ('handoff', 'open')) then
    perform private.drain_routing_queue(new.tenant_id);
  end if;
  return null;
end;
$$;

comment on function private.route_on_change() is
  'Trigger: routes a conversation that starts waiting for a person, and hands out the queue when an agent''s load drops.';

create trigger conversations_route after insert or update of status, assignee_id
  on public.conversations
  for each row execute function private.route_on_change();

-- A higher cap or routing switched on frees room at once.
create or replace function private.route_on_settings() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.auto_assign and (not old.auto_assign or new.max_open_per_agent > old.max_open_per_agent) then
    perform private.drain_routing_queue(new.id);
  end if;
  return null;
end;
$$;

comment on function private.route_on_settings() is
  'Trigger: hands out the queue when a tenant turns routing on or raises the per-agent cap.';

create trigger tenants_route after update of auto_assign, max_open_per_agent on public.tenants
  for each row execute function private.route_on_settings();

create or replace function private.broadcast_presence(p public.agent_presence) returns void
language sql
security definer
set search_path = ''
as $$
  select realtime.send(
    jsonb_build_object('user_id', p.user_id,
                       'status', private.effective_presence(p.status, p.last_seen_at),
                       'last_seen_at', p.last_seen_at),
    'presence', 'tenant:' || p.tenant_id || ':inbox', true)
$$;

comment on function private.broadcast_presence(public.agent_presence) is
  'Tells the tenant''s inbox a staff member''s presence changed.';

-- Conversations given to a person who left and not yet taken up go back to the queue, to be
-- routed to someone who is there.
create or replace function private.requeue_waiting(p_tenant_id uuid, p_user_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.conversations set assignee_id = null
   where id in (select id from public.conversations
                 where tenant_id = p_tenant_id and assignee_id = p_user_id and status = 'handoff'
                 for update skip locked);
end;
$$;

comment on function private.requeue_waiting(uuid, uuid) is
  'Unassigns the conversations still waiting on a person who went offline, so routing gives them to someone present.';

-- The caller's presence in a tenant: set it, or (same status) send a heartbeat. Returns the row.
create or replace function public.set_agent_presence(p_tenant_id uuid, p_status text)
returns table (user_id uuid, status text, last_seen_at timestamptz)
language plpgsql
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  before text;
  p public.agent_presence;
begin
  if p_status is null or p_status not in ('online', 'away', 'offline') then
    raise exception 'presence is online, away or offline' using errcode = '22023';
  end if;
  if me is null or not exists (
    select 1 from public.tenant_members m where m.tenant_id = p_tenant_id and m.user_id = me
  ) then
    raise exception 'only the tenant''s staff have a presence there' using errcode = '42501';
  end if;
  -- The routing lock first: routing updates presence rows while holding it.
  perform private.lock_tenant_routing(p_tenant_id);
  select private.effective_presence(a.status, a.last_seen_at) into before
    from public.agent_presence a where a.tenant_id = p_tenant_id and a.user_id = me;
  insert into public.agent_presence as a (tenant_id, user_id, status, last_seen_at)
  values (p_tenant_id, me, p_status, now())
  on conflict on constraint agent_presence_pkey
    do update set status = excluded.status, last_seen_at = excluded.last_seen_at
  returning * into p;
  if before is distinct from p_status then
    perform private.broadcast_presence(p);
    if p_status = 'online' then
      perform private.drain_routing_queue(p_tenant_id);
    else
      perform private.requeue_waiting(p_tenant_id, me);
    end if;
  end if;
  return query select p.user_id, p.status, p.last_seen_at;
end;
$$;

comment on function public.set_agent_presence(uuid, text) is
  'Sets the caller''s presence in a tenant (online, away, offline) or renews it as a heartbeat; going online takes from the queue, leaving hands back what was not yet taken up.';

-- Staff of the tenant with their presence and load, for the inbox.
create or replace function public.tenant_agents(p_tenant_id uuid)
returns table (user_id uuid, display_name text, role text, status text, open_conversations integer,
               last_seen_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not (private.is_member(p_tenant_id) or (select private.is_platform_admin())) then
    raise exception 'only the tenant''s staff see its agents' using errcode = '42501';
  end if;
  return query
  select m.user_id, m.display_name, m.role,
         coalesce(private.effective_presence(p.status, p.last_seen_at), 'offline'),
         (select count(*)::integer from public.conversations o
           where o.tenant_id = p_tenant_id and o.assignee_id = m.user_id
             and o.status in ('handoff', 'open')),
         p.last_seen_at
    from public.tenant_members m
    left join public.agent_presence p on p.tenant_id = m.tenant_id and p.user_id = m.user_id
   where m.tenant_id = p_tenant_id
   order by m.display_name nulls last, m.user_id;
end;
$$;

comment on function public.tenant_agents(uuid) is
  'The tenant''s staff with their presence (stale heartbeats count as offline) and how many conversations each has waiting or open.';

-- Heartbeats that stopped: the person is offline, the inbox is told, and what they had not taken
-- up yet goes back to the queue.
create or replace function private.expire_agent_presence() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  p public.agent_presence;
  expired integer := 0;
begin
  for p in
    select * from public.agent_presence
     where status <> 'offline' and last_seen_at < now() - interval '90 seconds'
  loop
    perform private.lock_tenant_routing(p.tenant_id);
    update public.agent_presence set status = 'offline'
     where tenant_id = p.tenant_id and user_id = p.user_id and status <> 'offline'
       and last_seen_at < now() - interval '90 seconds'
    returning * into p;
    continue when not found;
    perform private.broadcast_presence(p);
    perform private.requeue_waiting(p.tenant_id, p.user_id);
    expired := expired + 1;
  end loop;
  return expired;
end;
$$;

comment on function private.expire_agent_presence() is
  'Marks staff whose heartbeats stopped as offline, tells their inboxes, and requeues what they had not taken up; run by pg_cron.';

select cron.schedule('parley-presence-expiry', '30 seconds', 'select private.expire_agent_presence()');

revoke execute on function public.set_agent_presence(uuid, text), public.tenant_agents(uuid)
  from public, anon;
grant execute on function public.set_agent_presence(uuid, text), public.tenant_agents(uuid)
  to authenticated, service_role;
revoke execute on function
  private.effective_presence(text, timestamptz),
  private.lock_tenant_routing(uuid),
  private.route_conversation(uuid),
  private.drain_routing_queue(uuid),
  private.broadcast_presence(public.agent_presence),
  private.requeue_waiting(uuid, uuid),
  private.expire_agent_presence()
from public, anon, authenticated;
grant execute on function private.expire_agent_presence() to service_role;
