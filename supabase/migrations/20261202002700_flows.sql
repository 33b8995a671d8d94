-- Keyword flows: a tenant's scripted conversations (steps with text and buttons, questions whose
-- answers are saved on the contact, branches, handoff) that answer before any bot engine, on every
-- channel. The definition is validated by the flows function when saved, so only the service
-- writes it; owners and admins may switch a flow off or delete it directly.

create table public.bot_flows (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  enabled boolean not null default true,
  triggers text[] not null default '{}',
  definition jsonb not null check (jsonb_typeof(definition) = 'object'),
  timeout_minutes integer not null default 60 check (timeout_minutes between 1 and 10080),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, name)
);
create index bot_flows_triggers_idx on public.bot_flows using gin (triggers);

comment on table public.bot_flows is
  'A tenant''s keyword flow: started when a customer''s whole message is one of its triggers, it answers before the bot engine on the widget and WhatsApp alike. Saved through the flows function, which validates the definition.';
comment on column public.bot_flows.id is 'The flow.';
comment on column public.bot_flows.tenant_id is 'The tenant whose customers it answers.';
comment on column public.bot_flows.name is 'A name for the admin; unique per tenant.';
comment on column public.bot_flows.enabled is 'Off: never started, and conversations inside it leave it at their next message.';
comment on column public.bot_flows.triggers is
  'Keywords that start it, normalised (lower case, single spaces, no surrounding punctuation); a message equal to one starts the flow.';
comment on column public.bot_flows.definition is
  'The validated flow: {steps: [{id, type: message|ask|set|handoff|ai|end, ...}]}; the first step runs first.';
comment on column public.bot_flows.timeout_minutes is
  'How long a conversation may wait at a question; a later answer no longer belongs to the flow.';
comment on column public.bot_flows.created_at is 'When the flow was first saved.';
comment on column public.bot_flows.updated_at is 'When the flow last changed.';

create trigger bot_flows_touch before update on public.bot_flows
  for each row execute function private.touch_updated_at();
create trigger bot_flows_same_tenant before update on public.bot_flows
  for each row execute function private.forbid_tenant_change();

alter table public.bot_flows enable row level security;
create policy bot_flows_select on public.bot_flows for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy bot_flows_update on public.bot_flows for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy bot_flows_delete on public.bot_flows for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));
revoke all on public.bot_flows from anon, authenticated;
grant select, delete on public.bot_flows to authenticated;
grant update (enabled) on public.bot_flows to authenticated;
grant all on public.bot_flows to service_role;

-- Where each conversation is inside a flow: resumable after any crash or restart, and dropped
-- when the flow ends, hands off, or the customer waits past the flow's timeout.
create table private.flow_sessions (
  conversation_id uuid primary key references public.conversations (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  flow_id uuid not null references public.bot_flows (id) on delete cascade,
  step_id text not null,
  retries integer not null default 0,
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index flow_sessions_expiry_idx on private.flow_sessions (expires_at);
alter table private.flow_sessions enable row level security;
revoke all on private.flow_sessions from public, anon, authenticated;
grant all on private.flow_sessions to service_role;

comment on table private.flow_sessions is
  'The step of a flow a conversation waits at (a question), until the flow ends or times out.';
comment on column private.flow_sessions.conversation_id is 'The conversation inside the flow.';
comment on column private.flow_sessions.tenant_id is 'The conversation''s tenant.';
comment on column private.flow_sessions.flow_id is 'The flow.';
comment on column private.flow_sessions.step_id is 'The question step awaiting the customer''s answer.';
comment on column private.flow_sessions.retries is 'Answers refused at this step so far.';
comment on column private.flow_sessions.started_at is 'When the flow started.';
comment on column private.flow_sessions.updated_at is 'When the conversation last moved in the flow.';
comment on column private.flow_sessions.expires_at is 'Past this, the next message is no longer an answer.';

-- A reply written by a flow is audited like any other reply.
alter table public.reply_groundings drop constraint reply_groundings_engine_check;
alter table public.reply_groundings add constraint reply_groundings_engine_check
  check (engine in ('ai', 'n8n', 'retrieval', 'cache', 'quota', 'flow'));

-- Expired sessions are cleared with the engine's other state.
select cron.schedule('parley-flow-sessions', '*/15 * * * *',
  'delete from private.flow_sessions where expires_at < now() - interval ''1 day''');
