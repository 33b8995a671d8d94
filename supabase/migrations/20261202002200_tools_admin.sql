-- The admin's Tools and Playground pages: signing secrets that are shown once and rotated with an
-- overlap, test calls kept apart in the tool log, per-tool success rate and latency, and visitor
-- sessions opened by staff to try the bot.

-- Secrets shown once ------------------------------------------------------------------------------
-- A tool's signing secret leaves the database only through rotate_tool_secret, which returns the
-- new one a single time. Owners and admins used to read it back from the table at any moment, so a
-- leaked staff session leaked every tool's key; now it can only replace them, which the receivers
-- notice. Nobody writes a secret of their own choosing either: the server generates each one.
select private.grant_select_except('public.tenant_tools', array['secret', 'previous_secret']);

revoke insert, update on public.tenant_tools from anon, authenticated;
grant insert (id, tenant_id, tool_id, name, description, enabled, webhook_url, timeout_ms, parameters)
  on public.tenant_tools to authenticated;
grant update (tool_id, name, description, enabled, webhook_url, timeout_ms, parameters)
  on public.tenant_tools to authenticated;

-- A new secret for a tool, returned once. With an overlap, the secret it replaces keeps signing
-- calls beside the new one (two values in webhook-signature) until previous_secret_expires_at, so a
-- workflow can be switched to the new secret without a dropped call; without one, the old secret
-- stops at once (a first secret, or a leaked one). Only the secret just replaced overlaps: rotating
-- twice within a window ends the older one's.
create function public.rotate_tool_secret(p_tool_id uuid, p_overlap_seconds integer default 86400)
returns table (secret text, previous_secret_expires_at timestamptz)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_tenant uuid;
begin
  if p_overlap_seconds is null or p_overlap_seconds < 0 or p_overlap_seconds > 604800 then
    raise exception 'the overlap is 0 to 604800 seconds (a week)' using errcode = '22023';
  end if;
  select t.tenant_id into v_tenant from public.tenant_tools t where t.id = p_tool_id;
  -- Another tenant's tool and no tool answer alike.
  if v_tenant is null or not private.has_tenant_role(v_tenant, array['owner', 'admin']) then
    raise exception 'no such tool, or not yours to rotate' using errcode = '42501';
  end if;
  return query
    update public.tenant_tools t
       set previous_secret = case when p_overlap_seconds > 0 then t.secret end,
           previous_secret_expires_at = case
             when p_overlap_seconds > 0 then now() + make_interval(secs => p_overlap_seconds)
           end,
           secret = 'whsec_' || encode(extensions.gen_random_bytes(32), 'base64')
     where t.id = p_tool_id
    returning t.secret, t.previous_secret_expires_at;
end;
$$;

comment on function public.rotate_tool_secret(uuid, integer) is
  'Gives a tool a new signing secret and returns it, the only time it is shown; the old one keeps signing for p_overlap_seconds (0 to a week). Owners and admins of the tool''s tenant.';

revoke execute on function public.rotate_tool_secret(uuid, integer) from public, anon;
grant execute on function public.rotate_tool_secret(uuid, integer) to authenticated;

-- Test calls ---------------------------------------------------------------------------------------
alter table public.tool_executions add column test boolean not null default false;
comment on column public.tool_executions.test is
  'A test call made from the admin''s Tools page rather than by the bot in a conversation.';
select private.grant_select_except('public.tool_executions', array['response', 'error']);

-- Success rate and latency per tool -------------------------------------------------------------
-- As the caller: the tool log's row policy decides whose calls are counted.
create function public.tool_stats(
  p_tenant_id uuid,
  p_since timestamptz default now() - interval '30 days'
)
returns table (
  tenant_tool_id uuid,
  tool_name text,
  calls bigint,
  successes bigint,
  success_rate numeric,
  p50_ms integer,
  p95_ms integer,
  test_calls bigint,
  last_called_at timestamptz
)
language sql
stable
security invoker
set search_path = ''
as $$
  select e.tenant_tool_id,
         (array_agg(e.tool_name order by e.created_at desc))[1],
         count(*),
         count(*) filter (where e.success),
         round(count(*) filter (where e.success)::numeric / count(*), 4),
         round(percentile_cont(0.5) within group (order by e.duration_ms))::integer,
         round(percentile_cont(0.95) within group (order by e.duration_ms))::integer,
         count(*) filter (where e.test),
         max(e.created_at)
    from public.tool_executions e
   where e.tenant_id = p_tenant_id and e.created_at >= p_since
   group by e.tenant_tool_id, case when e.tenant_tool_id is null then e.tool_name end
   order by 3 desc
$$;

comment on function public.tool_stats(uuid, timestamptz) is
  'Per tool since p_since: calls, successes, success rate, p50 and p95 duration in ms (calls that got no answer count at their time-out), test calls, last call. Counts what the caller may read of tool_executions.';

revoke execute on function public.tool_stats(uuid, timestamptz) from public, anon;
grant execute on function public.tool_stats(uuid, timestamptz) to authenticated, service_role;

-- Playground sessions --------------------------------------------------------------------------
alter table public.conversations
  add column playground_by uuid references auth.users (id) on delete set null;
comment on column public.conversations.playground_by is
  'The staff member who opened this conversation from the admin''s Playground to try the bot; null for real visitors.';

-- The catalog the Tools page starts from ------------------------------------------------------------
-- Templates, not tools: a tenant's tool copies the name, description and schema and then owns them.
insert into public.tools (slug, name, description, parameters) values
  ('order_lookup', 'Order status',
   'Look up an order by its number and tell the customer its status, items and tracking link.',
   '{"type": "object", "properties": {"order_number": {"type": "string", "minLength": 3, "maxLength": 40, "description": "The order number the customer gives"}, "email": {"type": "string", "format": "email", "description": "The email the order was placed with, to confirm it is theirs"}}, "required": ["order_number"], "additionalProperties": false}'),
  ('booking', 'Booking',
   'Book an appointment for the customer at a date and time they chose.',
   '{"type": "object", "properties": {"service": {"type": "string", "description": "What the appointment is for"}, "date": {"type": "string", "format": "date", "description": "The day, YYYY-MM-DD"}, "time": {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "description": "The time, HH:MM, 24-hour"}, "name": {"type": "string", "minLength": 1}, "email": {"type": "string", "format": "email"}}, "required": ["service", "date", "time", "name"], "additionalProperties": false}'),
  ('crm_lookup', 'CRM lookup',
   'Find the customer in the CRM by email or phone and return their account, plan and open tickets.',
   '{"type": "object", "properties": {"email": {"type": "string", "format": "email"}, "phone": {"type": "string", "pattern": "^\\+?[0-9 ()-]{6,20}$"}}, "anyOf": [{"required": ["email"]}, {"required": ["phone"]}], "additionalProperties": false}'),
  ('n8n_workflow', 'Generic n8n workflow',
   'Run an n8n workflow with a free-text request; describe here what the workflow does so the bot knows when to call it.',
   '{"type": "object", "properties": {"request": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "What the customer wants, in one sentence"}}, "required": ["request"], "additionalProperties": false}')
on conflict (slug) do nothing;
