-- The analytics page and the conversation history (docs/admin.md, "Analytics"): the tenant's own
-- time zone for day boundaries, a daily activity aggregate (messages, bot-only conversations,
-- tokens and cost, tool success) beside conversation_metrics_daily, and a filtered, paged history
-- of conversations that the admin also exports as CSV.

-- A tenant's days start at midnight where the tenant is, not in UTC: the analytics page asks for
-- its ranges in this zone unless told otherwise.
alter table public.tenants add column if not exists time_zone text not null default 'UTC';

comment on column public.tenants.time_zone is
  'IANA time zone (e.g. Europe/Paris) in which the tenant''s days start, for analytics ranges and daily figures.';

-- A check constraint may not consult pg_timezone_names, so a trigger refuses unknown zones.
create or replace function private.check_tenant_time_zone() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_timezone_names where name = new.time_zone) then
    raise exception 'unknown time zone %', new.time_zone using errcode = '22023';
  end if;
  return new;
end;
$$;

comment on function private.check_tenant_time_zone() is
  'Refuses a tenants.time_zone that Postgres does not know as a time zone name.';

create trigger tenants_time_zone_valid before insert or update of time_zone on public.tenants
  for each row execute function private.check_tenant_time_zone();

grant select (time_zone) on public.tenants to anon, authenticated;
grant update (time_zone) on public.tenants to authenticated;

-- The analytics ranges and the history read a tenant's conversations by start time.
create index if not exists conversations_tenant_created_idx
  on public.conversations (tenant_id, created_at desc, id desc);

-- The zone a metrics request means: the one asked for, else the tenant's.
create or replace function private.metrics_time_zone(p_tenant_id uuid, p_time_zone text)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce(nullif(p_time_zone, ''),
                  (select t.time_zone from public.tenants t where t.id = p_tenant_id),
                  'UTC')
$$;

comment on function private.metrics_time_zone(uuid, text) is
  'The time zone of a metrics request: the one given, else the tenant''s time_zone, else UTC.';

