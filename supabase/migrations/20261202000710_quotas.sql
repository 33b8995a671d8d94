-- Plan quotas, spent where they are used and atomically: a unit is taken by one statement that
-- refuses to go past the limit, so concurrent spenders can never overshoot it.
--
-- Monthly quotas (bot_replies_per_month, conversations_per_month, crawl_pages) are counters per
-- calendar month (UTC) in usage_counters. What may exist at once (documents, tools, seats) is
-- checked when a row is added through the API, one adder per tenant at a time. Storage is checked
-- by private.storage_quota_allows before an upload. At 80 % and at 100 % the owners get a notice,
-- once per quota and period. At 100 % of bot replies the bot stops calling any model but still
-- answers: the reply job stores a polite message offering a person (functions/_shared/billing).

create table public.usage_counters (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  metric text not null
    check (metric in ('bot_replies_per_month', 'conversations_per_month', 'crawl_pages')),
  period_start date not null,
  used integer not null default 0 check (used >= 0),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, metric, period_start)
);

comment on table public.usage_counters is
  'Units of each monthly quota a tenant has spent per period; the limit is its plan''s limits->>metric.';
comment on column public.usage_counters.tenant_id is 'The tenant spending.';
comment on column public.usage_counters.metric is
  'bot_replies_per_month, conversations_per_month or crawl_pages: the plan limit it counts against.';
comment on column public.usage_counters.period_start is 'First day (UTC) of the calendar month counted.';
comment on column public.usage_counters.used is 'Units spent in the period; never more than the limit.';
comment on column public.usage_counters.updated_at is 'Last spend.';

alter table public.usage_counters enable row level security;
create policy usage_counters_select on public.usage_counters for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );
revoke insert, update, delete on public.usage_counters from anon, authenticated;

create trigger usage_counters_same_tenant before update on public.usage_counters
  for each row execute function private.forbid_tenant_change();

-- What each unit was spent on, so a retried job or a repeated call spends once.
create table public.quota_spends (
  metric text not null,
  ref text not null check (length(ref) between 1 and 200),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  period_start date not null,
  amount integer not null check (amount > 0),
  created_at timestamptz not null default now(),
  primary key (metric, ref)
);
create index quota_spends_created_idx on public.quota_spends (created_at);

comment on table public.quota_spends is
  'One row per spend that names what it paid for (a conversation, a visitor message), making the spend idempotent.';
comment on column public.quota_spends.metric is 'The quota spent.';
comment on column public.quota_spends.ref is
  'What the unit paid for: a conversation id, the visitor message a bot reply answers, a crawl job.';
comment on column public.quota_spends.tenant_id is 'The tenant that spent it.';
comment on column public.quota_spends.period_start is 'The period it was counted in.';
comment on column public.quota_spends.amount is 'Units spent.';
comment on column public.quota_spends.created_at is 'When it was spent.';

-- The service's bookkeeping only: RLS on, no policies, no API privileges.
alter table public.quota_spends enable row level security;
revoke all on public.quota_spends from anon, authenticated;

-- Limits ------------------------------------------------------------------------------------------

-- The tenant's plan limit for a metric; null means no limit.
create or replace function private.plan_limit(p_tenant_id uuid, p_metric text) returns bigint
language sql stable security definer
set search_path = ''
as $$
  select (p.limits ->> p_metric)::bigint
    from public.tenants t join public.plans p on p.id = t.plan_id
   where t.id = p_tenant_id
$$;

create or replace function private.quota_period(p_at timestamptz default now()) returns date
language sql immutable
set search_path = ''
as $$ select date_trunc('month', p_at at time zone 'utc')::date $$;

