-- The analytics page's daily figures from hourly roll-ups instead of every message of the range
-- (docs/admin.md, "Analytics"). analytics_hourly holds, per tenant and UTC hour, what
-- analytics_daily adds up; statement-level triggers on conversations, messages and tool_executions
-- keep it exact as rows are inserted, edited (a late token count, a handoff, an assignment) or
-- deleted (retention, a deleted conversation), by adding the difference in the same transaction
-- as the change, so there is no watermark to fall behind and nothing a concurrent writer can miss.
--
-- A day in a zone with a whole-hour offset is a run of whole UTC hours. Where a day starts inside
-- an hour (Asia/Kolkata, +05:30; Asia/Kathmandu, +05:45; an old local mean time), that one hour per
-- boundary is read from the rows themselves, so every zone gets exact figures.
--
-- Ratings (csat) are not part of analytics_daily, so they need no roll-up here.

create table public.analytics_hourly (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  hour timestamptz not null,
  conversations integer not null default 0,
  bot_only integer not null default 0,
  user_messages integer not null default 0,
  bot_messages integer not null default 0,
  agent_messages integer not null default 0,
  tokens_in bigint not null default 0,
  tokens_out bigint not null default 0,
  cost_usd numeric not null default 0,
  tool_calls integer not null default 0,
  tool_successes integer not null default 0,
  primary key (tenant_id, hour)
);

comment on table public.analytics_hourly is
  'Per tenant and UTC hour, the activity analytics_daily adds up; kept by triggers, read-only through the API.';
comment on column public.analytics_hourly.tenant_id is 'The tenant.';
comment on column public.analytics_hourly.hour is 'Start of the UTC hour (whole hour).';
comment on column public.analytics_hourly.conversations is 'Conversations started in the hour.';
comment on column public.analytics_hourly.bot_only is
  'Of those, the ones the bot answered and no person joined (no handoff, no assignee, no staff message).';
comment on column public.analytics_hourly.user_messages is 'Visitor messages created in the hour.';
comment on column public.analytics_hourly.bot_messages is 'Bot replies created in the hour.';
comment on column public.analytics_hourly.agent_messages is
  'Staff messages created in the hour, internal notes excluded.';
comment on column public.analytics_hourly.tokens_in is 'Prompt tokens of the messages created in the hour.';
comment on column public.analytics_hourly.tokens_out is 'Completion tokens of the messages created in the hour.';
comment on column public.analytics_hourly.cost_usd is 'Model cost of the messages created in the hour, in USD.';
comment on column public.analytics_hourly.tool_calls is 'Tool executions made in the hour.';
comment on column public.analytics_hourly.tool_successes is 'Of those, the successful ones.';

alter table public.analytics_hourly enable row level security;

create policy analytics_hourly_select on public.analytics_hourly for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );

revoke all on public.analytics_hourly from anon, authenticated;
grant select on public.analytics_hourly to authenticated;

-- What has been counted for each conversation: its tenant and hour (where it was counted) and
-- whether it was counted as handled by the bot alone. Being the record of what the roll-up holds,
-- a change is always the difference between this row and the conversation as it is now.
create table private.analytics_conversations (
  conversation_id uuid primary key,
  tenant_id uuid not null,
  created_at timestamptz not null,
  bot_only boolean not null default false
);
create index analytics_conversations_tenant_created_idx
  on private.analytics_conversations (tenant_id, created_at);

comment on table private.analytics_conversations is
  'Per conversation, where analytics_hourly counted it and whether as bot-only.';

create or replace function private.analytics_hour(p_at timestamptz) returns timestamptz
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.date_trunc('hour', p_at, 'UTC')
$$;

comment on function private.analytics_hour(timestamptz) is
  'The UTC hour an instant falls in, whatever the session time zone.';

