-- Kept plans for the statements a reply runs through its job and its webhooks.
--
-- A claim scoped to one conversation (the request that just enqueued a reply, the runner's look
-- for more) had one query for every scope, whose "any ordering key or this one" test no plan made
-- in advance can turn into an index lookup; so each claim was planned anew. It has its own query
-- now, which a kept plan serves. The webhook helpers every message runs for a tenant with an
-- endpoint were SQL functions that set search_path (never inlined, planned at each call); they are
-- PL/pgSQL. Same results.

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

  if p_ordering_key is not null then
    return query
    with due as (
      select j.id
        from public.jobs j
       where j.ordering_key = p_ordering_key
         and j.status = 'queued'
         and j.run_at <= now()
         and (p_kinds is null or j.kind = any (p_kinds))
         and not exists (
               select 1 from public.jobs other
                where other.ordering_key = j.ordering_key
                  and other.id <> j.id
                  and (other.status = 'running' or (other.status = 'queued' and other.id < j.id)))
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
    return;
  end if;

  return query
  with due as (
    select j.id
      from public.jobs j
     where j.status = 'queued'
       and j.run_at <= now()
       and (p_kinds is null or j.kind = any (p_kinds))
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

create or replace function private.enqueue_webhook_delivery(
  p_delivery_id uuid, p_tenant_id uuid, p_round integer
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
begin
  return private.enqueue_job(
    'tenant_webhook',
    jsonb_build_object('delivery_id', p_delivery_id),
    p_tenant_id,
    now(),
    null,
    10,
    'tenant_webhook:' || p_delivery_id || ':' || p_round
  );
end;
$$;

create or replace function private.webhook_conversation(c public.conversations) returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'id', c.id,
    'tenant_id', c.tenant_id,
    'channel', c.channel,
    'status', c.status,
    'assignee_id', c.assignee_id,
    'contact_id', c.contact_id,
    'locale', c.locale,
    'page_url', c.page_url,
    'identity_verified', c.identity_verified,
    'created_at', c.created_at,
    'handoff_at', c.handoff_at,
    'resolved_at', c.resolved_at
  );
end;
$$;
