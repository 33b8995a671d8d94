-- What a Supabase project's database already has before any migration runs, recreated for the
-- local PGlite database. Nothing here is deployed: on Supabase these objects come with the
-- platform. Every statement is idempotent because this file runs on every start, so a newer
-- version of it upgrades an existing .data/ directory in place.

-- Roles ----------------------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin superuser createdb createrole replication bypassrls;
  end if;
end
$$;

grant anon, authenticated, service_role to authenticator;
grant anon, authenticated, service_role to postgres;

-- Supabase's timeouts for the API roles.
alter role anon set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';

-- Schemas and the default privileges Supabase sets up: everything in public is granted to the
-- API roles, so row level security is what actually decides.
create schema if not exists extensions;
create schema if not exists auth;
create schema if not exists realtime;
create schema if not exists cron;
create schema if not exists net;
create schema if not exists vault;

grant usage on schema public, extensions to anon, authenticated, service_role;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema realtime to anon, authenticated, service_role;

alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;

create extension if not exists pgcrypto with schema extensions;
create extension if not exists vector with schema extensions;

alter role postgres set search_path = "$user", public, extensions;
alter role anon set search_path = "$user", public, extensions;
alter role authenticated set search_path = "$user", public, extensions;
alter role service_role set search_path = "$user", public, extensions;

-- Auth -----------------------------------------------------------------------------------------
create table if not exists auth.users (
  instance_id uuid,
  id uuid primary key default gen_random_uuid(),
  aud varchar(255) default 'authenticated',
  role varchar(255) default 'authenticated',
  email varchar(255),
  encrypted_password varchar(255),
  email_confirmed_at timestamptz,
  invited_at timestamptz,
  confirmation_token varchar(255),
  confirmation_sent_at timestamptz,
  recovery_token varchar(255),
  recovery_sent_at timestamptz,
  email_change_token_new varchar(255),
  email_change varchar(255),
  email_change_sent_at timestamptz,
  last_sign_in_at timestamptz,
  raw_app_meta_data jsonb default '{}'::jsonb,
  raw_user_meta_data jsonb default '{}'::jsonb,
  is_super_admin boolean,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  phone text unique,
  phone_confirmed_at timestamptz,
  confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  banned_until timestamptz,
  reauthentication_token varchar(255),
  is_sso_user boolean not null default false,
  deleted_at timestamptz,
  is_anonymous boolean not null default false
);
create unique index if not exists users_email_partial_key
  on auth.users (lower(email)) where email is not null and is_sso_user = false;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
  to anon, authenticated, service_role;

-- Realtime -------------------------------------------------------------------------------------
-- realtime.send() stores the broadcast and wakes the local Realtime server with NOTIFY; the server
-- reads the row (NOTIFY payloads are limited to 8000 bytes, message payloads are not).
create table if not exists realtime.messages (
  id uuid not null default gen_random_uuid(),
  topic text not null,
  extension text not null,
  payload jsonb,
  event text,
  private boolean default false,
  updated_at timestamp not null default now(),
  inserted_at timestamp not null default now(),
  primary key (id)
);
alter table realtime.messages enable row level security;
grant select, insert, update on realtime.messages to authenticated, anon;
grant all on realtime.messages to service_role;

-- Set by the Realtime server while it evaluates a subscriber's policies.
create or replace function realtime.topic() returns text
language sql stable
as $$ select nullif(current_setting('realtime.topic', true), '')::text $$;

grant execute on function realtime.topic() to anon, authenticated, service_role;

-- As Supabase's: it runs with the caller's rights, so the INSERT policies on realtime.messages
-- decide for API roles (a refusal is the warning below, not an error), while triggers owned by the
-- migrations' role and the service role send anywhere; and the payload gets an id unless it has one.
create or replace function realtime.send(
  payload jsonb, event text, topic text, private boolean default true
) returns void
language plpgsql
set search_path = ''
as $$
declare
  new_id uuid;
  stored jsonb;
  note text;
