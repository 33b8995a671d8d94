-- WhatsApp message templates: synced from the WhatsApp Business Account, kept current by Meta's
-- message_template_status_update webhook, and the only thing sent outside the 24-hour window.

create table public.whatsapp_templates (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  connection_id uuid not null references public.whatsapp_connections (id) on delete cascade,
  meta_id text not null,
  name text not null check (length(name) between 1 and 512),
  language text not null check (length(language) between 2 and 20),
  category text,
  status text not null,
  components jsonb not null default '[]'::jsonb check (jsonb_typeof(components) = 'array'),
  rejected_reason text,
  synced_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (connection_id, name, language),
  unique (connection_id, meta_id)
);
create index whatsapp_templates_tenant_idx on public.whatsapp_templates (tenant_id, name);

comment on table public.whatsapp_templates is
  'The message templates of a connection''s WhatsApp Business Account, as Meta reports them; an APPROVED one may be sent outside the 24-hour window.';
comment on column public.whatsapp_templates.id is 'The template in Parley.';
comment on column public.whatsapp_templates.tenant_id is 'The tenant.';
comment on column public.whatsapp_templates.connection_id is 'The number whose account owns it.';
comment on column public.whatsapp_templates.meta_id is 'Meta''s template id.';
comment on column public.whatsapp_templates.name is 'The template''s name in Meta.';
comment on column public.whatsapp_templates.language is 'Its language code (en_US, es…).';
comment on column public.whatsapp_templates.category is 'MARKETING, UTILITY or AUTHENTICATION.';
comment on column public.whatsapp_templates.status is 'APPROVED, PENDING, REJECTED, PAUSED, DISABLED…';
comment on column public.whatsapp_templates.components is
  'Meta''s components: HEADER, BODY (with {{1}}… variables), FOOTER, BUTTONS.';
comment on column public.whatsapp_templates.rejected_reason is 'Why Meta rejected or paused it.';
comment on column public.whatsapp_templates.synced_at is 'When it was last read from Meta.';
comment on column public.whatsapp_templates.updated_at is 'When the row last changed.';

create trigger whatsapp_templates_touch before update on public.whatsapp_templates
  for each row execute function private.touch_updated_at();

alter table public.whatsapp_templates enable row level security;
-- Agents pick templates too; Meta is the only source, so only the service writes.
create policy whatsapp_templates_select on public.whatsapp_templates for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
revoke all on public.whatsapp_templates from anon, authenticated;
grant select on public.whatsapp_templates to authenticated;
grant all on public.whatsapp_templates to service_role;

-- Which template (and variables) an agent's message was sent as.
create table private.whatsapp_template_sends (
  message_id uuid primary key references public.messages (id) on delete cascade,
  template_id uuid not null references public.whatsapp_templates (id) on delete cascade,
  variables text[] not null default '{}'
);
alter table private.whatsapp_template_sends enable row level security;
revoke all on private.whatsapp_template_sends from public, anon, authenticated;
grant all on private.whatsapp_template_sends to service_role;
comment on table private.whatsapp_template_sends is
  'Messages sent as a template: the template and its body variables, read by the send job.';
comment on column private.whatsapp_template_sends.message_id is 'The agent''s message.';
comment on column private.whatsapp_template_sends.template_id is 'The template sent.';
comment on column private.whatsapp_template_sends.variables is 'The values of {{1}}, {{2}}… in order.';

-- A connection's templates are read again whenever its account or token changes.
create or replace function private.enqueue_whatsapp_template_sync() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.business_account_id is not null and (
    tg_op = 'INSERT'
    or new.business_account_id is distinct from old.business_account_id
    or new.access_token is distinct from old.access_token
  ) then
    perform private.enqueue_job('whatsapp_templates_sync',
      jsonb_build_object('connection_id', new.id), new.tenant_id, now(),
      'whatsapp_templates:' || new.id, 5, null);
  end if;
  return null;
end;
$$;
comment on function private.enqueue_whatsapp_template_sync() is
  'Queues a template sync when a connection gets a (new) business account or access token.';

create trigger whatsapp_connections_sync_templates
  after insert or update on public.whatsapp_connections
  for each row execute function private.enqueue_whatsapp_template_sync();

-- An agent sends an approved template into a WhatsApp conversation, e.g. past the 24-hour window.
create or replace function public.send_whatsapp_template(
  p_conversation_id uuid,
  p_template_id uuid,
  p_variables text[] default '{}'
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  conv public.conversations;
  tpl public.whatsapp_templates;
  body text;
  wanted integer;
  message_id uuid;
begin
  select * into conv from public.conversations where id = p_conversation_id;
  if conv.id is null or not private.is_member(conv.tenant_id) then
    raise exception 'no such conversation' using errcode = '42501';
  end if;
  select t.* into tpl from public.whatsapp_templates t
    join private.whatsapp_threads th on th.connection_id = t.connection_id
   where t.id = p_template_id and th.conversation_id = conv.id;
  if tpl.id is null then
    raise exception 'the template does not belong to this conversation''s number'
      using errcode = '22023';
  end if;
  if tpl.status <> 'APPROVED' then
    raise exception 'the template is %, not APPROVED', tpl.status using errcode = '22023';
  end if;
  select c ->> 'text' into body from jsonb_array_elements(tpl.components) c
   where upper(c ->> 'type') = 'BODY';
  body := coalesce(body, '');
  select coalesce(max((m[1])::integer), 0) into wanted
    from regexp_matches(body, '\{\{([0-9]+)\}\}', 'g') as m;
  if coalesce(array_length(p_variables, 1), 0) <> wanted then
    raise exception 'the template takes % variable(s)', wanted using errcode = '22023';
  end if;
  for i in 1 .. wanted loop
    body := replace(body, '{{' || i || '}}', p_variables[i]);
  end loop;
  insert into public.messages (conversation_id, role, content, author_id)
  values (conv.id, 'agent', left(body, 20000), auth.uid())
  returning id into message_id;
  insert into private.whatsapp_template_sends (message_id, template_id, variables)
  values (message_id, tpl.id, coalesce(p_variables, '{}'));
  return message_id;
end;
$$;
comment on function public.send_whatsapp_template(uuid, uuid, text[]) is
  'Sends an APPROVED template with its body variables into a WhatsApp conversation, as the calling member; the only message that may leave outside the 24-hour window. Returns the message id.';
revoke all on function public.send_whatsapp_template(uuid, uuid, text[]) from public, anon;
grant execute on function public.send_whatsapp_template(uuid, uuid, text[]) to authenticated;