-- Brings the bot-only flag of the given conversations up to date, and analytics_hourly with it.
-- The state rows are locked first, in a fixed order: a concurrent change to the same conversation
-- waits, then recounts in a statement that sees what the other committed (read committed takes a
-- new snapshot per statement), so the last writer always counts with every message.
create or replace function private.analytics_refresh_conversations(p_ids uuid[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if coalesce(cardinality(p_ids), 0) = 0 then
    return;
  end if;
  perform 1 from private.analytics_conversations s
   where s.conversation_id = any (p_ids)
   order by s.conversation_id
     for update;
  with fresh as (
    select s.conversation_id,
           coalesce(c.handoff_at is null and c.assignee_id is null
             and exists (select 1 from public.messages m
                          where m.conversation_id = c.id and m.role = 'assistant')
             and not exists (select 1 from public.messages m
                              where m.conversation_id = c.id and m.role = 'agent'), false) as now
      from private.analytics_conversations s
      left join public.conversations c on c.id = s.conversation_id
     where s.conversation_id = any (p_ids)
  ),
  changed as (
    update private.analytics_conversations s set bot_only = f.now
      from fresh f
     where s.conversation_id = f.conversation_id and s.bot_only <> f.now
    returning s.tenant_id, private.analytics_hour(s.created_at) as hour, f.now
  )
  insert into public.analytics_hourly as h (tenant_id, hour, bot_only)
  select x.tenant_id, x.hour, sum(case when x.now then 1 else -1 end)::int
    from changed x
   where exists (select 1 from public.tenants t where t.id = x.tenant_id)
   group by 1, 2
   order by 1, 2
  on conflict (tenant_id, hour) do update set bot_only = h.bot_only + excluded.bot_only;
end;
$$;

comment on function private.analytics_refresh_conversations(uuid[]) is
  'Recomputes whether each conversation counts as handled by the bot alone and applies the difference to analytics_hourly.';

create or replace function private.analytics_conversations_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
begin
  if tg_op = 'INSERT' then
    insert into private.analytics_conversations (conversation_id, tenant_id, created_at)
    select n.id, n.tenant_id, n.created_at from new_rows n
    on conflict (conversation_id) do nothing;
    insert into public.analytics_hourly as h (tenant_id, hour, conversations)
    select n.tenant_id, private.analytics_hour(n.created_at), count(*)::int
      from new_rows n group by 1, 2 order by 1, 2
    on conflict (tenant_id, hour) do update set conversations = h.conversations + excluded.conversations;
    select array_agg(n.id) into ids from new_rows n;
    perform private.analytics_refresh_conversations(ids);
  elsif tg_op = 'DELETE' then
    with gone as (
      delete from private.analytics_conversations s
       using old_rows o
       where s.conversation_id = o.id
      returning s.tenant_id, private.analytics_hour(s.created_at) as hour, s.bot_only
    )
    insert into public.analytics_hourly as h (tenant_id, hour, conversations, bot_only)
    select g.tenant_id, g.hour, -count(*)::int, -(count(*) filter (where g.bot_only))::int
      from gone g
     where exists (select 1 from public.tenants t where t.id = g.tenant_id)
     group by 1, 2 order by 1, 2
    on conflict (tenant_id, hour) do update
      set conversations = h.conversations + excluded.conversations,
          bot_only = h.bot_only + excluded.bot_only;
  else
    -- A conversation moved in time or between tenants (imports, repairs): count it where it is now.
    with moved as (
      select n.id, n.tenant_id, n.created_at
        from new_rows n join old_rows o on o.id = n.id
       where n.tenant_id <> o.tenant_id or n.created_at <> o.created_at
    ),
    was as (
      update private.analytics_conversations s
         set tenant_id = m.tenant_id, created_at = m.created_at, bot_only = false
        from moved m, private.analytics_conversations prior
       where s.conversation_id = m.id and prior.conversation_id = m.id
      returning prior.tenant_id as old_tenant, private.analytics_hour(prior.created_at) as old_hour,
                prior.bot_only as old_bot_only, s.tenant_id, private.analytics_hour(s.created_at) as hour
    ),
    deltas as (
      select w.old_tenant as tenant_id, w.old_hour as hour, -1 as conversations,
             case when w.old_bot_only then -1 else 0 end as bot_only
        from was w
      union all
      select w.tenant_id, w.hour, 1, 0 from was w
    )
    insert into public.analytics_hourly as h (tenant_id, hour, conversations, bot_only)
    select d.tenant_id, d.hour, sum(d.conversations)::int, sum(d.bot_only)::int
      from deltas d
     where exists (select 1 from public.tenants t where t.id = d.tenant_id)
     group by 1, 2 order by 1, 2
    on conflict (tenant_id, hour) do update
      set conversations = h.conversations + excluded.conversations,
          bot_only = h.bot_only + excluded.bot_only;
    select array_agg(n.id) into ids
      from new_rows n join old_rows o on o.id = n.id
     where n.handoff_at is distinct from o.handoff_at
        or n.assignee_id is distinct from o.assignee_id
        or n.tenant_id <> o.tenant_id or n.created_at <> o.created_at;
    perform private.analytics_refresh_conversations(ids);
  end if;
  return null;
end;
$$;

comment on function private.analytics_conversations_changed() is
  'Keeps analytics_hourly''s conversation counts in step with inserted, changed and deleted conversations.';

create trigger conversations_analytics_insert after insert on public.conversations
  referencing new table as new_rows
  for each statement execute function private.analytics_conversations_changed();
create trigger conversations_analytics_update
  after update on public.conversations
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.analytics_conversations_changed();
create trigger conversations_analytics_delete after delete on public.conversations
  referencing old table as old_rows
  for each statement execute function private.analytics_conversations_changed();

-- A message adds to its hour on insert and takes away on delete; an edit takes the old row away
-- and adds the new one. Bot and staff messages also decide whether their conversation was the bot's
-- alone.
create or replace function private.analytics_messages_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- A trigger only has the transition tables it declared; both sides go through arrays so one
  -- statement serves inserts, edits and deletes.
  added public.messages[] := '{}';
  removed public.messages[] := '{}';
  ids uuid[];
begin
  if tg_op in ('INSERT', 'UPDATE') then
    added := array(select n from new_rows n);
  end if;
  if tg_op in ('DELETE', 'UPDATE') then
    removed := array(select o from old_rows o);
  end if;
  with rows as (
    select 1 as sign, a.tenant_id, a.created_at, a.role, a.is_private, a.tokens_in, a.tokens_out,
           a.cost_usd, a.conversation_id
      from unnest(added) a
    union all
    select -1, r.tenant_id, r.created_at, r.role, r.is_private, r.tokens_in, r.tokens_out,
           r.cost_usd, r.conversation_id
      from unnest(removed) r
  ),
  sums as (
    select r.tenant_id, private.analytics_hour(r.created_at) as hour,
           sum(r.sign * (r.role = 'user')::int)::int as user_messages,
           sum(r.sign * (r.role = 'assistant')::int)::int as bot_messages,
           sum(r.sign * (r.role = 'agent' and not r.is_private)::int)::int as agent_messages,
           sum(r.sign * r.tokens_in)::bigint as tokens_in,
           sum(r.sign * r.tokens_out)::bigint as tokens_out,
           sum(r.sign * r.cost_usd) as cost_usd
      from rows r
     group by 1, 2
  )
  insert into public.analytics_hourly as h
    (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
  select x.tenant_id, x.hour, x.user_messages, x.bot_messages, x.agent_messages, x.tokens_in,
         x.tokens_out, x.cost_usd
    from sums x
   where (x.user_messages, x.bot_messages, x.agent_messages, x.tokens_in, x.tokens_out, x.cost_usd)
         <> (0, 0, 0, 0::bigint, 0::bigint, 0::numeric)
     -- A tenant being deleted takes its roll-up with it.
     and exists (select 1 from public.tenants t where t.id = x.tenant_id)
   order by 1, 2
  on conflict (tenant_id, hour) do update
    set user_messages = h.user_messages + excluded.user_messages,
        bot_messages = h.bot_messages + excluded.bot_messages,
        agent_messages = h.agent_messages + excluded.agent_messages,
        tokens_in = h.tokens_in + excluded.tokens_in,
        tokens_out = h.tokens_out + excluded.tokens_out,
        cost_usd = h.cost_usd + excluded.cost_usd;

  select array_agg(distinct x.conversation_id) into ids
    from (
      select a.conversation_id, a.role from unnest(added) a
      union all
      select r.conversation_id, r.role from unnest(removed) r
    ) x
   where x.role in ('assistant', 'agent');
  perform private.analytics_refresh_conversations(ids);
  return null;
end;
$$;

comment on function private.analytics_messages_changed() is
  'Keeps analytics_hourly''s message, token and cost figures, and the bot-only counts, in step with messages.';

create trigger messages_analytics_insert after insert on public.messages
  referencing new table as new_rows
  for each statement execute function private.analytics_messages_changed();
create trigger messages_analytics_update
  after update on public.messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.analytics_messages_changed();
create trigger messages_analytics_delete after delete on public.messages
  referencing old table as old_rows
  for each statement execute function private.analytics_messages_changed();

create or replace function private.analytics_tool_executions_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  added public.tool_executions[] := '{}';
  removed public.tool_executions[] := '{}';
begin
  if tg_op in ('INSERT', 'UPDATE') then
    added := array(select n from new_rows n);
  end if;
  if tg_op in ('DELETE', 'UPDATE') then
    removed := array(select o from old_rows o);
  end if;
  with rows as (
    select 1 as sign, a.tenant_id, a.created_at, a.success from unnest(added) a
    union all
    select -1, r.tenant_id, r.created_at, r.success from unnest(removed) r
  ),
  sums as (
    select r.tenant_id, private.analytics_hour(r.created_at) as hour,
           sum(r.sign)::int as calls, sum(r.sign * r.success::int)::int as successes
      from rows r
     group by 1, 2
  )
  insert into public.analytics_hourly as h (tenant_id, hour, tool_calls, tool_successes)
  select x.tenant_id, x.hour, x.calls, x.successes
    from sums x
   where (x.calls, x.successes) <> (0, 0)
     and exists (select 1 from public.tenants t where t.id = x.tenant_id)
   order by 1, 2
  on conflict (tenant_id, hour) do update
    set tool_calls = h.tool_calls + excluded.tool_calls,
        tool_successes = h.tool_successes + excluded.tool_successes;
  return null;
end;
$$;

comment on function private.analytics_tool_executions_changed() is
  'Keeps analytics_hourly''s tool call and success counts in step with tool executions.';

create trigger tool_executions_analytics_insert after insert on public.tool_executions
  referencing new table as new_rows
  for each statement execute function private.analytics_tool_executions_changed();
create trigger tool_executions_analytics_update
  after update on public.tool_executions
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.analytics_tool_executions_changed();
create trigger tool_executions_analytics_delete after delete on public.tool_executions
  referencing old table as old_rows
  for each statement execute function private.analytics_tool_executions_changed();

-- What is already there.
insert into private.analytics_conversations (conversation_id, tenant_id, created_at, bot_only)
select c.id, c.tenant_id, c.created_at,
       c.handoff_at is null and c.assignee_id is null
       and exists (select 1 from public.messages m where m.conversation_id = c.id and m.role = 'assistant')
       and not exists (select 1 from public.messages m where m.conversation_id = c.id and m.role = 'agent')
  from public.conversations c;

insert into public.analytics_hourly as h (tenant_id, hour, conversations, bot_only)
select s.tenant_id, private.analytics_hour(s.created_at), count(*)::int,
       (count(*) filter (where s.bot_only))::int
  from private.analytics_conversations s group by 1, 2
on conflict (tenant_id, hour) do update
  set conversations = h.conversations + excluded.conversations, bot_only = h.bot_only + excluded.bot_only;

insert into public.analytics_hourly as h
  (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
select m.tenant_id, private.analytics_hour(m.created_at),
       (count(*) filter (where m.role = 'user'))::int,
       (count(*) filter (where m.role = 'assistant'))::int,
       (count(*) filter (where m.role = 'agent' and not m.is_private))::int,
       sum(m.tokens_in)::bigint, sum(m.tokens_out)::bigint, sum(m.cost_usd)
  from public.messages m group by 1, 2
on conflict (tenant_id, hour) do update
  set user_messages = excluded.user_messages, bot_messages = excluded.bot_messages,
      agent_messages = excluded.agent_messages, tokens_in = excluded.tokens_in,
      tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd;

insert into public.analytics_hourly as h (tenant_id, hour, tool_calls, tool_successes)
select e.tenant_id, private.analytics_hour(e.created_at), count(*)::int,
       (count(*) filter (where e.success))::int
  from public.tool_executions e group by 1, 2
on conflict (tenant_id, hour) do update
  set tool_calls = excluded.tool_calls, tool_successes = excluded.tool_successes;

-- Same signature, same figures; whole hours come from the roll-up, and only an hour a day boundary
-- cuts through is read row by row.
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
  bounds timestamptz[];
  cut timestamptz[];
  n integer := p_to - p_from + 1;
begin
  perform private.check_metrics_request(p_tenant_id, p_from, p_to, zone);
  -- bounds[i] is the start of day i of the range where the tenant is; bounds[n + 1] its end.
  select array_agg((d::date)::timestamp at time zone zone order by d) into bounds
    from generate_series(p_from, p_to + 1, interval '1 day') d;
  -- The UTC hours a day boundary falls inside of.
  select coalesce(array_agg(distinct private.analytics_hour(b)), '{}') into cut
    from unnest(bounds) b
   where b <> private.analytics_hour(b);
  return query
  with parts as (
    select width_bucket(h.hour, bounds) as i, h.conversations, h.bot_only, h.user_messages,
           h.bot_messages, h.agent_messages, h.tokens_in, h.tokens_out, h.cost_usd, h.tool_calls,
           h.tool_successes
      from public.analytics_hourly h
     where h.tenant_id = p_tenant_id and h.hour >= bounds[1] and h.hour < bounds[n + 1]
       and h.hour <> all (cut)
    union all
    select width_bucket(s.created_at, bounds), 1, s.bot_only::int, 0, 0, 0, 0::bigint, 0::bigint,
           0::numeric, 0, 0
      from unnest(cut) as u (hour)
      join private.analytics_conversations s
        on s.tenant_id = p_tenant_id and s.created_at >= u.hour
       and s.created_at < u.hour + interval '1 hour'
    union all
    select width_bucket(m.created_at, bounds), 0, 0, (m.role = 'user')::int,
           (m.role = 'assistant')::int, (m.role = 'agent' and not m.is_private)::int,
           m.tokens_in::bigint, m.tokens_out::bigint, m.cost_usd::numeric, 0, 0
      from unnest(cut) as u (hour)
      join public.messages m
        on m.tenant_id = p_tenant_id and m.created_at >= u.hour
       and m.created_at < u.hour + interval '1 hour'
    union all
    select width_bucket(e.created_at, bounds), 0, 0, 0, 0, 0, 0::bigint, 0::bigint, 0::numeric, 1,
           e.success::int
      from unnest(cut) as u (hour)
      join public.tool_executions e
        on e.tenant_id = p_tenant_id and e.created_at >= u.hour
       and e.created_at < u.hour + interval '1 hour'
  ),
  per_day as (
    select p.i,
           sum(p.conversations)::int as conversations,
           sum(p.bot_only)::int as bot_only,
           sum(p.user_messages)::int as user_messages,
           sum(p.bot_messages)::int as bot_messages,
           sum(p.agent_messages)::int as agent_messages,
           sum(p.tokens_in)::bigint as tokens_in,
           sum(p.tokens_out)::bigint as tokens_out,
           sum(p.cost_usd) as cost_usd,
           sum(p.tool_calls)::int as tool_calls,
           sum(p.tool_successes)::int as tool_successes
      from parts p
     where p.i between 1 and n
     group by p.i
  )
  select p_from + g.i - 1,
         coalesce(d.conversations, 0),
         coalesce(d.bot_only, 0),
         case when d.conversations > 0 then round(d.bot_only::numeric / d.conversations, 4)::float8 end,
         coalesce(d.user_messages, 0),
         coalesce(d.bot_messages, 0),
         coalesce(d.agent_messages, 0),
         coalesce(d.tokens_in, 0::bigint),
         coalesce(d.tokens_out, 0::bigint),
         round(coalesce(d.cost_usd, 0), 6),
         coalesce(d.tool_calls, 0),
         coalesce(d.tool_successes, 0),
         case when d.tool_calls > 0 then round(d.tool_successes::numeric / d.tool_calls, 4)::float8 end
    from generate_series(1, n) as g (i)
    left join per_day d on d.i = g.i
   order by g.i;
end;
$$;

comment on function public.analytics_daily(uuid, date, date, text) is
  'Per day of a range in the tenant''s time zone (or the one given): conversations started and those the bot handled alone, messages by author, tokens and cost, tool calls and successes. Owners, admins and platform admins.';
