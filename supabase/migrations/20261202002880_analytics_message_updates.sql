-- Messages are updated far more often than their authors change (delivery and read receipts,
-- streaming replies): an update recounts whether its conversation was the bot's alone only when a
-- message's role changed, instead of locking and re-reading the conversation on every receipt.

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

  if tg_op = 'UPDATE' then
    -- Receipts and edits leave the authors as they were; only a change of role can change them.
    select array_agg(distinct n.conversation_id) into ids
      from unnest(added) n join unnest(removed) o on o.id = n.id
     where n.role is distinct from o.role;
  else
    select array_agg(distinct x.conversation_id) into ids
      from (
        select a.conversation_id, a.role from unnest(added) a
        union all
        select r.conversation_id, r.role from unnest(removed) r
      ) x
     where x.role in ('assistant', 'agent');
  end if;
  perform private.analytics_refresh_conversations(ids);
  return null;
end;
$$;

comment on function private.analytics_messages_changed() is
  'Keeps analytics_hourly''s message, token and cost figures, and the bot-only counts, in step with messages.';
