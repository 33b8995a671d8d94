-- Extensions Parley relies on. pg_cron and pg_net are Supabase extensions; where they are not
-- installable (the local PGlite database) the same API is already provided, so the guard keeps one
-- migration history for both.
create extension if not exists vector with schema extensions;
create extension if not exists pgcrypto with schema extensions;

do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'pg_cron') then
    create extension if not exists pg_cron;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pg_net') then
    create extension if not exists pg_net with schema extensions;
  end if;
end
$$;

-- Helpers and internal machinery live here: not exposed through the Data API, not callable by
-- anon or authenticated unless granted one by one.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Keeps updated_at honest without trusting clients.
create or replace function private.touch_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

-- Nothing Parley's migrations create is callable by everyone by default: each function is granted
-- to the roles that need it. (Postgres grants EXECUTE to PUBLIC on every new function; a
-- schema-scoped default privilege cannot take that back, only the global one can.)
alter default privileges revoke execute on functions from public;

-- Tenant-scoped rows never change tenant: moving a row between tenants would let a member of both
-- (or a bug) carry data across the boundary that RLS draws.
create or replace function private.forbid_tenant_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.tenant_id is distinct from old.tenant_id then
    raise exception '% rows cannot move to another tenant', tg_table_name using errcode = '42501';
  end if;
  return new;
end;
$$;
