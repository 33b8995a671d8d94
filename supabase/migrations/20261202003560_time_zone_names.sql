-- Every analytics request checks that its time zone is a real zone name. pg_timezone_names builds
-- its answer by reading every zone of the server's time zone data, each time it is asked: in
-- bench:analytics that check alone took as long as the figures themselves. The names are now
-- looked up in a table made from that list once; a name not in it (a zone added to the server's
-- data later) is still checked against the list itself, so nothing valid is ever refused.
-- A listed name the server no longer knew would fail at its first use with 22023, the same answer.

create table private.time_zone_names (
  name text primary key
);

comment on table private.time_zone_names is
  'The time zone names Postgres knew when this table was filled (pg_timezone_names), for a fast check.';

insert into private.time_zone_names (name)
select n.name from pg_catalog.pg_timezone_names n
on conflict (name) do nothing;

create or replace function private.is_time_zone_name(p_name text) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_name is null then
    return false;
  end if;
  if exists (select 1 from private.time_zone_names z where z.name = p_name) then
    return true;
  end if;
  return exists (select 1 from pg_catalog.pg_timezone_names n where n.name = p_name);
end;
$$;

comment on function private.is_time_zone_name(text) is
  'Whether Postgres knows the name as a time zone (pg_timezone_names), answered from a table first.';

revoke all on function private.is_time_zone_name(text) from public, anon, authenticated;

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
  if not private.is_time_zone_name(p_time_zone) then
    raise exception 'unknown time zone' using errcode = '22023';
  end if;
end;
$$;

-- Definer, as the check is the platform's own: owners set their zone through the Data API.
create or replace function private.check_tenant_time_zone() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not private.is_time_zone_name(new.time_zone) then
    raise exception 'unknown time zone %', new.time_zone using errcode = '22023';
  end if;
  return new;
end;
$$;

-- The history page asks the same of its zone; the function is otherwise as it was.
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
  if not private.is_time_zone_name(zone) then
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
