-- Support metrics the analytics page charts, computed in SQL from the conversations themselves:
-- first response time, resolution time, handoff rate and CSAT, per day and per agent.
--
-- Definitions (docs/admin.md, "Metrics"):
--   a conversation counts on the day it started, in the time zone asked for;
--   handed off: it ever asked for a person (handoff_at is set);
--   first response: from the handoff (or, when staff stepped in unasked, the visitor's first
--     message) to the first agent message the visitor saw after it; internal notes do not count;
--   resolution: from the start to resolved_at, for conversations resolved now;
--   per agent: by the conversation's assignee.

create or replace function private.conversation_facts(
  p_tenant_id uuid, p_from date, p_to date, p_time_zone text
) returns table (
  conversation_id uuid,
  day date,
  assignee_id uuid,
  handed_off boolean,
  first_response_seconds double precision,
  resolution_seconds double precision,
  csat smallint
)
language sql
stable
security definer
set search_path = ''
as $$
  select c.id,
         (c.created_at at time zone p_time_zone)::date,
         c.assignee_id,
         c.handoff_at is not null,
         extract(epoch from reply.at - start.at)::float8,
         case when c.status = 'resolved' and c.resolved_at is not null
              then extract(epoch from c.resolved_at - c.created_at)::float8 end,
         c.csat
    from public.conversations c
    cross join lateral (
      select coalesce(c.handoff_at, (
        select min(m.created_at) from public.messages m
         where m.conversation_id = c.id and m.role = 'user')) as at
    ) start
    left join lateral (
      select min(m.created_at) as at from public.messages m
       where m.conversation_id = c.id and m.role = 'agent' and not m.is_private
         and m.created_at >= start.at
    ) reply on true
   where c.tenant_id = p_tenant_id
     and c.created_at >= (p_from::timestamp at time zone p_time_zone)
     and c.created_at < ((p_to + 1)::timestamp at time zone p_time_zone)
$$;

comment on function private.conversation_facts(uuid, date, date, text) is
  'One row per conversation of a tenant started in a date range: the facts the metrics aggregate.';

-- Owners, admins and platform admins of the tenant; a range of at most a year, in a real zone.
create or replace function private.check_metrics_request(
  p_tenant_id uuid, p_from date, p_to date, p_time_zone text
) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not (private.has_tenant_role(p_tenant_id, array['owner', 'admin'])
          or private.is_platform_admin()) then
    raise exception 'metrics are for the tenant''s owners and admins' using errcode = '42501';
  end if;
  if p_from is null or p_to is null or p_to < p_from or p_to - p_from > 366 then
    raise exception 'a range of 1 to 367 days is required' using errcode = '22023';
  end if;
  if not exists (select 1 from pg_catalog.pg_timezone_names where name = p_time_zone) then
    raise exception 'unknown time zone' using errcode = '22023';
  end if;
end;
$$;

comment on function private.check_metrics_request(uuid, date, date, text) is
  'Refuses a metrics request from anyone but the tenant''s owners, admins and platform admins, or with a bad range or zone.';

create or replace function public.conversation_metrics_daily(
  p_tenant_id uuid, p_from date, p_to date, p_time_zone text default 'UTC'
) returns table (
  day date,
  conversations integer,
  handoffs integer,
  handoff_rate double precision,
  first_response_seconds double precision,
  first_response_p90_seconds double precision,
  resolved integer,
  resolution_seconds double precision,
  csat_count integer,
  csat_average double precision
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.check_metrics_request(p_tenant_id, p_from, p_to, p_time_zone);
  return query
  select d.day::date,
         count(f.conversation_id)::int,
         count(*) filter (where f.handed_off)::int,
         case when count(f.conversation_id) > 0
              then round(count(*) filter (where f.handed_off)::numeric / count(f.conversation_id), 4)::float8
         end,
         round(avg(f.first_response_seconds)::numeric, 1)::float8,
         round((percentile_cont(0.9) within group (order by f.first_response_seconds))::numeric, 1)::float8,
         count(f.resolution_seconds)::int,
         round(avg(f.resolution_seconds)::numeric, 1)::float8,
         count(f.csat)::int,
         round(avg(f.csat), 2)::float8
    from generate_series(p_from, p_to, interval '1 day') as d (day)
    left join private.conversation_facts(p_tenant_id, p_from, p_to, p_time_zone) f
      on f.day = d.day::date
   group by d.day
   order by d.day;
end;
$$;

comment on function public.conversation_metrics_daily(uuid, date, date, text) is
  'Per day of a range (every day, empty ones included): conversations, handoffs and handoff rate, mean and p90 first response, resolutions and mean resolution time, CSAT count and mean. Owners and admins.';

create or replace function public.conversation_metrics_by_agent(
  p_tenant_id uuid, p_from date, p_to date, p_time_zone text default 'UTC'
) returns table (
  agent_id uuid,
  display_name text,
  conversations integer,
  first_response_seconds double precision,
  resolved integer,
  resolution_seconds double precision,
  csat_count integer,
  csat_average double precision
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform private.check_metrics_request(p_tenant_id, p_from, p_to, p_time_zone);
  return query
  select f.assignee_id,
         tm.display_name,
         count(*)::int,
         round(avg(f.first_response_seconds)::numeric, 1)::float8,
         count(f.resolution_seconds)::int,
         round(avg(f.resolution_seconds)::numeric, 1)::float8,
         count(f.csat)::int,
         round(avg(f.csat), 2)::float8
    from private.conversation_facts(p_tenant_id, p_from, p_to, p_time_zone) f
    left join public.tenant_members tm
      on tm.tenant_id = p_tenant_id and tm.user_id = f.assignee_id
   where f.assignee_id is not null
   group by f.assignee_id, tm.display_name
   order by count(*) desc, f.assignee_id;
end;
$$;

comment on function public.conversation_metrics_by_agent(uuid, date, date, text) is
  'Per assignee over a range: conversations, mean first response, resolutions and mean resolution time, CSAT count and mean. Owners and admins.';

revoke execute on function
  private.conversation_facts(uuid, date, date, text),
  private.check_metrics_request(uuid, date, date, text),
  public.conversation_metrics_daily(uuid, date, date, text),
  public.conversation_metrics_by_agent(uuid, date, date, text)
from public, anon;
grant execute on function
  public.conversation_metrics_daily(uuid, date, date, text),
  public.conversation_metrics_by_agent(uuid, date, date, text)
to authenticated, service_role;
