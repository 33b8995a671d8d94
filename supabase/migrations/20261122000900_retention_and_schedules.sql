-- Usage aggregation, retention, and the schedules that drive the platform.

-- Recomputes usage_daily for the given tenant and days from the raw rows still stored. Retention
-- deletes whole days only, so a day is either complete or gone: recomputing never shrinks a day.
-- Each source updates only its own columns, because messages and tool executions are kept for
-- different lengths of time.
create or replace function private.aggregate_usage(
  p_from date, p_to date, p_tenant_id uuid default null
) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  touched integer := 0;
  n integer;
begin
  insert into public.usage_daily as u
    (tenant_id, day, user_messages, bot_messages, agent_messages, tokens_in, tokens_out, cost_usd)
  select m.tenant_id, (m.created_at at time zone 'utc')::date,
         count(*) filter (where m.role = 'user'),
         count(*) filter (where m.role = 'assistant'),
         count(*) filter (where m.role = 'agent'),
         coalesce(sum(m.tokens_in), 0), coalesce(sum(m.tokens_out), 0), coalesce(sum(m.cost_usd), 0)
    from public.messages m
   where m.created_at >= p_from::timestamp at time zone 'utc'
     and m.created_at < (p_to + 1)::timestamp at time zone 'utc'
     and (p_tenant_id is null or m.tenant_id = p_tenant_id)
   group by 1, 2
  on conflict (tenant_id, day) do update
     set user_messages = excluded.user_messages,
         bot_messages = excluded.bot_messages,
         agent_messages = excluded.agent_messages,
         tokens_in = excluded.tokens_in,
         tokens_out = excluded.tokens_out,
         cost_usd = excluded.cost_usd,
         updated_at = now();
  get diagnostics n = row_count;
  touched := touched + n;

  insert into public.usage_daily as u (tenant_id, day, conversations_started)
  select c.tenant_id, (c.created_at at time zone 'utc')::date, count(*)
    from public.conversations c
   where c.created_at >= p_from::timestamp at time zone 'utc'
     and c.created_at < (p_to + 1)::timestamp at time zone 'utc'
     and (p_tenant_id is null or c.tenant_id = p_tenant_id)
   group by 1, 2
  on conflict (tenant_id, day) do update
     set conversations_started = excluded.conversations_started, updated_at = now();
  get diagnostics n = row_count;
  touched := touched + n;

  insert into public.usage_daily as u (tenant_id, day, tool_calls, tool_failures)
  select t.tenant_id, (t.created_at at time zone 'utc')::date,
         count(*), count(*) filter (where not t.success)
    from public.tool_executions t
   where t.created_at >= p_from::timestamp at time zone 'utc'
     and t.created_at < (p_to + 1)::timestamp at time zone 'utc'
     and (p_tenant_id is null or t.tenant_id = p_tenant_id)
   group by 1, 2
  on conflict (tenant_id, day) do update
     set tool_calls = excluded.tool_calls, tool_failures = excluded.tool_failures,
         updated_at = now();
  get diagnostics n = row_count;
  return touched + n;
end;
$$;

-- Days of message history a tenant keeps: its plan's retention_days, 30 when unset.
create or replace function private.retention_days(p_tenant_id uuid) returns integer
language sql stable security definer
set search_path = ''
as $$
  select coalesce((p.limits ->> 'retention_days')::integer, 30)
    from public.tenants t
    left join public.plans p on p.id = t.plan_id
   where t.id = p_tenant_id
$$;

-- The daily clean-up. Usage is aggregated for every day about to be deleted before anything is
-- deleted, in the same transaction. Cut-offs fall on UTC midnights so whole days go at once.
create or replace function private.run_retention(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  today date := (p_now at time zone 'utc')::date;
  oldest date;
  deleted_messages bigint := 0;
  deleted_tool_executions bigint;
  deleted_jobs bigint;
  deleted_stripe_events bigint;
  deleted_anonymous_users bigint;
  n bigint;
  t record;
begin
  -- 1. Aggregate everything still stored, up to and including today.
  select least(
           (select min(created_at) from public.messages),
           (select min(created_at) from public.tool_executions),
           (select min(created_at) from public.conversations))
    into oldest;
  if oldest is not null then
    perform private.aggregate_usage((oldest at time zone 'utc')::date, today);
  end if;

  -- 2. Messages past each tenant's retention.
  for t in
    select id, private.retention_days(id) as days from public.tenants
  loop
    delete from public.messages
     where tenant_id = t.id
       and created_at < (today - t.days)::timestamp at time zone 'utc';
    get diagnostics n = row_count;
    deleted_messages := deleted_messages + n;
  end loop;

  -- 3. Tool audit older than 90 days.
  delete from public.tool_executions
   where created_at < (today - 90)::timestamp at time zone 'utc';
  get diagnostics deleted_tool_executions = row_count;

  -- 4. Finished jobs: successes after 7 days, dead letters after 30 (time to look at them).
  delete from public.jobs
   where (status = 'succeeded' and finished_at < p_now - interval '7 days')
      or (status = 'dead' and finished_at < p_now - interval '30 days');
  get diagnostics deleted_jobs = row_count;

  -- 5. Stripe event ids, kept well past Stripe's 3-day retry window.
  delete from public.stripe_events where received_at < p_now - interval '90 days';
  get diagnostics deleted_stripe_events = row_count;

  -- 6. Anonymous visitors idle for 30 days with no conversation still in progress. Their
  -- conversations stay with the tenant (visitor_id becomes null).
  delete from auth.users u
   where u.is_anonymous
     and coalesce(u.last_sign_in_at, u.created_at) < p_now - interval '30 days'
     and not exists (
       select 1 from public.conversations c
        where c.visitor_id = u.id
          and (c.status <> 'resolved'
               or coalesce(c.last_message_at, c.created_at) >= p_now - interval '30 days')
     );
  get diagnostics deleted_anonymous_users = row_count;

  return jsonb_build_object(
    'messages', deleted_messages,
    'tool_executions', deleted_tool_executions,
    'jobs', deleted_jobs,
    'stripe_events', deleted_stripe_events,
    'anonymous_users', deleted_anonymous_users
  );
end;
$$;

-- The worker function drains the job queue; pg_cron calls it through pg_net every 10 seconds.
-- Its URL and the service key come from Vault (see README, "Deploy"), so no secret is in a
-- migration. Until both are set, the call is skipped.
create or replace function private.invoke_worker() returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  worker_url text;
  service_key text;
begin
  select decrypted_secret into worker_url
    from vault.decrypted_secrets where name = 'parley_worker_url';
  select decrypted_secret into service_key
    from vault.decrypted_secrets where name = 'parley_service_role_key';
  if worker_url is null or service_key is null then
    return null;
  end if;
  return net.http_post(
    url := worker_url,
    body := jsonb_build_object('source', 'pg_cron'),
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || service_key,
      'apikey', service_key
    ),
    timeout_milliseconds := 30000
  );
end;
$$;

grant execute on function
  private.aggregate_usage(date, date, uuid),
  private.retention_days(uuid),
  private.run_retention(timestamptz),
  private.invoke_worker()
to service_role;

select cron.schedule('parley-worker', '10 seconds', 'select private.invoke_worker()');
select cron.schedule('parley-retention', '17 3 * * *', 'select private.run_retention()');
