-- Flows that call tools, and broadcasts that start a flow.
--
-- A flow's call_tool step keeps values for its later steps in flow variables; they live with the
-- conversation's place in the flow, so a flow waiting at a question still has them when the answer
-- comes.
--
-- A broadcast may start a flow. It still opens with its approved template, because a business may
-- write first, or again after 24 hours, only with a template. The flow begins with a question
-- (an `ask` step) that the template stands in for: the customer's reply to the template is the
-- answer to that question, and the flow goes on from there.

alter table private.flow_sessions add column vars jsonb not null default '{}'::jsonb
  check (jsonb_typeof(vars) = 'object');
comment on column private.flow_sessions.vars is
  'The flow''s variables (vars.<key>), written by call_tool steps and read by later steps.';

alter table public.whatsapp_broadcasts add column flow_id uuid
  references public.bot_flows (id) on delete set null;
comment on column public.whatsapp_broadcasts.flow_id is
  'A flow the broadcast starts: a recipient''s reply to the template answers the flow''s first step (a question). Null: the template alone.';

drop function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer);

create or replace function public.create_whatsapp_broadcast(
  p_template_id uuid,
  p_name text,
  p_variables text[] default '{}',
  p_segment jsonb default '{}'::jsonb,
  p_scheduled_at timestamptz default null,
  p_messages_per_second integer default 80,
  p_flow_id uuid default null
) returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  tpl public.whatsapp_templates;
  body text;
  wanted integer;
  broadcast_id uuid;
  attrs jsonb := coalesce(p_segment -> 'attributes', '{}'::jsonb);
  flow public.bot_flows;
begin
  select * into tpl from public.whatsapp_templates where id = p_template_id;
  if tpl.id is null or not private.has_tenant_role(tpl.tenant_id, array['owner', 'admin']) then
    raise exception 'only the workspace''s owners and admins send broadcasts' using errcode = '42501';
  end if;
  if tpl.status <> 'APPROVED' then
    raise exception 'the template is %, not APPROVED', tpl.status using errcode = '22023';
  end if;
  if jsonb_typeof(coalesce(p_segment, '{}'::jsonb)) <> 'object' or jsonb_typeof(attrs) <> 'object'
     or exists (select 1 from jsonb_object_keys(coalesce(p_segment, '{}'::jsonb)) k where k <> 'attributes')
     or exists (select 1 from jsonb_each(attrs) a
                 where jsonb_typeof(a.value) not in ('string', 'number', 'boolean')) then
    raise exception 'the segment is {"attributes": {"<key>": <text, number or true/false>, ...}}'
      using errcode = '22023';
  end if;
  select c ->> 'text' into body from jsonb_array_elements(tpl.components) c
   where upper(c ->> 'type') = 'BODY';
  select coalesce(max((m[1])::integer), 0) into wanted
    from regexp_matches(coalesce(body, ''), '\{\{([0-9]+)\}\}', 'g') as m;
  if coalesce(array_length(p_variables, 1), 0) <> wanted then
    raise exception 'the template takes % variable(s)', wanted using errcode = '22023';
  end if;
  if p_flow_id is not null then
    select * into flow from public.bot_flows where id = p_flow_id and tenant_id = tpl.tenant_id;
    if flow.id is null then
      raise exception 'no such flow in this workspace' using errcode = '22023';
    end if;
    if not flow.enabled then
      raise exception 'the flow is switched off' using errcode = '22023';
    end if;
    -- The template is the flow's opening message; what the customer answers to it must have a
    -- question to answer.
    if flow.definition #>> '{steps,0,type}' is distinct from 'ask' then
      raise exception 'a broadcast starts a flow whose first step is a question (ask): the template asks it'
        using errcode = '22023';
    end if;
  end if;

  insert into public.whatsapp_broadcasts
    (tenant_id, connection_id, template_id, name, variables, segment, messages_per_second,
     scheduled_at, created_by, flow_id)
  values (tpl.tenant_id, tpl.connection_id, tpl.id, p_name, coalesce(p_variables, '{}'),
          coalesce(p_segment, '{}'::jsonb), coalesce(p_messages_per_second, 80),
          coalesce(p_scheduled_at, now()), auth.uid(), p_flow_id)
  returning id into broadcast_id;
  insert into public.whatsapp_broadcast_recipients (broadcast_id, contact_id, tenant_id, wa_id)
  select broadcast_id, k.id, k.tenant_id, k.wa_id
    from public.contacts k
   where k.tenant_id = tpl.tenant_id and k.wa_id is not null
     and k.whatsapp_opt_in_at is not null and k.whatsapp_opted_out_at is null
     and k.attributes @> attrs;
  perform private.enqueue_job('whatsapp_broadcast', jsonb_build_object('broadcast_id', broadcast_id),
    tpl.tenant_id, coalesce(p_scheduled_at, now()), 'broadcast:' || broadcast_id, 10, null);
  return broadcast_id;
end;
$$;
comment on function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer, uuid) is
  'Creates a broadcast of an APPROVED template (with its body variables) to the opted-in, not opted-out contacts whose attributes match every condition of the segment, sent from scheduled_at (default now); with a flow (whose first step is a question), a reply to the template answers that question. Owners and admins only. Returns its id.';
revoke all on function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer, uuid) from public, anon;
grant execute on function public.create_whatsapp_broadcast(uuid, text, text[], jsonb, timestamptz, integer, uuid) to authenticated;
