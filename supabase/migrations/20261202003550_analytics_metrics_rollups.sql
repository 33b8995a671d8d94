-- The support metrics (conversation_metrics_daily, conversation_metrics_by_agent) from the
-- roll-ups instead of every conversation and message of the range, and Playground conversations
-- out of every analytics figure and every tenant webhook (docs/admin.md, "Analytics";
-- docs/webhooks.md).
--
-- private.analytics_conversations, the per-conversation record of what analytics_hourly counted,
-- now also holds each conversation's support facts (handed off, first response, resolution,
-- rating, assignee), kept by the same statement-level triggers under the same row lock;
-- analytics_hourly adds them up per UTC hour of the conversation's start. Daily counts and means
-- come from the hourly sums (the hours a day boundary cuts through from the per-conversation rows,
-- as analytics_daily does); the 90th percentile and the per-assignee table come from the
-- per-conversation rows, which are a few small columns per conversation, no messages read.
--
-- Means are now the exact decimal mean of the exact durations (they were means of float8 values,
-- which could land a hair under a rounding boundary).
--
-- A Playground conversation (conversations.playground_by) is staff trying their own bot: it is
-- recorded, but neither it, nor its messages, tokens and cost, nor its tool calls are counted, and
-- it sends no webhook. Billing usage and quotas still count it: its replies spend real model money.
-- So that a conversation is a Playground one for good, the mark cannot change once written, and a
-- Playground conversation goes with the staff member who opened it (it used to be kept, unmarked,
-- and would then have counted as a customer's).

-- Playground marks ---------------------------------------------------------------------------------
alter table public.conversations
  drop constraint conversations_playground_by_fkey,
  add constraint conversations_playground_by_fkey
    foreign key (playground_by) references auth.users (id) on delete cascade;

comment on column public.conversations.playground_by is
  'The staff member who opened this conversation from the admin''s Playground to try the bot; null for real visitors. Fixed once written; the conversation is deleted with that user. Not counted in analytics, sends no tenant webhook.';

create or replace function private.keep_playground_mark() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.playground_by is distinct from old.playground_by then
    raise exception 'whether a conversation is a Playground one cannot change' using errcode = '42501';
  end if;
  return new;
end;
$$;

comment on function private.keep_playground_mark() is
  'Refuses a change of conversations.playground_by: analytics and webhooks decide on it once.';

create trigger conversations_playground_fixed before update of playground_by on public.conversations
  for each row execute function private.keep_playground_mark();

-- A cascade's own triggers run after those of the statement that caused it: a deleted
-- conversation's record would be gone before the deletion of its messages is counted, and a
-- Playground conversation's messages would then be taken away from figures that never had them.
-- So a Playground conversation deletes its messages and tool calls first, while its record still
-- says what it was. (Any other deleted conversation's tool calls stay, as calls without one.)
create or replace function private.playground_conversation_deleting() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.messages where conversation_id = old.id;
  delete from public.tool_executions where conversation_id = old.id;
  return old;
end;
$$;

comment on function private.playground_conversation_deleting() is
  'Deletes a Playground conversation''s messages and tool calls before the conversation itself, so analytics never counts them.';

create trigger conversations_playground_delete before delete on public.conversations
  for each row when (old.playground_by is not null)
  execute function private.playground_conversation_deleting();

-- Roll-up columns ----------------------------------------------------------------------------------
alter table private.analytics_conversations
  add column playground boolean not null default false,
  add column assignee_id uuid,
  add column handed_off boolean not null default false,
  add column first_response_seconds numeric,
  add column resolution_seconds numeric,
  add column csat smallint;

comment on column private.analytics_conversations.playground is
  'A Playground conversation: recorded, never counted.';
comment on column private.analytics_conversations.assignee_id is 'The conversation''s assignee now.';
comment on column private.analytics_conversations.handed_off is 'It asked for a person at some point.';
comment on column private.analytics_conversations.first_response_seconds is
  'From the handoff (or the visitor''s first message) to the first agent message the visitor saw; null without one.';
comment on column private.analytics_conversations.resolution_seconds is
  'From the start to resolved_at, for a conversation resolved now; null otherwise.';
comment on column private.analytics_conversations.csat is 'The visitor''s rating, if any.';

-- The per-day percentile and the per-assignee table read only the rows they need.
create index analytics_conversations_first_response_idx
  on private.analytics_conversations (tenant_id, created_at)
  where first_response_seconds is not null and not playground;
create index analytics_conversations_assignee_idx
  on private.analytics_conversations (tenant_id, created_at)
  where assignee_id is not null and not playground;

alter table public.analytics_hourly
  add column handoffs integer not null default 0,
  add column first_responses integer not null default 0,
  add column first_response_seconds numeric not null default 0,
  add column resolved integer not null default 0,
  add column resolution_seconds numeric not null default 0,
  add column csat_count integer not null default 0,
  add column csat_sum integer not null default 0;

comment on column public.analytics_hourly.handoffs is
  'Of the conversations started in the hour, those that asked for a person.';
comment on column public.analytics_hourly.first_responses is
  'Of the conversations started in the hour, those with a first response.';
comment on column public.analytics_hourly.first_response_seconds is
  'Sum of those first response times, in seconds.';
comment on column public.analytics_hourly.resolved is
  'Of the conversations started in the hour, those resolved now.';
comment on column public.analytics_hourly.resolution_seconds is
  'Sum of their times from start to resolution, in seconds.';
comment on column public.analytics_hourly.csat_count is
  'Of the conversations started in the hour, those rated.';
comment on column public.analytics_hourly.csat_sum is 'Sum of their ratings.';
comment on column public.analytics_hourly.conversations is
  'Conversations started in the hour (Playground ones excluded, as from every figure here).';

-- Facts and counting -------------------------------------------------------------------------------
create or replace function private.analytics_conversation_facts(p_ids uuid[])
returns table (
  conversation_id uuid,
  playground boolean,
  bot_only boolean,
  assignee_id uuid,
  handed_off boolean,
  first_response_seconds numeric,
  resolution_seconds numeric,
  csat smallint
)
language sql
stable
security definer
set search_path = ''
as $$
  select c.id,
         c.playground_by is not null,
         c.handoff_at is null and c.assignee_id is null
           and exists (select 1 from public.messages m
                        where m.conversation_id = c.id and m.role = 'assistant')
           and not exists (select 1 from public.messages m
                            where m.conversation_id = c.id and m.role = 'agent'),
         c.assignee_id,
         c.handoff_at is not null,
         extract(epoch from reply.at - start.at),
         case when c.status = 'resolved' and c.resolved_at is not null
              then extract(epoch from c.resolved_at - c.created_at) end,
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
   where c.id = any (p_ids)
$$;

comment on function private.analytics_conversation_facts(uuid[]) is
  'What the roll-ups record of each given conversation, read from it and its messages.';

-- Takes the removed records away from analytics_hourly and adds the added ones, by the hour each
-- conversation started in. Playground records count for nothing; a tenant being deleted takes its
-- roll-up with it.
create or replace function private.analytics_count_conversations(
  p_removed private.analytics_conversations[], p_added private.analytics_conversations[]
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.analytics_hourly as h
    (tenant_id, hour, conversations, bot_only, handoffs, first_responses, first_response_seconds,
     resolved, resolution_seconds, csat_count, csat_sum)
  select x.tenant_id, private.analytics_hour(x.created_at),
         sum(x.sign)::int,
         sum(x.sign * x.bot_only::int)::int,
         sum(x.sign * x.handed_off::int)::int,
         sum(x.sign * (x.first_response_seconds is not null)::int)::int,
         coalesce(sum(x.sign * x.first_response_seconds), 0),
         sum(x.sign * (x.resolution_seconds is not null)::int)::int,
         coalesce(sum(x.sign * x.resolution_seconds), 0),
         sum(x.sign * (x.csat is not null)::int)::int,
         coalesce(sum(x.sign * x.csat), 0)::int
    from (
      select -1 as sign, r.tenant_id, r.created_at, r.playground, r.bot_only, r.handed_off,
             r.first_response_seconds, r.resolution_seconds, r.csat
        from unnest(p_removed) r
      union all
      select 1, a.tenant_id, a.created_at, a.playground, a.bot_only, a.handed_off,
             a.first_response_seconds, a.resolution_seconds, a.csat
        from unnest(p_added) a
    ) x
   where not x.playground
     and exists (select 1 from public.tenants t where t.id = x.tenant_id)
   group by 1, 2
  having (sum(x.sign), sum(x.sign * x.bot_only::int), sum(x.sign * x.handed_off::int),
          sum(x.sign * (x.first_response_seconds is not null)::int),
          coalesce(sum(x.sign * x.first_response_seconds), 0),
          sum(x.sign * (x.resolution_seconds is not null)::int),
          coalesce(sum(x.sign * x.resolution_seconds), 0),
          sum(x.sign * (x.csat is not null)::int), coalesce(sum(x.sign * x.csat), 0))
         <> (0, 0, 0, 0, 0::numeric, 0, 0::numeric, 0, 0)
   order by 1, 2
  on conflict (tenant_id, hour) do update
    set conversations = h.conversations + excluded.conversations,
        bot_only = h.bot_only + excluded.bot_only,
        handoffs = h.handoffs + excluded.handoffs,
        first_responses = h.first_responses + excluded.first_responses,
        first_response_seconds = h.first_response_seconds + excluded.first_response_seconds,
        resolved = h.resolved + excluded.resolved,
        resolution_seconds = h.resolution_seconds + excluded.resolution_seconds,
        csat_count = h.csat_count + excluded.csat_count,
        csat_sum = h.csat_sum + excluded.csat_sum
$$;

comment on function private.analytics_count_conversations(private.analytics_conversations[], private.analytics_conversations[]) is
  'Applies to analytics_hourly the difference between removed and added per-conversation records.';

-- Brings the given conversations' records up to date, and analytics_hourly with them. The records
-- are locked first, in a fixed order: a concurrent change to the same conversation waits, then
-- recounts in a statement that sees what the other committed (read committed takes a new snapshot
-- per statement), so the last writer always counts with every message. A conversation no longer
-- there (being deleted) is left to the deletion.
create or replace function private.analytics_refresh_conversations(p_ids uuid[]) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  removed private.analytics_conversations[];
  added private.analytics_conversations[];
begin
  if coalesce(cardinality(p_ids), 0) = 0 then
    return;
  end if;
  perform 1 from private.analytics_conversations s
   where s.conversation_id = any (p_ids)
   order by s.conversation_id
     for update;
  with fresh as (
    select f.* from private.analytics_conversation_facts(p_ids) f
  ),
  stale as (
    select s from private.analytics_conversations s join fresh f using (conversation_id)
     where (s.bot_only, s.assignee_id, s.handed_off, s.first_response_seconds,
            s.resolution_seconds, s.csat)
           is distinct from
           (f.bot_only, f.assignee_id, f.handed_off, f.first_response_seconds,
            f.resolution_seconds, f.csat)
  ),
  changed as (
    update private.analytics_conversations s
       set bot_only = f.bot_only, assignee_id = f.assignee_id, handed_off = f.handed_off,
           first_response_seconds = f.first_response_seconds,
           resolution_seconds = f.resolution_seconds, csat = f.csat
      from fresh f
     where s.conversation_id = f.conversation_id
       and (s.bot_only, s.assignee_id, s.handed_off, s.first_response_seconds,
            s.resolution_seconds, s.csat)
           is distinct from
           (f.bot_only, f.assignee_id, f.handed_off, f.first_response_seconds,
            f.resolution_seconds, f.csat)
    returning s
  )
  select array(select x.s from stale x), array(select x.s from changed x) into removed, added;
  perform private.analytics_count_conversations(removed, added);
end;
$$;

comment on function private.analytics_refresh_conversations(uuid[]) is
  'Recomputes what the roll-ups record of each conversation (bot-only, handoff, first response, resolution, rating, assignee) and applies the difference to analytics_hourly.';

create or replace function private.analytics_conversations_changed() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  ids uuid[];
  removed private.analytics_conversations[];
  added private.analytics_conversations[];
begin
  if tg_op = 'INSERT' then
    with made as (
      insert into private.analytics_conversations as s
        (conversation_id, tenant_id, created_at, playground)
      select n.id, n.tenant_id, n.created_at, n.playground_by is not null from new_rows n
      on conflict (conversation_id) do nothing
      returning s
    )
    select array(select m.s from made m) into added;
    perform private.analytics_count_conversations('{}', added);
    select array_agg(n.id) into ids from new_rows n;
    perform private.analytics_refresh_conversations(ids);
  elsif tg_op = 'DELETE' then
    with gone as (
      delete from private.analytics_conversations s
       using old_rows o
       where s.conversation_id = o.id
      returning s
    )
    select array(select g.s from gone g) into removed;
    perform private.analytics_count_conversations(removed, '{}');
  else
    -- A conversation moved in time or between tenants (imports, repairs): count it where it is
    -- now, its facts recounted below.
    if exists (select 1 from new_rows n join old_rows o on o.id = n.id
                where n.tenant_id <> o.tenant_id or n.created_at <> o.created_at) then
      with moved as (
        select n.id, n.tenant_id, n.created_at
          from new_rows n join old_rows o on o.id = n.id
         where n.tenant_id <> o.tenant_id or n.created_at <> o.created_at
      ),
      prior as (
        select s from private.analytics_conversations s join moved m on m.id = s.conversation_id
      ),
      now_at as (
        update private.analytics_conversations s
           set tenant_id = m.tenant_id, created_at = m.created_at, bot_only = false,
               assignee_id = null, handed_off = false, first_response_seconds = null,
               resolution_seconds = null, csat = null
          from moved m
         where s.conversation_id = m.id
        returning s
      )
      select array(select p.s from prior p), array(select x.s from now_at x) into removed, added;
      perform private.analytics_count_conversations(removed, added);
    end if;
    select array_agg(n.id) into ids
      from new_rows n join old_rows o on o.id = n.id
     where n.handoff_at is distinct from o.handoff_at
        or n.assignee_id is distinct from o.assignee_id
        or n.status is distinct from o.status
        or n.resolved_at is distinct from o.resolved_at
        or n.csat is distinct from o.csat
        or n.tenant_id <> o.tenant_id or n.created_at <> o.created_at;
    perform private.analytics_refresh_conversations(ids);
  end if;
  return null;
end;
$$;

comment on function private.analytics_conversations_changed() is
  'Keeps analytics_hourly''s conversation figures in step with inserted, changed and deleted conversations.';

-- A message adds to its hour on insert and takes away on delete; an edit takes the old row away
-- and adds the new one; a Playground conversation's messages count for nothing. The messages that
-- can change a conversation's facts have it recounted: bot and staff messages, and a visitor's
-- message that is (or was) the conversation's first.
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
     where not exists (select 1 from private.analytics_conversations s
                        where s.conversation_id = r.conversation_id and s.playground)
     group by 1, 2
  )
  insert into public.analytics_hourly as h
    (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
  select x.tenant_id, x.hour, x.user_messages, x.bot_messages, x.agent_messages, x.tokens_in,
         x.tokens_out, x.cost_usd
    from sums x
   where (x.user_messages, x.bot_messages, x.agent_messages, x.tokens_in, x.tokens_out, x.cost_usd)
         <> (0, 0, 0, 0::bigint, 0::bigint, 0::numeric)
     and exists (select 1 from public.tenants t where t.id = x.tenant_id)
   order by 1, 2
  on conflict (tenant_id, hour) do update
    set user_messages = h.user_messages + excluded.user_messages,
        bot_messages = h.bot_messages + excluded.bot_messages,
        agent_messages = h.agent_messages + excluded.agent_messages,
        tokens_in = h.tokens_in + excluded.tokens_in,
        tokens_out = h.tokens_out + excluded.tokens_out,
        cost_usd = h.cost_usd + excluded.cost_usd;

  if tg_op = 'UPDATE' then
    -- Receipts and text edits change no fact; an author, a note made visible, a new time or
    -- conversation may.
    select array_agg(distinct x.id) into ids
      from unnest(added) n join unnest(removed) o on o.id = n.id,
           lateral (values (n.conversation_id), (o.conversation_id)) x (id)
     where n.role is distinct from o.role
        or n.is_private is distinct from o.is_private
        or n.created_at is distinct from o.created_at
        or n.conversation_id is distinct from o.conversation_id;
  else
    select array_agg(distinct x.conversation_id) into ids
      from (
        select a.conversation_id, a.role, a.created_at from unnest(added) a
        union all
        select r.conversation_id, r.role, r.created_at from unnest(removed) r
      ) x
     where x.role in ('assistant', 'agent')
        or (x.role = 'user'
            and not exists (select 1 from public.messages m
                             where m.conversation_id = x.conversation_id and m.role = 'user'
                               and m.created_at < x.created_at));
  end if;
  perform private.analytics_refresh_conversations(ids);
  return null;
end;
$$;

comment on function private.analytics_messages_changed() is
  'Keeps analytics_hourly''s message, token and cost figures, and each conversation''s facts, in step with messages.';

-- A tool call of a Playground conversation counts for nothing (and is deleted with it).
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
    select 1 as sign, a.tenant_id, a.created_at, a.success, a.conversation_id from unnest(added) a
    union all
    select -1, r.tenant_id, r.created_at, r.success, r.conversation_id from unnest(removed) r
  ),
  sums as (
    select r.tenant_id, private.analytics_hour(r.created_at) as hour,
           sum(r.sign)::int as calls, sum(r.sign * r.success::int)::int as successes
      from rows r
     where not exists (select 1 from private.analytics_conversations s
                        where s.conversation_id = r.conversation_id and s.playground)
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
  'Keeps analytics_hourly''s tool call and success counts in step with tool executions, Playground ones aside.';

create or replace function private.analytics_rebuild(p_tenant_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  counted private.analytics_conversations[];
begin
  delete from public.analytics_hourly where tenant_id = p_tenant_id;
  delete from private.analytics_conversations where tenant_id = p_tenant_id;

  insert into private.analytics_conversations
    (conversation_id, tenant_id, created_at, playground, bot_only, assignee_id, handed_off,
     first_response_seconds, resolution_seconds, csat)
  select c.id, c.tenant_id, c.created_at, f.playground, f.bot_only, f.assignee_id, f.handed_off,
         f.first_response_seconds, f.resolution_seconds, f.csat
    from public.conversations c
    join private.analytics_conversation_facts(
           array(select x.id from public.conversations x where x.tenant_id = p_tenant_id)) f
      on f.conversation_id = c.id;

  counted := array(select s from private.analytics_conversations s where s.tenant_id = p_tenant_id);
  perform private.analytics_count_conversations('{}', counted);

  insert into public.analytics_hourly as h
    (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
  select m.tenant_id, private.analytics_hour(m.created_at),
         (count(*) filter (where m.role = 'user'))::int,
         (count(*) filter (where m.role = 'assistant'))::int,
         (count(*) filter (where m.role = 'agent' and not m.is_private))::int,
         sum(m.tokens_in)::bigint, sum(m.tokens_out)::bigint, sum(m.cost_usd)
    from public.messages m
   where m.tenant_id = p_tenant_id
     and not exists (select 1 from private.analytics_conversations s
                      where s.conversation_id = m.conversation_id and s.playground)
   group by 1, 2
  on conflict (tenant_id, hour) do update
    set user_messages = excluded.user_messages, bot_messages = excluded.bot_messages,
        agent_messages = excluded.agent_messages, tokens_in = excluded.tokens_in,
        tokens_out = excluded.tokens_out, cost_usd = excluded.cost_usd;

  insert into public.analytics_hourly as h (tenant_id, hour, tool_calls, tool_successes)
  select e.tenant_id, private.analytics_hour(e.created_at), count(*)::int,
         (count(*) filter (where e.success))::int
    from public.tool_executions e
   where e.tenant_id = p_tenant_id
     and not exists (select 1 from private.analytics_conversations s
                      where s.conversation_id = e.conversation_id and s.playground)
   group by 1, 2
  on conflict (tenant_id, hour) do update
    set tool_calls = excluded.tool_calls, tool_successes = excluded.tool_successes;
end;
$$;

comment on function private.analytics_rebuild(uuid) is
  'Recounts a tenant''s analytics_hourly and per-conversation records from its conversations, messages and tool executions, after a bulk load made with triggers off.';

revoke all on function
  private.keep_playground_mark(),
  private.playground_conversation_deleting(),
  private.analytics_conversation_facts(uuid[]),
  private.analytics_count_conversations(private.analytics_conversations[], private.analytics_conversations[])
from public, anon, authenticated;

-- The UTC-hour bounds of a range of days in a zone, and the hours a day boundary cuts through.
create or replace function private.analytics_day_bounds(p_from date, p_to date, p_zone text,
                                                        out bounds timestamptz[],
                                                        out cut timestamptz[])
language sql
stable
set search_path = ''
as $$
  with b as (
    select array_agg((d::date)::timestamp at time zone p_zone order by d) as bounds
      from generate_series(p_from, p_to + 1, interval '1 day') d
  )
  select b.bounds,
         coalesce((select array_agg(distinct private.analytics_hour(x)) from unnest(b.bounds) x
                    where x <> private.analytics_hour(x)), '{}')
    from b
$$;

comment on function private.analytics_day_bounds(date, date, text) is
  'bounds[i]: the start of day i of the range in the zone (bounds[n + 1] its end); cut: the UTC hours a day boundary falls inside of.';

revoke all on function private.analytics_day_bounds(date, date, text) from public, anon, authenticated;

-- Everything existing, recounted with the new columns and without Playground conversations.
select private.analytics_rebuild(t.id) from public.tenants t;

-- analytics_daily: the same, with Playground conversations left out of the hours read row by row.
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
  select b.bounds, b.cut into bounds, cut from private.analytics_day_bounds(p_from, p_to, zone) b;
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
      from unnest(cut) as u (hour),
           lateral (select x.created_at, x.bot_only from private.analytics_conversations x
                     where x.tenant_id = p_tenant_id and x.created_at >= u.hour
                       and x.created_at < u.hour + interval '1 hour' and not x.playground
                    offset 0) s
    union all
    select width_bucket(m.created_at, bounds), 0, 0, (m.role = 'user')::int,
           (m.role = 'assistant')::int, (m.role = 'agent' and not m.is_private)::int,
           m.tokens_in::bigint, m.tokens_out::bigint, m.cost_usd::numeric, 0, 0
      from unnest(cut) as u (hour),
           lateral (select x.created_at, x.role, x.is_private, x.tokens_in, x.tokens_out, x.cost_usd
                      from public.messages x
                     where x.tenant_id = p_tenant_id and x.created_at >= u.hour
                       and x.created_at < u.hour + interval '1 hour'
                       and not exists (select 1 from private.analytics_conversations s
                                        where s.conversation_id = x.conversation_id
                                          and s.playground)
                    offset 0) m
    union all
    select width_bucket(e.created_at, bounds), 0, 0, 0, 0, 0, 0::bigint, 0::bigint, 0::numeric, 1,
           e.success::int
      from unnest(cut) as u (hour),
           lateral (select x.created_at, x.success from public.tool_executions x
                     where x.tenant_id = p_tenant_id and x.created_at >= u.hour
                       and x.created_at < u.hour + interval '1 hour'
                       and not exists (select 1 from private.analytics_conversations s
                                        where s.conversation_id = x.conversation_id
                                          and s.playground)
                    offset 0) e
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
  'Per day of a range in the tenant''s time zone (or the one given): conversations started and those the bot handled alone, messages by author, tokens and cost, tool calls and successes; Playground conversations aside. Owners, admins and platform admins.';

-- Support metrics from the roll-ups ----------------------------------------------------------------
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
declare
  bounds timestamptz[];
  cut timestamptz[];
  n integer := p_to - p_from + 1;
begin
  perform private.check_metrics_request(p_tenant_id, p_from, p_to, p_time_zone);
  select b.bounds, b.cut into bounds, cut
    from private.analytics_day_bounds(p_from, p_to, p_time_zone) b;
  return query
  with parts as (
    select width_bucket(h.hour, bounds) as i, h.conversations, h.handoffs, h.first_responses,
           h.first_response_seconds, h.resolved, h.resolution_seconds, h.csat_count, h.csat_sum
      from public.analytics_hourly h
     where h.tenant_id = p_tenant_id and h.hour >= bounds[1] and h.hour < bounds[n + 1]
       and h.hour <> all (cut)
    union all
    select width_bucket(s.created_at, bounds), 1, s.handed_off::int,
           (s.first_response_seconds is not null)::int, coalesce(s.first_response_seconds, 0),
           (s.resolution_seconds is not null)::int, coalesce(s.resolution_seconds, 0),
           (s.csat is not null)::int, coalesce(s.csat, 0)::int
      from unnest(cut) as u (hour),
           lateral (select x.created_at, x.handed_off, x.first_response_seconds,
                           x.resolution_seconds, x.csat
                      from private.analytics_conversations x
                     where x.tenant_id = p_tenant_id and x.created_at >= u.hour
                       and x.created_at < u.hour + interval '1 hour' and not x.playground
                    offset 0) s
  ),
  per_day as (
    select p.i,
           sum(p.conversations)::int as conversations,
           sum(p.handoffs)::int as handoffs,
           sum(p.first_responses)::int as first_responses,
           sum(p.first_response_seconds) as first_response_seconds,
           sum(p.resolved)::int as resolved,
           sum(p.resolution_seconds) as resolution_seconds,
           sum(p.csat_count)::int as csat_count,
           sum(p.csat_sum)::int as csat_sum
      from parts p
     where p.i between 1 and n
     group by p.i
  ),
  -- A percentile does not add up by the hour: it reads the conversations that had a response.
  p90 as (
    select width_bucket(x.created_at, bounds) as i,
           percentile_cont(0.9) within group (order by x.first_response_seconds::float8) as seconds
      from private.analytics_conversations x
     where x.tenant_id = p_tenant_id and x.created_at >= bounds[1] and x.created_at < bounds[n + 1]
       and x.first_response_seconds is not null and not x.playground
     group by 1
  )
  select p_from + g.i - 1,
         coalesce(d.conversations, 0),
         coalesce(d.handoffs, 0),
         case when d.conversations > 0
              then round(d.handoffs::numeric / d.conversations, 4)::float8 end,
         case when d.first_responses > 0
              then round(d.first_response_seconds / d.first_responses, 1)::float8 end,
         round(q.seconds::numeric, 1)::float8,
         coalesce(d.resolved, 0),
         case when d.resolved > 0 then round(d.resolution_seconds / d.resolved, 1)::float8 end,
         coalesce(d.csat_count, 0),
         case when d.csat_count > 0 then round(d.csat_sum::numeric / d.csat_count, 2)::float8 end
    from generate_series(1, n) as g (i)
    left join per_day d on d.i = g.i
    left join p90 q on q.i = g.i
   order by g.i;
end;
$$;

comment on function public.conversation_metrics_daily(uuid, date, date, text) is
  'Per day of a range (every day, empty ones included): conversations, handoffs and handoff rate, mean and p90 first response, resolutions and mean resolution time, CSAT count and mean; Playground conversations aside. Owners and admins.';

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
  select x.assignee_id,
         tm.display_name,
         count(*)::int,
         round(avg(x.first_response_seconds), 1)::float8,
         count(x.resolution_seconds)::int,
         round(avg(x.resolution_seconds), 1)::float8,
         count(x.csat)::int,
         round(avg(x.csat), 2)::float8
    from private.analytics_conversations x
    left join public.tenant_members tm
      on tm.tenant_id = p_tenant_id and tm.user_id = x.assignee_id
   where x.tenant_id = p_tenant_id
     and x.created_at >= (p_from::timestamp at time zone p_time_zone)
     and x.created_at < ((p_to + 1)::timestamp at time zone p_time_zone)
     and x.assignee_id is not null and not x.playground
   group by x.assignee_id, tm.display_name
   order by count(*) desc, x.assignee_id;
end;
$$;

comment on function public.conversation_metrics_by_agent(uuid, date, date, text) is
  'Per assignee over a range: conversations, mean first response, resolutions and mean resolution time, CSAT count and mean; Playground conversations aside. Owners and admins.';

-- Tenant webhooks: nothing about a Playground conversation leaves the platform ---------------------
create or replace function private.conversation_webhook_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  conversation jsonb;
begin
  -- Most tenants have no endpoint: no payload is built for them.
  if new.playground_by is not null
     or not exists (select 1 from public.webhook_endpoints
                     where tenant_id = new.tenant_id and enabled) then
    return null;
  end if;
  conversation := private.webhook_conversation(new);
  if tg_op = 'INSERT' then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.created',
                                      jsonb_build_object('conversation', conversation));
    if new.status = 'handoff' then
      perform private.emit_tenant_event(new.tenant_id, 'conversation.handoff',
                                        jsonb_build_object('conversation', conversation));
    end if;
    return null;
  end if;
  if new.status = 'handoff' and old.status is distinct from 'handoff' then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.handoff',
                                      jsonb_build_object('conversation', conversation));
  end if;
  if new.assignee_id is not null and new.assignee_id is distinct from old.assignee_id then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.assigned',
                                      jsonb_build_object('conversation', conversation,
                                                         'previous_assignee_id', old.assignee_id));
  end if;
  if new.status = 'resolved' and old.status is distinct from 'resolved' then
    perform private.emit_tenant_event(new.tenant_id, 'conversation.resolved',
                                      jsonb_build_object('conversation', conversation));
  end if;
  if new.csat is not null and (new.csat is distinct from old.csat
                               or new.csat_comment is distinct from old.csat_comment) then
    perform private.emit_tenant_event(new.tenant_id, 'csat.submitted',
                                      jsonb_build_object('conversation', conversation,
                                                         'rating', new.csat,
                                                         'comment', new.csat_comment));
  end if;
  return null;
end;
$$;

create or replace function private.message_webhook_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if not exists (select 1 from public.webhook_endpoints where tenant_id = new.tenant_id and enabled)
     or exists (select 1 from public.conversations c
                 where c.id = new.conversation_id and c.playground_by is not null) then
    return null;
  end if;
  perform private.emit_tenant_event(new.tenant_id, 'message.created', jsonb_build_object(
    'message', jsonb_build_object(
      'id', new.id,
      'conversation_id', new.conversation_id,
      'role', new.role,
      'content', new.content,
      'author_id', new.author_id,
      'created_at', new.created_at)));
  return null;
end;
$$;

comment on function private.conversation_webhook_events() is
  'Emits conversation.created, .handoff, .assigned, .resolved and csat.submitted to the tenant''s endpoints; never for a Playground conversation.';
comment on function private.message_webhook_events() is
  'Emits message.created to the tenant''s endpoints; never for a Playground conversation''s messages.';
