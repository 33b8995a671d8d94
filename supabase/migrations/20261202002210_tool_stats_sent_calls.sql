-- Latency is a property of calls that went out: a call refused before sending (arguments its schema
-- refuses, no valid secret) took no time and would pull p50 and p95 down. Such calls still count as
-- calls, and as failures, in the success rate.

create or replace function public.tool_stats(
  p_tenant_id uuid,
  p_since timestamptz default now() - interval '30 days'
)
returns table (
  tenant_tool_id uuid,
  tool_name text,
  calls bigint,
  successes bigint,
  success_rate numeric,
  p50_ms integer,
  p95_ms integer,
  test_calls bigint,
  last_called_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
as $$
  select e.tenant_tool_id,
         (array_agg(e.tool_name order by e.created_at desc))[1],
         count(*),
         count(*) filter (where e.success),
         round(count(*) filter (where e.success)::numeric / count(*), 4),
         round(percentile_cont(0.5) within group (order by e.duration_ms)
           filter (where e.attempts > 0))::integer,
         round(percentile_cont(0.95) within group (order by e.duration_ms)
           filter (where e.attempts > 0))::integer,
         count(*) filter (where e.test),
         max(e.created_at)
    from public.tool_executions e
   where e.tenant_id = p_tenant_id and e.created_at >= p_since
   group by e.tenant_tool_id, case when e.tenant_tool_id is null then e.tool_name end
   order by 3 desc
$$;

comment on function public.tool_stats(uuid, timestamptz) is
  'Per tool since p_since: calls, successes, success rate, p50 and p95 duration in ms of the calls that were sent (one that got no answer counts at its time-out), test calls, last call. Counts what the caller may read of tool_executions.';
