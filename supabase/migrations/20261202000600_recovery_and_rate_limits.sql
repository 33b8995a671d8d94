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

-- Rate limits: a sliding window. The fixed per-minute window let twice the limit through around
-- a minute boundary; now at most p_limit requests are accepted in any p_window_seconds. Each row
-- of public.rate_limits is one slice of a key's window: the requests accepted at one instant.
-- A request is checked against every key it is limited by and counted against all of them, or
-- none: a refused request leaves no trace, so a client that keeps retrying while refused is let
-- in again as soon as its accepted requests age out.

comment on table public.rate_limits is
  'Requests accepted per rate-limit key, as slices of a sliding window (private.rate_limit_take); refused requests are never recorded.';
comment on column public.rate_limits.key is
  'What is limited, e.g. messages:visitor:<uuid>, messages:tenant:<uuid>, sessions:tenant:<uuid>.';
comment on column public.rate_limits.window_start is
  'When these requests were accepted; a slice counts while it is younger than the window.';
comment on column public.rate_limits.hits is
  'Requests of this key accepted at that instant.';

-- Null when the request is accepted (and counted against every key), else the first key, in the
-- order given, whose limit it would exceed (and nothing is counted).
create or replace function private.rate_limit_take(
  p_keys text[], p_limits integer[], p_window_seconds integer default 60
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  accepted_at timestamptz;
  since timestamptz;
  item record;
  used bigint;
begin
  if coalesce(cardinality(p_keys), 0) <> coalesce(cardinality(p_limits), 0) then
    raise exception 'one limit per key' using errcode = '22023';
  end if;
  -- Callers of a key queue here until the one ahead has counted or been refused. Locks are
  -- taken in one global order, so callers with overlapping keys cannot deadlock.
  for item in select distinct k as key from unnest(p_keys) as k order by 1 loop
    perform pg_advisory_xact_lock(hashtextextended('parley.rate_limit:' || item.key, 0));
  end loop;
  -- The time after waiting for the lock, not the transaction's start: the window ends now.
  accepted_at := clock_timestamp();
  since := accepted_at - make_interval(secs => p_window_seconds);
  for item in
    select u.key, u.max_hits from unnest(p_keys, p_limits) with ordinality as u(key, max_hits, n)
     order by u.n
  loop
    delete from public.rate_limits where key = item.key and window_start <= since;
    select coalesce(sum(hits), 0) into used from public.rate_limits where key = item.key;
    if used >= item.max_hits then
      return item.key;
    end if;
  end loop;
  insert into public.rate_limits as r (key, window_start, hits)
  select distinct k, accepted_at, 1 from unnest(p_keys) as k
  on conflict on constraint rate_limits_pkey do update set hits = r.hits + 1;
  return null;
end;
$$;

grant execute on function private.rate_limit_take(text[], integer[], integer) to service_role;

-- The fixed window, superseded by rate_limit_take.
drop function private.rate_limit_hit(text, integer, integer);

-- When a job's current attempt was claimed: how long it has been running, and, for a job taken
-- over from a runner that died, when the takeover happened.
alter table public.jobs add column claimed_at timestamptz;
comment on column public.jobs.claimed_at is
  'When the current (or last) attempt was claimed by a runner.';

create or replace function private.claim_jobs(
  p_worker text,
  p_limit integer default 1,
  p_lease interval default interval '60 seconds',
  p_kinds text[] default null,
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
         locked_until = now() + p_lease,
         claimed_at = now()
    from due
   where j.id = due.id
  returning j.*;
end;
$$;