begin
  perform set_config('realtime.topic', topic, true);
  insert into realtime.messages (payload, event, topic, private, extension)
  values (
    case when payload ? 'id' then payload
         else payload || jsonb_build_object('id', gen_random_uuid()) end,
    event, topic, private, 'broadcast')
  returning id, realtime.messages.payload into new_id, stored;
  -- The row travels in the notification, so the server need not read it back; a payload too
  -- large for NOTIFY (8000 bytes) is read by its id.
  note := jsonb_build_object('id', new_id, 'topic', topic, 'event', event, 'private', private,
                             'payload', stored)::text;
  if octet_length(note) > 7900 then
    note := jsonb_build_object('id', new_id, 'topic', topic, 'event', event,
                               'private', private)::text;
  end if;
  perform pg_notify('realtime_broadcast', note);
exception
  when others then
    -- Like Supabase's realtime.send: a broadcast must never break the caller's transaction.
    raise warning 'realtime.send failed: %', sqlerrm;
end;
$$;

create or replace function realtime.broadcast_changes(
  topic_name text,
  event_name text,
  operation text,
  table_name text,
  table_schema text,
  new record,
  old record,
  level text default 'ROW'
) returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  row_data jsonb;
begin
  row_data := jsonb_build_object(
    'schema', table_schema,
    'table', table_name,
    'operation', operation,
    'record', case when new is null then null else to_jsonb(new) end,
    'old_record', case when old is null then null else to_jsonb(old) end
  );
  perform realtime.send(row_data, event_name, topic_name, true);
end;
$$;

-- pg_cron ----------------------------------------------------------------------------------------
-- The API surface of pg_cron 1.6; the local scheduler runs the rows.
create table if not exists cron.job (
  jobid bigserial primary key,
  schedule text not null,
  command text not null,
  nodename text not null default 'localhost',
  nodeport integer not null default 5432,
  database text not null default current_database(),
  username text not null default current_user,
  active boolean not null default true,
  jobname text
);
create unique index if not exists jobname_username_uniq on cron.job (jobname, username);

create table if not exists cron.job_run_details (
  jobid bigint,
  runid bigserial primary key,
  job_pid integer,
  database text,
  username text,
  command text,
  status text,
  return_message text,
  start_time timestamptz,
  end_time timestamptz
);

-- pg_cron's schedule language (its parser is Vixie cron's): five fields of comma-separated
-- elements, '*' | n | n-m, a /step after '*' or a range, month and weekday names, '$' alone as
-- the day of month for the last day, anything after the fifth field ignored; an @keyword; or
-- 'N seconds' with 1 <= N <= 59. supabase/local/cron-schedule.ts reads the same language.
create or replace function cron.validate_schedule(schedule text) returns void
language plpgsql immutable
set search_path = ''
as $$
declare
  fields text[] := regexp_split_to_array(regexp_replace(schedule, '^[ \t]+', ''), '[ \t]+');
  lows int[] := array[0, 0, 1, 1, 0];
  highs int[] := array[59, 23, 31, 12, 7];
  months text[] := array['jan','feb','mar','apr','may','jun','jul','aug','sep','oct','nov','dec'];
  weekdays text[] := array['sun','mon','tue','wed','thu','fri','sat'];
  element text;
  parts text[];
  bound text;
  n numeric;
  i int;
  valid boolean := true;
