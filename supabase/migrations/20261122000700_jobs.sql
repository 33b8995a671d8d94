-- The durable job queue: everything a reply needs to survive a crash goes through here.
--
-- Lifecycle: queued → running (leased to one worker until locked_until) → succeeded, or back to
-- queued after a failure with exponential backoff, or dead after max_attempts. A worker that
-- vanishes simply lets its lease expire; the sweep puts the job back (counting the attempt).
-- Jobs sharing an ordering_key (e.g. a conversation) run one at a time, oldest first.

create table public.jobs (
  id bigint generated always as identity primary key,
  tenant_id uuid references public.tenants (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_.]{1,63}$'),
  payload jsonb not null default '{}'::jsonb,
  status text not null default 'queued'
    check (status in ('queued', 'running', 'succeeded', 'dead')),
  priority integer not null default 0,
  ordering_key text,
  dedupe_key text unique,
  run_at timestamptz not null default now(),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 5 check (max_attempts between 1 and 100),
  locked_by text,
  locked_until timestamptz,
  last_error text,
  result jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index jobs_due_idx on public.jobs (priority desc, run_at, id) where status = 'queued';
create index jobs_lease_idx on public.jobs (locked_until) where status = 'running';
create index jobs_ordering_idx on public.jobs (ordering_key, id)
  where ordering_key is not null and status in ('queued', 'running');
create index jobs_finished_idx on public.jobs (finished_at) where status in ('succeeded', 'dead');

create trigger jobs_touch before update on public.jobs
  for each row execute function private.touch_updated_at();

alter table public.jobs enable row level security;

-- Operators can look; everything else is the service's.
create policy jobs_select on public.jobs for select to authenticated
  using ((select private.is_platform_admin()));

-- How long to wait before attempt n+1 after n failed attempts: 2s, 4s, 8s … capped at one hour.
create or replace function private.job_backoff(p_attempts integer) returns interval
language sql immutable
set search_path = ''
as $$
  select least(
    interval '1 hour',
    interval '1 second' * power(2, least(greatest(p_attempts, 1), 20))
  )
$$;

create or replace function private.enqueue_job(
  p_kind text,
  p_payload jsonb default '{}'::jsonb,
  p_tenant_id uuid default null,
  p_run_at timestamptz default now(),
  p_ordering_key text default null,
  p_max_attempts integer default 5,
  p_dedupe_key text default null,
  p_priority integer default 0
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  job_id bigint;
begin
  insert into public.jobs (kind, payload, tenant_id, run_at, ordering_key, max_attempts,
                           dedupe_key, priority)
  values (p_kind, coalesce(p_payload, '{}'::jsonb), p_tenant_id, coalesce(p_run_at, now()),
          p_ordering_key, coalesce(p_max_attempts, 5), p_dedupe_key, coalesce(p_priority, 0))
  on conflict (dedupe_key) do nothing
  returning id into job_id;
  if job_id is null then
    select id into job_id from public.jobs where dedupe_key = p_dedupe_key;
  end if;
  return job_id;
end;
$$;

-- Expired leases: the worker is gone. The attempt counts; past max_attempts the job is dead.
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
         run_at = case when j.attempts >= j.max_attempts then j.run_at
                       else now() + private.job_backoff(j.attempts) end,
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

-- Leases up to p_limit due jobs to p_worker. Safe under any number of concurrent callers: rows are
-- taken with FOR UPDATE SKIP LOCKED and leased in the same statement, so no two callers get the
-- same job. A job waits while an older job with the same ordering_key is still queued or running.
create or replace function private.claim_jobs(
  p_worker text,
  p_limit integer default 1,
  p_lease interval default interval '60 seconds',
  p_kinds text[] default null,
  -- Only jobs of this ordering key: a request that just enqueued a reply works its own
  -- conversation's queue without picking up other tenants' work.
  p_ordering_key text default null
) returns setof public.jobs
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_worker is null or length(p_worker) = 0 then
    raise exception 'worker id required' using errcode = '22023';
  end if;
  perform private.reclaim_expired_jobs();

  return query
  with due as (
    select j.id
      from public.jobs j
     where j.status = 'queued'
       and j.run_at <= now()
       and (p_kinds is null or j.kind = any (p_kinds))
       and (p_ordering_key is null or j.ordering_key = p_ordering_key)
       -- One job per ordering key at a time: none of the key may be running (a revived dead job
       -- may be older than the one running), and none older may still be waiting.
       and (j.ordering_key is null or not exists (
             select 1 from public.jobs other
              where other.ordering_key = j.ordering_key
                and other.id <> j.id
                and (other.status = 'running' or (other.status = 'queued' and other.id < j.id))))
     order by j.priority desc, j.run_at, j.id
     limit greatest(coalesce(p_limit, 1), 1)
     for update skip locked
  )
  update public.jobs j
     set status = 'running',
         attempts = j.attempts + 1,
         locked_by = p_worker,
         locked_until = now() + p_lease
    from due
   where j.id = due.id
  returning j.*;
end;
$$;

-- A long job keeps its lease alive. False when the lease is no longer this worker's.
create or replace function private.extend_job_lease(
  p_job_id bigint, p_worker text, p_lease interval default interval '60 seconds'
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.jobs set locked_until = now() + p_lease
   where id = p_job_id and status = 'running' and locked_by = p_worker;
  return found;
end;
$$;

-- False when the lease was lost (expired and reclaimed): the caller must not assume it finished.
create or replace function private.complete_job(
  p_job_id bigint, p_worker text, p_result jsonb default null
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.jobs
     set status = 'succeeded', result = p_result, finished_at = now(),
         locked_by = null, locked_until = null
   where id = p_job_id and status = 'running' and locked_by = p_worker;
  return found;
end;
$$;

-- Returns the job's new status: 'queued' (retry after backoff, or p_retry_in) or 'dead';
-- null when the lease was lost.
create or replace function private.fail_job(
  p_job_id bigint, p_worker text, p_error text, p_retry_in interval default null
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  new_status text;
begin
  update public.jobs j
     set status = case when j.attempts >= j.max_attempts then 'dead' else 'queued' end,
         run_at = case when j.attempts >= j.max_attempts then j.run_at
                       else now() + coalesce(p_retry_in, private.job_backoff(j.attempts)) end,
         finished_at = case when j.attempts >= j.max_attempts then now() end,
         last_error = left(p_error, 4000),
         locked_by = null,
         locked_until = null
   where j.id = p_job_id and j.status = 'running' and j.locked_by = p_worker
  returning j.status into new_status;
  return new_status;
end;
$$;

-- Operators bring a dead job back for another full set of attempts.
create or replace function private.retry_dead_job(p_job_id bigint) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.jobs
     set status = 'queued', attempts = 0, run_at = now(), finished_at = null
   where id = p_job_id and status = 'dead';
  return found;
end;
$$;

-- Queue depth for the readiness probe.
create or replace function private.job_stats() returns table (
  queued bigint, due bigint, running bigint, dead bigint, oldest_due_seconds double precision
)
language sql stable security definer
set search_path = ''
as $$
  select count(*) filter (where status = 'queued'),
         count(*) filter (where status = 'queued' and run_at <= now()),
         count(*) filter (where status = 'running'),
         count(*) filter (where status = 'dead'),
         coalesce(extract(epoch from now() - min(run_at) filter (
           where status = 'queued' and run_at <= now())), 0)::double precision
    from public.jobs
$$;

grant execute on function
  private.enqueue_job(text, jsonb, uuid, timestamptz, text, integer, text, integer),
  private.reclaim_expired_jobs(),
  private.claim_jobs(text, integer, interval, text[], text),
  private.extend_job_lease(bigint, text, interval),
  private.complete_job(bigint, text, jsonb),
  private.fail_job(bigint, text, text, interval),
  private.retry_dead_job(bigint),
  private.job_stats(),
  private.job_backoff(integer)
to service_role;

create trigger jobs_same_tenant before update on public.jobs
  for each row execute function private.forbid_tenant_change();