-- Definitions:
--   messages: visitor, bot and staff messages created that day (internal notes and system lines
--     are not messages anyone exchanged);
--   bot_only ("resolved without a person"): conversations started that day that the bot answered
--     and no person ever joined: never handed off, nobody assigned, no staff message;
--   tokens and cost: of the replies made that day;
--   tool calls: tool executions made that day, and how many succeeded.
-- Messages older than the plan's retention are gone, and so are their counts.
create or replace function public.analytics_daily(
  p_tenant_id uuid, p_from date, p_to date, p_time_zone text default null
) returns table (
  day date,
  conversations integer,
  bot_only integer,
  deflection_rate double precision,
  user_messages integer,
  bot_messages integer,
  agent_messages integer,
  tokens_in bigint,
  tokens_out bigint,
  cost_usd numeric,
  tool_calls integer,
  tool_successes integer,
  tool_success_rate double precision
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  zone text := private.metrics_time_zone(p_tenant_id, p_time_zone);
  starts timestamptz;
  ends timestamptz;
begin
  perform private.check_metrics_request(p_tenant_id, p_from, p_to, zone);
  starts := p_from::timestamp at time zone zone;
  ends := (p_to + 1)::timestamp at time zone zone;
  return query
  with days as (
    select d::date as day from generate_series(p_from, p_to, interval '1 day') d
  ),
  convs as (
    select (c.created_at at time zone zone)::date as day,
           count(*)::int as started,
           count(*) filter (
             where c.handoff_at is null and c.assignee_id is null
               and exists (select 1 from public.messages m
                            where m.conversation_id = c.id and m.role = 'assistant')
               and not exists (select 1 from public.messages m
                                where m.conversation_id = c.id and m.role = 'agent')
           )::int as bot_only
      from public.conversations c
     where c.tenant_id = p_tenant_id and c.created_at >= starts and c.created_at < ends
     group by 1
  ),
  msgs as (
    select (m.created_at at time zone zone)::date as day,
           count(*) filter (where m.role = 'user')::int as user_messages,
           count(*) filter (where m.role = 'assistant')::int as bot_messages,
           count(*) filter (where m.role = 'agent' and not m.is_private)::int as agent_messages,
           coalesce(sum(m.tokens_in), 0)::bigint as tokens_in,
           coalesce(sum(m.tokens_out), 0)::bigint as tokens_out,
           coalesce(sum(m.cost_usd), 0)::numeric as cost_usd
      from public.messages m
     where m.tenant_id = p_tenant_id and m.created_at >= starts and m.created_at < ends
     group by 1
  ),
  tools as (
    select (e.created_at at time zone zone)::date as day,
           count(*)::int as calls,
           count(*) filter (where e.success)::int as successes
      from public.tool_executions e
     where e.tenant_id = p_tenant_id and e.created_at >= starts and e.created_at < ends
     group by 1
  )
  select d.day,
         coalesce(c.started, 0),
         coalesce(c.bot_only, 0),
         case when c.started > 0 then round(c.bot_only::numeric / c.started, 4)::float8 end,
         coalesce(m.user_messages, 0),
         coalesce(m.bot_messages, 0),
         coalesce(m.agent_messages, 0),
         coalesce(m.tokens_in, 0::bigint),
         coalesce(m.tokens_out, 0::bigint),
         round(coalesce(m.cost_usd, 0), 6),
         coalesce(t.calls, 0),
         coalesce(t.successes, 0),
         case when t.calls > 0 then round(t.successes::numeric / t.calls, 4)::float8 end
    from days d
    left join convs c on c.day = d.day
    left join msgs m on m.day = d.day
    left join tools t on t.day = d.day
   order by d.day;
end;
$$;

comment on function public.analytics_daily(uuid, date, date, text) is
  'Per day of a range in the tenant''s time zone (or the one given): conversations started and those the bot handled alone, messages by author, tokens and cost, tool calls and successes. Owners, admins and platform admins.';

-- One page of the tenant's conversation history, newest first, with the number of rows matching
-- the filters (total) so the admin can page and export every one of them. Runs as its owner after
-- checking the caller once, as search_conversations does: the caller is an owner or admin of the
-- tenant (who RLS lets read all of its conversations) or a platform admin, and only that tenant's
-- rows are read.
--   p_status: bot | handoff | open | resolved;  p_channel: web | whatsapp
--   p_from / p_to: start day, in the tenant's zone (or p_time_zone)
--   p_csat_min / p_csat_max: rating between; p_rated: true rated only, false unrated only
--   p_assignee: that member's; p_unassigned: nobody's
--   p_query: words in any message (full text, 'simple'), or in the contact's name, email, identifier
create or replace function public.conversation_history(
  p_tenant_id uuid,
  p_status text default null,
  p_channel text default null,
  p_from date default null,
  p_to date default null,
  p_csat_min smallint default null,
  p_csat_max smallint default null,
  p_rated boolean default null,
  p_assignee uuid default null,
  p_unassigned boolean default false,
  p_query text default null,
  p_time_zone text default null,
  p_limit integer default 50,
  p_offset integer default 0
) returns table (
  id uuid,
  created_at timestamptz,
  status text,
  channel text,
  assignee_id uuid,
  assignee_name text,
  contact_name text,
  contact_email text,
  message_count integer,
  handoff_at timestamptz,
  resolved_at timestamptz,
  last_message_at timestamptz,
  csat smallint,
  csat_comment text,
  first_message text,
  total bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  zone text := private.metrics_time_zone(p_tenant_id, p_time_zone);
  words text := nullif(btrim(coalesce(p_query, '')), '');
  tsq tsquery;
  pattern text;
begin
  if not (private.has_tenant_role(p_tenant_id, array['owner', 'admin'])
          or private.is_platform_admin()) then
    raise exception 'the history is for the tenant''s owners and admins' using errcode = '42501';
  end if;
  if p_status is not null and p_status not in ('bot', 'handoff', 'open', 'resolved') then
    raise exception 'unknown status %', p_status using errcode = '22023';
  end if;
  if p_channel is not null and p_channel not in ('web', 'whatsapp') then
    raise exception 'unknown channel %', p_channel using errcode = '22023';
  end if;
  if not exists (select 1 from pg_catalog.pg_timezone_names where name = zone) then
    raise exception 'unknown time zone' using errcode = '22023';
  end if;
  if coalesce(p_limit, 50) not between 1 and 1000 or coalesce(p_offset, 0) < 0 then
    raise exception 'limit is 1 to 1000 rows, offset at least 0' using errcode = '22023';
  end if;
  if words is not null then
    tsq := websearch_to_tsquery('simple'::regconfig, left(words, 200));
    pattern := '%' || replace(replace(replace(left(words, 200), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;

  return query
  select c.id, c.created_at, c.status, c.channel, c.assignee_id, tm.display_name,
         ct.name, ct.email, c.message_count, c.handoff_at, c.resolved_at, c.last_message_at,
         c.csat, c.csat_comment,
         (select left(m.content, 200) from public.messages m
           where m.conversation_id = c.id and m.role = 'user'
           order by m.created_at, m.id limit 1),
         count(*) over ()
    from public.conversations c
    left join public.contacts ct on ct.id = c.contact_id
    left join public.tenant_members tm on tm.tenant_id = c.tenant_id and tm.user_id = c.assignee_id
   where c.tenant_id = p_tenant_id
     and (p_status is null or c.status = p_status)
     and (p_channel is null or c.channel = p_channel)
     and (p_from is null or c.created_at >= (p_from::timestamp at time zone zone))
     and (p_to is null or c.created_at < ((p_to + 1)::timestamp at time zone zone))
     and (p_csat_min is null or c.csat >= p_csat_min)
     and (p_csat_max is null or c.csat <= p_csat_max)
     and (p_rated is null or (c.csat is not null) = p_rated)
     and (p_assignee is null or c.assignee_id = p_assignee)
     and (not coalesce(p_unassigned, false) or c.assignee_id is null)
     and (
       words is null
       or c.id in (
         select m.conversation_id from public.messages m
          where m.tenant_id = p_tenant_id
            and to_tsvector('simple'::regconfig, m.content) @@ tsq
       )
       or ct.name ilike pattern or ct.email ilike pattern or ct.identifier ilike pattern
     )
   order by c.created_at desc, c.id desc
   limit coalesce(p_limit, 50) offset coalesce(p_offset, 0);
end;
$$;

comment on function public.conversation_history(uuid, text, text, date, date, smallint, smallint, boolean, uuid, boolean, text, text, integer, integer) is
  'A page of a tenant''s conversations, newest first, filtered by status, channel, start day, rating, assignee and text, with the count of all matching rows. Owners, admins and platform admins.';

revoke execute on function
  private.check_tenant_time_zone(),
  private.metrics_time_zone(uuid, text),
  public.analytics_daily(uuid, date, date, text),
  public.conversation_history(uuid, text, text, date, date, smallint, smallint, boolean, uuid, boolean, text, text, integer, integer)
from public, anon;
grant execute on function
  public.analytics_daily(uuid, date, date, text),
  public.conversation_history(uuid, text, text, date, date, smallint, smallint, boolean, uuid, boolean, text, text, integer, integer)
to authenticated, service_role;