-- Tells the owners once per quota and period when usage reaches 80 % and 100 %.
create or replace function private.note_quota_level(
  p_tenant_id uuid, p_metric text, p_period date, p_used bigint, p_limit bigint
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  details jsonb;
begin
  if p_limit is null or p_used * 5 < p_limit * 4 then
    return;
  end if;
  details := jsonb_build_object('metric', p_metric, 'used', p_used, 'limit', p_limit,
                                'period', p_period);
  perform private.raise_notice(p_tenant_id, 'quota_warning', p_metric || ':' || p_period, details);
  if p_used >= p_limit then
    perform private.raise_notice(p_tenant_id, 'quota_reached', p_metric || ':' || p_period, details);
  end if;
end;
$$;

-- Spends p_amount units of a monthly quota; false (and nothing spent) when that would pass the
-- plan's limit. With p_ref, spending again for the same ref is a no-op that answers true.
create or replace function private.spend_quota(
  p_tenant_id uuid,
  p_metric text,
  p_amount integer default 1,
  p_ref text default null,
  p_at timestamptz default now()
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  quota bigint := private.plan_limit(p_tenant_id, p_metric);
  period date := private.quota_period(p_at);
  total integer;
begin
  if p_amount is null or p_amount <= 0 then
    raise exception 'amount must be positive' using errcode = '22023';
  end if;
  if p_ref is not null then
    insert into public.quota_spends (metric, ref, tenant_id, period_start, amount)
    values (p_metric, p_ref, p_tenant_id, period, p_amount)
    on conflict (metric, ref) do nothing;
    if not found then
      return true;
    end if;
  end if;
  if quota is not null and p_amount > quota then
    total := null;
  else
    -- The whole check: one statement, whose WHERE is re-evaluated on the latest row version
    -- when a concurrent spender updated it first.
    insert into public.usage_counters as u (tenant_id, metric, period_start, used)
    values (p_tenant_id, p_metric, period, p_amount)
    on conflict (tenant_id, metric, period_start) do update
       set used = u.used + excluded.used, updated_at = now()
     where quota is null or u.used + excluded.used <= quota
    returning u.used into total;
  end if;
  if total is null then
    if p_ref is not null then
      delete from public.quota_spends where metric = p_metric and ref = p_ref;
    end if;
    perform private.note_quota_level(p_tenant_id, p_metric, period, quota, quota);
    return false;
  end if;
  perform private.note_quota_level(p_tenant_id, p_metric, period, total, quota);
  return true;
end;
$$;

-- Before a bot reply: null when the bot may spend on answering this visitor message, else why
-- not. The conversation is counted the first time the bot works it (if its start could not be
-- counted, because the quota was spent or the plan changed since), then the reply itself.
create or replace function private.reserve_bot_reply(
  p_tenant_id uuid, p_conversation_id uuid, p_message_id uuid
) returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
  refusal text := private.quota_exceeded(p_tenant_id);
begin
  if refusal is not null then
    return refusal;
  end if;
  if not private.spend_quota(p_tenant_id, 'conversations_per_month', 1, p_conversation_id::text) then
    return 'conversations_per_month';
  end if;
  if not private.spend_quota(p_tenant_id, 'bot_replies_per_month', 1, p_message_id::text) then
    return 'bot_replies_per_month';
  end if;
  return null;
end;
$$;

-- Conversations count when they start. One over the quota is still created (the visitor can
-- always reach a person); the bot then answers it only with the quota message.
create or replace function private.spend_conversation_quota() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.spend_quota(new.tenant_id, 'conversations_per_month', 1, new.id::text,
                              coalesce(new.created_at, now()));
  return null;
end;
$$;

create trigger conversations_spend_quota after insert on public.conversations
  for each row execute function private.spend_conversation_quota();

-- The chat function's check before it accepts a visitor message. Visitor messages are no longer a
-- plan quota (the bot's replies are, when they are made), so only a missing or suspended tenant
-- refuses them.
create or replace function private.quota_exceeded(p_tenant_id uuid) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  tenant_status text;
begin
  select status into tenant_status from public.tenants where id = p_tenant_id;
  if tenant_status is null then
    return 'unknown_tenant';
  elsif tenant_status <> 'active' then
    return 'tenant_suspended';
  end if;
  return null;
end;
$$;

-- Documents, tools and seats: an insert through the API (RLS-bound members) past the plan's
-- limit is refused. Adders of one tenant and kind take turns, so two cannot both take the last
-- place. Service-role writes (operators, imports, tests) are deliberate and not capped; service
-- code acting for a tenant checks with private.count_quota_allows first.
create or replace function private.count_quota_allows(
  p_tenant_id uuid, p_metric text, p_adding integer default 1
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  quota bigint := private.plan_limit(p_tenant_id, p_metric);
  present bigint;
begin
  if quota is null then
    return true;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('quota:' || p_metric || ':' || p_tenant_id::text, 0));
  present := case p_metric
    when 'documents' then (select count(*) from public.documents where tenant_id = p_tenant_id)
    when 'tools' then (select count(*) from public.tenant_tools where tenant_id = p_tenant_id)
    when 'seats' then (select count(*) from public.tenant_members where tenant_id = p_tenant_id)
  end;
  if present is null then
    raise exception 'unknown quota %', p_metric using errcode = '22023';
  end if;
  perform private.note_quota_level(p_tenant_id, p_metric, private.quota_period(),
                                   least(present + p_adding, quota), quota);
  return present + p_adding <= quota;
end;
$$;

create or replace function private.enforce_count_quota() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  metric text := tg_argv[0];
begin
  if coalesce((select auth.role()), '') not in ('authenticated', 'anon') then
    return new;
  end if;
  if not private.count_quota_allows(new.tenant_id, metric) then
    raise exception 'Your plan allows % % at most.', private.plan_limit(new.tenant_id, metric), metric
      using errcode = 'P0001', hint = 'quota_exceeded:' || metric;
  end if;
  return new;
end;
$$;

create trigger documents_quota before insert on public.documents
  for each row execute function private.enforce_count_quota('documents');
create trigger tenant_tools_quota before insert on public.tenant_tools
  for each row execute function private.enforce_count_quota('tools');
create trigger tenant_members_quota before insert on public.tenant_members
  for each row execute function private.enforce_count_quota('seats');

-- Bytes the tenant keeps: its files in Storage (knowledge/<tenant>/…, attachments/<tenant>/…) and
-- the text of its documents.
create or replace function private.storage_used_bytes(p_tenant_id uuid) returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  files bigint := 0;
  texts bigint;
begin
  if to_regclass('storage.objects') is not null then
    execute $q$
      select coalesce(sum((metadata ->> 'size')::bigint), 0) from storage.objects
       where bucket_id in ('knowledge', 'attachments') and split_part(name, '/', 1) = $1
    $q$ into files using p_tenant_id::text;
  end if;
  select coalesce(sum(octet_length(content)), 0) into texts
    from public.documents where tenant_id = p_tenant_id;
  return files + texts;
end;
$$;

-- May the tenant store p_bytes more? For the upload paths to ask before accepting a file.
create or replace function private.storage_quota_allows(p_tenant_id uuid, p_bytes bigint)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  quota bigint := private.plan_limit(p_tenant_id, 'storage_mb');
  used bigint;
begin
  if quota is null then
    return true;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('quota:storage_mb:' || p_tenant_id::text, 0));
  used := private.storage_used_bytes(p_tenant_id) + greatest(coalesce(p_bytes, 0), 0);
  perform private.note_quota_level(p_tenant_id, 'storage_mb', private.quota_period(),
                                   least(ceil(used / 1048576.0)::bigint, quota), quota);
  return used <= quota * 1048576;
end;
$$;

-- Pages a crawl may fetch: spends up to p_pages of this month's crawl_pages and answers how many
-- it got (0 when the quota is spent), so a crawl stops where the plan does.
create or replace function private.spend_crawl_pages(
  p_tenant_id uuid, p_pages integer, p_ref text default null
) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  quota bigint := private.plan_limit(p_tenant_id, 'crawl_pages');
  used integer;
  grant_pages integer;
begin
  if p_pages is null or p_pages <= 0 then
    return 0;
  end if;
  if quota is null then
    perform private.spend_quota(p_tenant_id, 'crawl_pages', p_pages, p_ref);
    return p_pages;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('quota:crawl_pages:' || p_tenant_id::text, 0));
  select coalesce(max(c.used), 0) into used from public.usage_counters c
   where c.tenant_id = p_tenant_id and c.metric = 'crawl_pages'
     and c.period_start = private.quota_period();
  grant_pages := least(p_pages::bigint, greatest(quota - used, 0))::integer;
  if grant_pages > 0 and not private.spend_quota(p_tenant_id, 'crawl_pages', grant_pages, p_ref) then
    return 0;
  end if;
  if grant_pages < p_pages then
    perform private.note_quota_level(p_tenant_id, 'crawl_pages', private.quota_period(), quota, quota);
  end if;
  return grant_pages;
end;
$$;

-- Reporting ------------------------------------------------------------------------------------

-- Every quota of a tenant in one period (this month by default): used, limit, percent. Runs as
-- the caller, so RLS shows it to the tenant's owners and admins only.
create or replace function public.tenant_usage(p_tenant_id uuid, p_period date default null)
returns table (metric text, period_start date, used bigint, quota bigint, percent numeric)
language sql
stable
security invoker
set search_path = ''
as $$
  with period as (
    select date_trunc('month', coalesce(p_period::timestamp, now() at time zone 'utc'))::date as p
  ),
  allowed as (
    select t.id, p.limits from public.tenants t join public.plans p on p.id = t.plan_id
     where t.id = p_tenant_id
       and (private.has_tenant_role(t.id, array['owner', 'admin'])
            or (select private.is_platform_admin())
            or coalesce((select auth.role()), '') = 'service_role')
  ),
  used as (
    select c.metric, c.used::bigint as used from public.usage_counters c, period
     where c.tenant_id = p_tenant_id and c.period_start = period.p
    union all
    select 'documents', (select count(*) from public.documents d where d.tenant_id = p_tenant_id)
    union all
    select 'tools', (select count(*) from public.tenant_tools x where x.tenant_id = p_tenant_id)
    union all
    select 'seats', (select count(*) from public.tenant_members m where m.tenant_id = p_tenant_id)
  )
  select k.metric, period.p, coalesce(u.used, 0), (a.limits ->> k.metric)::bigint,
         case when (a.limits ->> k.metric)::bigint > 0
              then round(100.0 * coalesce(u.used, 0) / (a.limits ->> k.metric)::bigint, 1) end
    from allowed a, period,
         unnest(array['bot_replies_per_month', 'conversations_per_month', 'crawl_pages',
                      'documents', 'tools', 'seats']) as k(metric)
    left join used u on u.metric = k.metric
   order by k.metric
$$;

revoke execute on function public.tenant_usage(uuid, date) from public, anon;
grant execute on function public.tenant_usage(uuid, date) to authenticated, service_role;

-- Usage per month and quota, for the admin's history and CSV export (the Data API answers an rpc
-- with CSV for Accept: text/csv). Runs as the caller: RLS on usage_counters shows owners and admins
-- their tenant's rows only.
create or replace function public.usage_history(p_tenant_id uuid)
returns table (period_start date, metric text, used integer, quota bigint)
language sql
stable
security invoker
set search_path = ''
as $$
  select c.period_start, c.metric, c.used, (p.limits ->> c.metric)::bigint
    from public.usage_counters c
    join public.tenants t on t.id = c.tenant_id
    left join public.plans p on p.id = t.plan_id
   where c.tenant_id = p_tenant_id
   order by c.period_start desc, c.metric