begin
  if lower(schedule) ~ '^\s*\+?\d+\s*second(s\s*)?$' then
    valid := substring(schedule from '\d+')::numeric between 1 and 59;
  elsif schedule ~ '^[ \t]*@' then
    valid := schedule
      ~ '^[ \t]*@(reboot|restart|yearly|annually|monthly|weekly|daily|midnight|hourly)([ \t\n]|$)';
  elsif coalesce(array_length(fields, 1), 0) < 5 or fields[5] = '' then
    valid := false;
  else
    <<each_field>>
    for i in 1..5 loop
      continue when i = 3 and fields[3] = '$';
      foreach element in array string_to_array(lower(fields[i]), ',') loop
        -- {star, first, last, step}; a step needs '*' or a range.
        parts := regexp_match(element, '^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/(\d+))?$');
        valid := parts is not null
          and (parts[4] is null or parts[1] is not null or parts[3] is not null)
          and (parts[4] is null or parts[4]::numeric between 1 and highs[i]);
        exit each_field when not valid;
        foreach bound in array array_remove(array[parts[2], parts[3]], null) loop
          n := case
            when bound ~ '^\d+$' then bound::numeric
            when i = 4 then array_position(months, bound)
            when i = 5 then array_position(weekdays, bound) - 1
          end;
          valid := n between lows[i] and highs[i];
          exit each_field when valid is not true;
        end loop;
      end loop;
    end loop;
  end if;
  if valid is not true then
    raise exception 'invalid schedule: %', schedule using errcode = '22023',
      hint = 'Use cron format (e.g. 5 4 * * *), or interval format ''[1-59] seconds''';
  end if;
end;
$$;

create or replace function cron.schedule(job_name text, schedule text, command text)
returns bigint
language plpgsql
as $$
declare
  id bigint;
begin
  perform cron.validate_schedule(schedule);
  insert into cron.job (jobname, schedule, command)
  values (job_name, schedule, command)
  on conflict (jobname, username) do update
    set schedule = excluded.schedule, command = excluded.command, database = excluded.database
  returning jobid into id;
  perform pg_notify('cron_changed', id::text);
  return id;
end;
$$;

create or replace function cron.schedule(schedule text, command text) returns bigint
language plpgsql
as $$
declare
  id bigint;
begin
  perform cron.validate_schedule(schedule);
  insert into cron.job (schedule, command) values (schedule, command) returning jobid into id;
  perform pg_notify('cron_changed', id::text);
  return id;
end;
$$;

create or replace function cron.schedule_in_database(
  job_name text, schedule text, command text, database text,
  username text default null, active boolean default true
) returns bigint
language plpgsql
as $$
declare
  id bigint;
begin
  id := cron.schedule(job_name, schedule, command);
  update cron.job
     set database = schedule_in_database.database,
         username = coalesce(schedule_in_database.username, cron.job.username),
         active = schedule_in_database.active
   where jobid = id;
  return id;
end;
$$;

create or replace function cron.unschedule(job_id bigint) returns boolean
language plpgsql
as $$
begin
  delete from cron.job where jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
  perform pg_notify('cron_changed', job_id::text);
  return true;
end;
$$;

create or replace function cron.unschedule(job_name text) returns boolean
language plpgsql
as $$
declare
  id bigint;
begin
  delete from cron.job where jobname = job_name and username = current_user returning jobid into id;
  if id is null then
    raise exception 'could not find valid entry for job ''%''', job_name;
  end if;
  perform pg_notify('cron_changed', id::text);
  return true;
end;
$$;

create or replace function cron.alter_job(
  job_id bigint,
  schedule text default null,
  command text default null,
  database text default null,
  username text default null,
  active boolean default null
) returns void
language plpgsql
as $$
begin
  if schedule is not null then
    perform cron.validate_schedule(schedule);
  end if;
  update cron.job
     set schedule = coalesce(alter_job.schedule, cron.job.schedule),
         command = coalesce(alter_job.command, cron.job.command),
         database = coalesce(alter_job.database, cron.job.database),
         username = coalesce(alter_job.username, cron.job.username),
         active = coalesce(alter_job.active, cron.job.active)
   where jobid = job_id;
  if not found then
    raise exception 'could not find valid entry for job %', job_id;
  end if;
  perform pg_notify('cron_changed', job_id::text);
end;
$$;

-- pg_net -----------------------------------------------------------------------------------------
-- The API surface of pg_net 0.20; the local drainer sends committed rows of the queue.
create table if not exists net.http_request_queue (
  id bigserial primary key,
  method text not null,
  url text not null,
  headers jsonb not null default '{}'::jsonb,
  body bytea,
  timeout_milliseconds integer not null default 5000
);

