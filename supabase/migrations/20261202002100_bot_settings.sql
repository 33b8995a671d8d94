-- Bot settings as the admin SPA edits them: a third engine (people only), every setting checked
-- at the write with a reason in words, secrets that are written but never read back through the
-- Data API (set, rotated and shown once by the functions below), and a record of where the widget
-- has loaded, which onboarding watches.

-- People only -----------------------------------------------------------------------------------

alter table public.tenants drop constraint tenants_bot_engine_check;
alter table public.tenants
  add constraint tenants_bot_engine_check check (bot_engine in ('ai', 'n8n', 'human'));

comment on column public.tenants.bot_engine is
  'Who answers visitors: ai (Parley''s own agent), n8n (the tenant''s workflow) or human (no bot: every conversation waits for a person).';
comment on column public.tenant_connections.bot_engine is
  'ai, n8n or human: who answers.';

-- Settings checked in words ------------------------------------------------------------------------
-- tenants_bot_config_shape (render_shapes) keeps what the widget renders renderable; this trigger
-- adds the rules of the settings themselves and says which one was broken, so the admin can show
-- the reason instead of a constraint name. Its errors are 23514 like the constraint's (a 400
-- through the Data API).

create or replace function private.tenant_settings_problem(
  p_bot_config jsonb, p_llm_config jsonb, p_allowed_origins text[]
) returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  form jsonb := p_bot_config -> 'prechat_form';
  names text[];
  origin text;