$$;

revoke execute on function public.usage_history(uuid) from public, anon;
grant execute on function public.usage_history(uuid) to authenticated, service_role;

-- The engine's audit trail names replies made without any model because a quota was reached.
alter table public.reply_groundings drop constraint reply_groundings_engine_check;
alter table public.reply_groundings add constraint reply_groundings_engine_check
  check (engine in ('ai', 'n8n', 'retrieval', 'cache', 'quota'));

-- Housekeeping: idempotency rows outlive their month by one (a job retried across midnight on the
-- 1st still finds its spend), counters stay 13 months for year-on-year views, notices a year.
create or replace function private.prune_billing_state(p_now timestamptz default now())
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  spends bigint;
  counters bigint;
  old_notices bigint;
begin
  delete from public.quota_spends
   where period_start < (private.quota_period(p_now) - interval '1 month')::date
     and metric <> 'conversations_per_month';
  get diagnostics spends = row_count;
  -- A conversation's row is what keeps it counted once; it goes when the conversation does.
  delete from public.quota_spends s
   where s.metric = 'conversations_per_month'
     and s.period_start < (private.quota_period(p_now) - interval '1 month')::date
     and not exists (select 1 from public.conversations c where c.id::text = s.ref);
  get diagnostics counters = row_count;
  spends := spends + counters;
  delete from public.usage_counters
   where period_start < (private.quota_period(p_now) - interval '13 months')::date;
  get diagnostics counters = row_count;
  delete from public.tenant_notices where created_at < p_now - interval '1 year';
  get diagnostics old_notices = row_count;
  return jsonb_build_object('quota_spends', spends, 'usage_counters', counters,
                            'tenant_notices', old_notices);
end;
$$;

grant execute on function
  private.plan_limit(uuid, text),
  private.quota_period(timestamptz),
  private.note_quota_level(uuid, text, date, bigint, bigint),
  private.spend_quota(uuid, text, integer, text, timestamptz),
  private.reserve_bot_reply(uuid, uuid, uuid),
  private.count_quota_allows(uuid, text, integer),
  private.storage_used_bytes(uuid),
  private.storage_quota_allows(uuid, bigint),
  private.spend_crawl_pages(uuid, integer, text),
  private.prune_billing_state(timestamptz)
to service_role;

select cron.schedule('parley-billing-housekeeping', '41 3 * * *', 'select private.prune_billing_state()');