create table if not exists net._http_response (
  id bigint primary key,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);

-- pg_net encodes params with curl_escape: every byte but A-Z a-z 0-9 - . _ ~ as %XX.
create or replace function net._urlencode_string(string varchar) returns text
language sql immutable strict
set search_path = ''
as $$
  select coalesce(string_agg(
           case when b between 48 and 57 or b between 65 and 90 or b between 97 and 122
                  or b in (45, 46, 95, 126)
                then chr(b)
                else '%' || upper(lpad(to_hex(b), 2, '0')) end, '' order by i), '')
    from (select i, get_byte(bytes, i) as b
            from convert_to(string, 'UTF8') as bytes,
                 generate_series(0, octet_length(bytes) - 1) as i) as each_byte
$$;

create or replace function net._enqueue(
  method text, url text, params jsonb, headers jsonb, body bytea, timeout_milliseconds integer
) returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  full_url text := url;
  query text;
  request_id bigint;
begin
  select string_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value), '&')
    into query
    from jsonb_each_text(coalesce(params, '{}'::jsonb));
  if query is not null then
    full_url := full_url || case when position('?' in full_url) > 0 then '&' else '?' end || query;
  end if;
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, full_url, coalesce(headers, '{}'::jsonb), body, timeout_milliseconds)
  returning id into request_id;
  perform pg_notify('net_request', request_id::text);
  return request_id;
end;
$$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql
as $$
declare
  all_headers jsonb := coalesce(headers, '{}'::jsonb);
  content_type text;
begin
  select value into content_type from jsonb_each_text(all_headers)
   where lower(key) = 'content-type';
  if content_type is null then
    all_headers := all_headers || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;
  return net._enqueue('POST', url, params, all_headers,
    convert_to(body::text, 'UTF8'), timeout_milliseconds);
end;
$$;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language sql
as $$ select net._enqueue('GET', url, params, headers, null, timeout_milliseconds) $$;

create or replace function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000,
  body jsonb default null
) returns bigint
language sql
as $$
  select net._enqueue('DELETE', url, params, headers,
    case when body is null then null else convert_to(body::text, 'UTF8') end, timeout_milliseconds)
$$;

-- Vault ------------------------------------------------------------------------------------------
-- Supabase Vault encrypts secrets at rest; locally they are kept as they are, which is fine for a
-- database that lives under .data/ on a developer's machine. Only the API matters here.
create table if not exists vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create or replace view vault.decrypted_secrets as
  select id, name, description, secret, secret as decrypted_secret, key_id, nonce,
         created_at, updated_at
    from vault.secrets;

create or replace function vault.create_secret(
  new_secret text, new_name text default null, new_description text default '',
  new_key_id uuid default null
) returns uuid
language sql
as $$
  insert into vault.secrets (secret, name, description, key_id)
  values (new_secret, new_name, coalesce(new_description, ''), new_key_id)
  returning id
$$;

create or replace function vault.update_secret(
  secret_id uuid, new_secret text default null, new_name text default null,
  new_description text default null, new_key_id uuid default null
) returns void
language sql
as $$
  update vault.secrets
     set secret = coalesce(new_secret, secret),
         name = coalesce(new_name, name),
         description = coalesce(new_description, description),
         key_id = coalesce(new_key_id, key_id),
         updated_at = now()
   where id = secret_id
$$;

revoke all on schema vault from anon, authenticated;
revoke all on schema cron from anon, authenticated;
revoke all on schema net from anon, authenticated;
grant usage on schema cron, net, vault to service_role;

-- Auth sessions ----------------------------------------------------------------------------------
-- The tables Supabase Auth keeps next to auth.users, with its column names, so SQL written against
-- a Supabase project (and the seed's identities) works here too. Deleting a user cascades to its
-- identities and sessions, and a session to its refresh tokens and sign-in methods.
do $$
begin
  create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
exception
  when duplicate_object then null;
end
$$;

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid primary key default gen_random_uuid(),
  constraint identities_provider_id_provider_unique unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);
