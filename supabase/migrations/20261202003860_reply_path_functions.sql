-- The small SQL helpers a reply calls (the plan's limit and the quota period when a reply is
-- reserved, the runner's look at running leases, the note of a history message's attachments)
-- set search_path, so Postgres cannot inline them and plans each call anew. As PL/pgSQL their
-- plans are kept for the session. Same answers.

create or replace function private.plan_limit(p_tenant_id uuid, p_metric text) returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select (p.limits ->> p_metric)::bigint
            from public.tenants t join public.plans p on p.id = t.plan_id
           where t.id = p_tenant_id);
end;
$$;

create or replace function private.quota_period(p_at timestamptz default now()) returns date
language plpgsql
immutable
set search_path = ''
as $$
begin
  return date_trunc('month', p_at at time zone 'utc')::date;
end;
$$;

create or replace function private.next_lease_expiry(
  p_kinds text[] default null, p_ordering_key text default null
) returns timestamptz
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select min(j.locked_until)
            from public.jobs j
           where j.status = 'running'
             and (p_kinds is null or j.kind = any (p_kinds))
             and (p_ordering_key is null or j.ordering_key = p_ordering_key));
end;
$$;

-- Most messages have no attachments: they are answered without a query.
create or replace function private.attachment_note(p jsonb) returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  if jsonb_typeof(p) = 'array' and jsonb_array_length(p) > 0 then
    return '[The visitor attached: ' || (
      select string_agg(format('%s (%s, %s KB)', a ->> 'name', a ->> 'type',
                               ceil(coalesce((a ->> 'size')::numeric, 0) / 1024)), '; ')
        from jsonb_array_elements(p) as a
    ) || ']';
  end if;
  return null;
end;
$$;
