-- Crash recovery and rate limits.
--
-- Recovery: runners now hold short leases renewed by a heartbeat, so a lease outliving its runner
-- is only seconds long. Once it runs out, the job goes straight back to the queue: the runner
-- vanished, the job did not fail, so there is nothing to back off from (the attempt still counts,
-- so a job that keeps killing its runner is still dead-lettered after max_attempts). A runner
-- that finds a job blocked by a lease about to run out waits for that lease instead of leaving
-- the job to the next scheduled worker run.

create or replace function private.reclaim_expired_jobs() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  reclaimed integer;
begin
  with expired as (
    select id from public.jobs
     where status = 'running' and locked_until < now()
     for update skip locked
  )
  update public.jobs j
     set status = case when j.attempts >= j.max_attempts then 'dead' else 'queued' end,
         run_at = case when j.attempts >= j.max_attempts then j.run_at else now() end,
         finished_at = case when j.attempts >= j.max_attempts then now() end,
         last_error = coalesce('lease expired (worker ' || j.locked_by || ')', 'lease expired'),
         locked_by = null,
         locked_until = null
    from expired
   where j.id = expired.id;
  get diagnostics reclaimed = row_count;
  return reclaimed;
end;
$$;

-- When the earliest lease in the caller's scope (the same filters claim_jobs takes) runs out, or
-- null when no job there is running. A runner that found nothing to claim waits until then and
-- claims again: if the holder is alive it has renewed the lease by then and the waiter gives up.
create or replace function private.next_lease_expiry(
  p_kinds text[] default null,
  p_ordering_key text default null
) returns timestamptz
language sql stable
security definer
set search_path = ''
as $$
  select min(j.locked_until)
    from public.jobs j
   where j.status = 'running'
     and (p_kinds is null or j.kind = any (p_kinds))
     and (p_ordering_key is null or j.ordering_key = p_ordering_key)
$$;

grant execute on function private.next_lease_expiry(text[], text) to service_role;