create index if not exists identities_email_idx on auth.identities (email text_pattern_ops);

create table if not exists auth.sessions (
  id uuid primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz,
  updated_at timestamptz,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamptz,
  refreshed_at timestamp,
  user_agent text,
  ip inet,
  tag text
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) constraint refresh_tokens_token_unique unique,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz,
  updated_at timestamptz,
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade
);
create index if not exists refresh_tokens_instance_id_user_id_idx
  on auth.refresh_tokens (instance_id, user_id);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens (parent);
create index if not exists refresh_tokens_session_id_revoked_idx
  on auth.refresh_tokens (session_id, revoked);

create table if not exists auth.mfa_amr_claims (
  session_id uuid not null references auth.sessions (id) on delete cascade,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  authentication_method text not null,
  id uuid not null constraint amr_id_pk primary key,
  constraint mfa_amr_claims_session_id_authentication_method_pkey
    unique (session_id, authentication_method)
);

-- Storage ----------------------------------------------------------------------------------------
-- The storage schema Supabase Storage keeps its metadata in, with its column names, helpers and
-- grants, so the project's storage policies and SQL written against storage.objects work here
-- unchanged. The local Storage server (supabase/local/storage/) reads and writes these tables.
create schema if not exists storage;
grant usage on schema storage to anon, authenticated, service_role;

do $$
begin
  create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');
exception
  when duplicate_object then null;
end
$$;

create table if not exists storage.buckets (
  id text primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype not null default 'STANDARD',
  versioning_status text default 'DISABLED'
);
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored,
  version text,
  owner_id text,
  user_metadata jsonb,
  archived_at timestamptz,
  is_delete_marker boolean default false,
  is_versioned boolean default false
);
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

grant all on storage.buckets, storage.objects to anon, authenticated, service_role;

-- Path helpers used in storage policies: folders, file name and extension of an object's name.
create or replace function storage.foldername(name text) returns text[]
language plpgsql immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1:array_length(_parts, 1) - 1];
end
$$;

create or replace function storage.filename(name text) returns text
language plpgsql immutable
as $$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$$;

-- Storage's own definition: with no dot, the whole file name comes back.
create or replace function storage.extension(name text) returns text
language plpgsql immutable
as $$
declare
  _filename text;
begin
  select storage.filename(name) into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$$;

-- What list() runs: one level below the prefix, folders first, under the caller's RLS
-- (SECURITY INVOKER), so a listing shows only what the caller may select.
create or replace function storage.search(
  prefix text,
  bucketname text,
  limits integer default 100,
  levels integer default 1,
  offsets integer default 0,
  search text default '',
  sortcolumn text default 'name',
  sortorder text default 'asc'
) returns table (
  name text,
  id uuid,
  updated_at timestamptz,
  created_at timestamptz,
  last_accessed_at timestamptz,
  metadata jsonb
)
language plpgsql stable
as $$
declare
  v_order text;
  v_column text;
