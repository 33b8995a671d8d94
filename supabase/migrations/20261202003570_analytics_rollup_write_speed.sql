-- Every bot and staff message recounts its conversation's record, in the same transaction as the
-- message: the two helpers that recount and add up were SQL functions, which Postgres plans anew on
-- every call when they cannot be inlined (a security definer function never is), and that doubled
-- the time of a message insert. As PL/pgSQL their plans are kept for the session, and adding up
-- nothing returns at once; a bot reply recounts its conversation only when it is the first; and
-- the records are read by their key. Same answers.

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
language plpgsql
stable
security definer
rows 10
set search_path = ''
as $$
begin
  return query
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
   where c.id = any (p_ids);
end;
$$;

create or replace function private.analytics_count_conversations(
  p_removed private.analytics_conversations[], p_added private.analytics_conversations[]
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  if coalesce(cardinality(p_removed), 0) + coalesce(cardinality(p_added), 0) = 0 then
    return;
  end if;
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
        csat_sum = h.csat_sum + excluded.csat_sum;
end;
$$;

-- The same, except that a bot reply, like a visitor's message, has its conversation recounted only
-- when it is (or was) the conversation's first of its kind: what the record takes from bot replies
-- is only whether there is one, and from the visitor's messages only the first one's time. Staff
-- messages are always recounted.
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
     where x.role = 'agent'
        or (x.role in ('user', 'assistant')
            and not exists (select 1 from public.messages m
                             where m.conversation_id = x.conversation_id and m.role = x.role
                               and m.created_at < x.created_at));
  end if;
  perform private.analytics_refresh_conversations(ids);
  return null;
end;
$$;


-- As before, with the records read by their key: the planner cannot know how few rows the facts
-- function returns, and would otherwise read every record to join them.
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
     where s.conversation_id = any (p_ids)
       and (s.bot_only, s.assignee_id, s.handed_off, s.first_response_seconds,
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
     where s.conversation_id = f.conversation_id and s.conversation_id = any (p_ids)
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