begin
  if jsonb_typeof(p_bot_config) is distinct from 'object' then
    return 'The bot settings must be a JSON object.';
  end if;
  if jsonb_typeof(p_bot_config -> 'color') = 'string'
     and (p_bot_config ->> 'color') !~ '^#[0-9A-Fa-f]{6}$' then
    return 'The color must be a hex color such as #2f6f4f.';
  end if;
  if jsonb_typeof(p_bot_config -> 'locale') = 'string'
     and (p_bot_config ->> 'locale') !~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$' then
    return 'The bot''s language must be a language code such as en or he.';
  end if;
  if jsonb_typeof(p_bot_config -> 'tone') = 'string'
     and (p_bot_config ->> 'tone') not in ('friendly', 'professional', 'concise', 'playful') then
    return 'The tone must be friendly, professional, concise or playful.';
  end if;
  if coalesce(jsonb_typeof(p_bot_config -> 'system_prompt'), 'null') not in ('string', 'null')
     or length(p_bot_config ->> 'system_prompt') > 4000 then
    return 'The persona must be text of at most 4000 characters.';
  end if;
  if coalesce(jsonb_typeof(p_bot_config -> 'guardrails'), 'null') <> 'null'
     and not private.is_text_list(p_bot_config -> 'guardrails', 20, 500) then
    return 'Guardrails are at most 20 rules of 1 to 500 characters each.';
  end if;
  if jsonb_typeof(p_bot_config -> 'avatar_url') = 'string'
     and ((p_bot_config ->> 'avatar_url') !~ '^https://[^\s]+$'
          or length(p_bot_config ->> 'avatar_url') > 2048) then
    return 'The avatar must be an https address.';
  end if;
  if jsonb_typeof(p_bot_config -> 'greeting') = 'object' and exists (
       select 1 from jsonb_object_keys(p_bot_config -> 'greeting') as k
        where k !~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$') then
    return 'Greetings are keyed by language codes such as en or he.';
  end if;
  if jsonb_typeof(p_bot_config -> 'quick_starts') = 'object' and exists (
       select 1 from jsonb_object_keys(p_bot_config -> 'quick_starts') as k
        where k !~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$') then
    return 'Quick starts are keyed by language codes such as en or he.';
  end if;
  if jsonb_typeof(form -> 'fields') = 'array' then
    select array_agg(f ->> 'name') into names from jsonb_array_elements(form -> 'fields') as f;
    if exists (select 1 from unnest(names) as n where n !~ '^[A-Za-z][A-Za-z0-9_]{0,63}$') then
      return 'A pre-chat field''s name is a letter followed by letters, digits or underscores.';
    end if;
    if (select count(distinct n) from unnest(names) as n) <> cardinality(names) then
      return 'Two pre-chat fields have the same name.';
    end if;
  end if;

  if jsonb_typeof(p_llm_config) is distinct from 'object' then
    return 'The model settings must be a JSON object.';
  end if;
  if coalesce(p_llm_config ->> 'provider', 'openai') not in ('openai', 'anthropic') then
    return 'The model provider must be openai (or any OpenAI-compatible API) or anthropic.';
  end if;
  if coalesce(jsonb_typeof(p_llm_config -> 'model'), 'null') not in ('string', 'null')
     or length(p_llm_config ->> 'model') > 200 then
    return 'The model name must be text of at most 200 characters.';
  end if;
  if coalesce(jsonb_typeof(p_llm_config -> 'temperature'), 'null') not in ('number', 'null')
     or (p_llm_config ->> 'temperature')::numeric not between 0 and 2 then
    return 'The temperature must be a number from 0 to 2.';
  end if;

  if cardinality(p_allowed_origins) > 50 then
    return 'At most 50 allowed origins.';
  end if;
  foreach origin in array p_allowed_origins loop
    -- The patterns the chat function matches (functions/chat/tenant.ts, originAllowed).
    if origin is null
       or origin !~ '^https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:([0-9]{1,5}|\*))?$' then
      return format('"%s" is not an origin: write the scheme and host, such as https://shop.example, https://*.shop.example or http://localhost:*.', origin);
    end if;
  end loop;
  return null;
end;
$$;

comment on function private.tenant_settings_problem(jsonb, jsonb, text[]) is
  'Why a tenant''s bot settings, model settings or allowed origins cannot be saved, in words; null when they can.';

create or replace function private.check_tenant_settings() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  problem text := private.tenant_settings_problem(new.bot_config, new.llm_config, new.allowed_origins);
begin
  if problem is not null then
    raise exception '%', problem using errcode = '23514';
  end if;
  return new;
end;
$$;

comment on function private.check_tenant_settings() is
  'Refuses a tenants row whose settings break a rule of private.tenant_settings_problem, saying which.';

create trigger tenants_check_settings
  before insert or update of bot_config, llm_config, allowed_origins on public.tenants
  for each row execute function private.check_tenant_settings();

-- Secrets: written, never read back ----------------------------------------------------------------
-- No API role reads or writes tenant_secrets any more, owners included: a model key saved in the
-- admin is never shown again, and the identity and n8n secrets are shown once, when made. The
-- functions below are the only way in, each checking the caller's role in the tenant.

drop policy tenant_secrets_select on public.tenant_secrets;
drop policy tenant_secrets_update on public.tenant_secrets;
revoke all on public.tenant_secrets from anon, authenticated;

comment on table public.tenant_secrets is
  'Per-tenant secrets (identity verification, n8n signing, the model API key). No API role reads or writes it: owners and admins set and rotate them through set_llm_api_key, rotate_identity_secret and rotate_n8n_secret, and see only whether each is set (bot_secrets_status).';

create or replace function private.require_tenant_manager(p_tenant_id uuid) returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.has_tenant_role(p_tenant_id, array['owner', 'admin']) then
    raise exception 'Only the workspace''s owners and admins may change its settings.'
      using errcode = '42501';
  end if;
end;
$$;

comment on function private.require_tenant_manager(uuid) is
  'Raises 42501 unless the caller is an owner or admin of the tenant.';

create or replace function public.bot_secrets_status(p_tenant_id uuid)
returns table (
  llm_api_key_set boolean,
  n8n_previous_expires_at timestamptz,
  updated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not (private.has_tenant_role(p_tenant_id, array['owner', 'admin'])
          or private.is_platform_admin()) then
    raise exception 'Only the workspace''s owners and admins see its secrets.'
      using errcode = '42501';
  end if;
  return query
    select s.llm_api_key is not null, s.n8n_previous_expires_at, s.updated_at
      from public.tenant_secrets s where s.tenant_id = p_tenant_id;
end;
$$;

comment on function public.bot_secrets_status(uuid) is
  'Whether the tenant''s model API key is set, when the previous n8n secret stops working, and when a secret last changed; never a secret. Owners, admins and platform admins.';

create or replace function public.set_llm_api_key(p_tenant_id uuid, p_api_key text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  clean text := nullif(btrim(coalesce(p_api_key, '')), '');
begin
  perform private.require_tenant_manager(p_tenant_id);
  if clean is not null and (length(clean) not between 8 and 500 or clean ~ '[\s[:cntrl:]]') then
    raise exception 'An API key is 8 to 500 characters without spaces.' using errcode = '22023';
  end if;
  update public.tenant_secrets set llm_api_key = clean where tenant_id = p_tenant_id;
  return clean is not null;
end;
$$;

comment on function public.set_llm_api_key(uuid, text) is
  'Sets (or, with null or an empty string, clears) the tenant''s model API key; returns whether one is now set. The key is never returned by anything. Owners and admins.';

create or replace function public.rotate_identity_secret(p_tenant_id uuid) returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  secret text := encode(extensions.gen_random_bytes(32), 'hex');
begin
  perform private.require_tenant_manager(p_tenant_id);
  update public.tenant_secrets set identity_secret = secret where tenant_id = p_tenant_id;
  return secret;
end;
$$;

comment on function public.rotate_identity_secret(uuid) is
  'Makes a new identity-verification secret and returns it, the only time it is shown; hashes made with the old one stop verifying at once. Owners and admins.';

create or replace function public.rotate_n8n_secret(p_tenant_id uuid) returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  secret text := 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64');
begin
  perform private.require_tenant_manager(p_tenant_id);
  update public.tenant_secrets
     set n8n_previous_secret = n8n_secret,
         n8n_previous_expires_at = now() + interval '1 day',
         n8n_secret = secret
   where tenant_id = p_tenant_id;
  return secret;
end;
$$;

comment on function public.rotate_n8n_secret(uuid) is
  'Makes a new n8n signing secret and returns it, the only time it is shown; the previous one stays valid for a day, so the workflow can be updated without dropping a call. Owners and admins.';

create or replace function public.rotate_widget_key(p_tenant_id uuid) returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  key text := 'pk_' || replace(gen_random_uuid()::text, '-', '');
begin
  perform private.require_tenant_manager(p_tenant_id);
  update public.tenants set widget_key = key where id = p_tenant_id;
  return key;
end;
$$;

comment on function public.rotate_widget_key(uuid) is
  'Gives the tenant a new public widget key and returns it; pages embedding the old key stop loading the chat. Owners and admins.';

revoke execute on function
  private.tenant_settings_problem(jsonb, jsonb, text[]),
  private.check_tenant_settings(),
  private.require_tenant_manager(uuid),
  public.bot_secrets_status(uuid),
  public.set_llm_api_key(uuid, text),
  public.rotate_identity_secret(uuid),
  public.rotate_n8n_secret(uuid),
  public.rotate_widget_key(uuid)
from public, anon;
-- The trigger runs as the writer (an admin saving settings through the Data API).
grant execute on function private.tenant_settings_problem(jsonb, jsonb, text[])
  to authenticated, service_role;
grant execute on function
  public.bot_secrets_status(uuid),
  public.set_llm_api_key(uuid, text),
  public.rotate_identity_secret(uuid),
  public.rotate_n8n_secret(uuid),
  public.rotate_widget_key(uuid)
to authenticated, service_role;

-- Where the widget has loaded -----------------------------------------------------------------------
-- The chat function records the origin of every page whose widget asks for its config (at most
-- one write per origin every 30 seconds), so onboarding can say "your widget is live" and settings
-- can show where it runs, including origins the allowed list refuses.

create table public.widget_loads (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  origin text not null check (length(origin) between 1 and 300),
  allowed boolean not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  loads bigint not null default 1 check (loads >= 1),
  primary key (tenant_id, origin)
);

comment on table public.widget_loads is
  'Origins of the pages where a tenant''s widget loaded (asked for its config), written by the chat function; owners, admins and platform admins read them.';
comment on column public.widget_loads.tenant_id is 'The tenant whose widget key was used.';
comment on column public.widget_loads.origin is 'The embedding page''s origin (scheme, host, port).';
comment on column public.widget_loads.allowed is 'Whether the tenant''s allowed origins admitted it at the last load.';
comment on column public.widget_loads.first_seen_at is 'The first load seen from this origin.';
comment on column public.widget_loads.last_seen_at is 'The last load recorded (at most every 30 seconds).';
comment on column public.widget_loads.loads is 'Loads recorded from this origin (at most one per 30 seconds).';

alter table public.widget_loads enable row level security;

create policy widget_loads_select on public.widget_loads for select to authenticated
  using (
    private.has_tenant_role(tenant_id, array['owner', 'admin'])
    or (select private.is_platform_admin())
  );

revoke all on public.widget_loads from anon, authenticated;
grant select on public.widget_loads to authenticated;

-- Anyone holding the public key can send any Origin header, so what one tenant's list may grow to
-- is bounded: 200 origins, of which 20 refused ones.
create or replace function private.record_widget_load(p_tenant_id uuid, p_origin text, p_allowed boolean)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  update public.widget_loads
     set last_seen_at = now(), loads = loads + 1, allowed = p_allowed
   where tenant_id = p_tenant_id and origin = p_origin
     and last_seen_at < now() - interval '30 seconds';
  if found or exists (
       select 1 from public.widget_loads where tenant_id = p_tenant_id and origin = p_origin) then
    return;
  end if;
  if (select count(*) from public.widget_loads where tenant_id = p_tenant_id) >= 200
     or (not p_allowed and (select count(*) from public.widget_loads
                             where tenant_id = p_tenant_id and not allowed) >= 20) then
    return;
  end if;
  insert into public.widget_loads (tenant_id, origin, allowed)
  values (p_tenant_id, p_origin, p_allowed)
  on conflict (tenant_id, origin) do nothing;
end;
$$;

comment on function private.record_widget_load(uuid, text, boolean) is
  'Records that the tenant''s widget loaded on a page of p_origin (the chat function, as the service); bounded per tenant.';

revoke execute on function private.record_widget_load(uuid, text, boolean) from public, anon, authenticated;
grant execute on function private.record_widget_load(uuid, text, boolean) to service_role;