begin
  v_order := case when lower(sortorder) = 'desc' then 'desc' else 'asc' end;
  v_column := case lower(sortcolumn)
    when 'updated_at' then 'updated_at'
    when 'created_at' then 'created_at'
    when 'last_accessed_at' then 'last_accessed_at'
    else 'name'
  end;
  return query execute format(
    $q$
    with matching as (
      select o.path_tokens, o.id, o.updated_at, o.created_at, o.last_accessed_at, o.metadata
        from storage.objects o
       where o.bucket_id = $4
         and o.name ilike replace(replace(replace($2 || $3, '\', '\\'), '%%', '\%%'), '_', '\_') || '%%'
    ),
    folders as (
      select distinct m.path_tokens[$1] as folder
        from matching m
       where array_length(m.path_tokens, 1) > $1
    )
    select * from (
      (select f.folder as name, null::uuid as id, null::timestamptz as updated_at,
              null::timestamptz as created_at, null::timestamptz as last_accessed_at,
              null::jsonb as metadata
         from folders f
        order by f.folder %1$s)
      union all
      (select m.path_tokens[$1] as name, m.id, m.updated_at, m.created_at,
              m.last_accessed_at, m.metadata
         from matching m
        where array_length(m.path_tokens, 1) = $1
        order by %2$I %1$s)
    ) listing
    limit $5 offset $6
    $q$,
    v_order, v_column)
  using levels, prefix, search, bucketname, limits, offsets;
end
$$;

grant execute on function storage.foldername(text), storage.filename(text), storage.extension(text),
  storage.search(text, text, integer, integer, integer, text, text, text)
  to anon, authenticated, service_role;

create or replace function storage.update_updated_at_column() returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end
$$;

drop trigger if exists update_objects_updated_at on storage.objects;
create trigger update_objects_updated_at before update on storage.objects
  for each row execute function storage.update_updated_at_column();

-- Rows deleted by hand would leave their bytes behind; Storage only deletes through its API, which
-- sets storage.allow_delete_query for the statement's transaction.
create or replace function storage.protect_delete() returns trigger
language plpgsql
as $$
begin
  if coalesce(current_setting('storage.allow_delete_query', true), 'false') <> 'true' then
    raise exception 'Direct deletion from storage tables is not allowed. Use the Storage API instead.'
      using errcode = '42501',
            hint = 'This prevents accidental data loss from orphaned objects.';
  end if;
  return null;
end
$$;

drop trigger if exists protect_buckets_delete on storage.buckets;
create trigger protect_buckets_delete before delete on storage.buckets
  for each statement execute function storage.protect_delete();
drop trigger if exists protect_objects_delete on storage.objects;
create trigger protect_objects_delete before delete on storage.objects
  for each statement execute function storage.protect_delete();

-- The Data API's schema cache follows DDL as on Supabase, whose databases carry these two event
-- triggers: any change to what PostgREST exposes sends NOTIFY pgrst, 'reload schema'.
create or replace function extensions.pgrst_ddl_watch() returns event_trigger
language plpgsql
as $$
declare
  cmd record;
begin
  for cmd in select * from pg_event_trigger_ddl_commands() loop
    if cmd.command_tag in (
      'CREATE SCHEMA', 'ALTER SCHEMA', 'CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO',
      'ALTER TABLE', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE', 'CREATE VIEW', 'ALTER VIEW',
      'CREATE MATERIALIZED VIEW', 'ALTER MATERIALIZED VIEW', 'CREATE FUNCTION', 'ALTER FUNCTION',
      'CREATE TRIGGER', 'CREATE TYPE', 'ALTER TYPE', 'CREATE RULE', 'COMMENT'
    ) and cmd.schema_name is distinct from 'pg_temp' then
      notify pgrst, 'reload schema';
    end if;
  end loop;
end
$$;

create or replace function extensions.pgrst_drop_watch() returns event_trigger
language plpgsql
as $$
declare
  obj record;
begin
  for obj in select * from pg_event_trigger_dropped_objects() loop
    if obj.object_type in (
      'schema', 'table', 'foreign table', 'view', 'materialized view', 'function', 'trigger',
      'type', 'rule'
    ) and obj.is_temporary is false then
      notify pgrst, 'reload schema';
    end if;
  end loop;
end
$$;

do $$
begin
  if not exists (select 1 from pg_event_trigger where evtname = 'pgrst_ddl_watch') then
    create event trigger pgrst_ddl_watch on ddl_command_end
      execute procedure extensions.pgrst_ddl_watch();
  end if;
  if not exists (select 1 from pg_event_trigger where evtname = 'pgrst_drop_watch') then
    create event trigger pgrst_drop_watch on sql_drop
      execute procedure extensions.pgrst_drop_watch();
  end if;
end
$$;
