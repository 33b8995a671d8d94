-- Bulk loads (imports, fixtures) may go in with triggers off (session_replication_role = replica),
-- which also leaves analytics_hourly behind. This recounts one tenant's roll-up from its rows, as
-- the triggers would have kept it. Meant for after such a load, not beside live traffic.
create or replace function private.analytics_rebuild(p_tenant_id uuid) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.analytics_hourly where tenant_id = p_tenant_id;
  delete from private.analytics_conversations where tenant_id = p_tenant_id;

  insert into private.analytics_conversations (conversation_id, tenant_id, created_at, bot_only)
  select c.id, c.tenant_id, c.created_at,
         c.handoff_at is null and c.assignee_id is null
         and exists (select 1 from public.messages m
                      where m.conversation_id = c.id and m.role = 'assistant')
         and not exists (select 1 from public.messages m
                          where m.conversation_id = c.id and m.role = 'agent')
    from public.conversations c
   where c.tenant_id = p_tenant_id;

  insert into public.analytics_hourly (tenant_id, hour, conversations, bot_only)
  select s.tenant_id, private.analytics_hour(s.created_at), count(*)::int,
         (count(*) filter (where s.bot_only))::int
    from private.analytics_conversations s
   where s.tenant_id = p_tenant_id
   group by 1, 2;

  insert into public.analytics_hourly as h
    (tenant_id, hour, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
  select m.tenant_id, private.analytics_hour(m.created_at),
         (count(*) filter (where m.role = 'user'))::int,
         (count(*) filter (where m.role = 'assistant'))::int,
         (count(*) filter (where m.role = 'agent' and not m.is_private))::int,
         sum(m.tokens_in)::bigint, sum(m.tokens_out)::bigint, sum(m.cost_usd)
    from public.messages m
   where m.tenant_id = p_tenant_id
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
   group by 1, 2
  on conflict (tenant_id, hour) do update
    set tool_calls = excluded.tool_calls, tool_successes = excluded.tool_successes;
end;
$$;

comment on function private.analytics_rebuild(uuid) is
  'Recounts a tenant''s analytics_hourly from its conversations, messages and tool executions, after a bulk load made with triggers off.';

revoke all on function private.analytics_rebuild(uuid) from public;
grant execute on function private.analytics_rebuild(uuid) to service_role;
