-- What each role may read, column by column (README, "Data model and security"): agents do not
-- see tool configuration (the LLM settings and base URL, the n8n webhook, what a tool answered),
-- and visitors do not see what a reply cost (tokens, cost, model).
--
-- Visitors, agents, admins and owners are all the Postgres role `authenticated`: row policies tell
-- them apart, column privileges cannot. So a column that some of them may not read is withheld
-- from the API roles altogether, and those who may read it do so through a view that checks who
-- is asking. A table-level SELECT grant would cover every column, so these tables get column-level
-- grants instead: a column added to them later is readable through the Data API only once it is
-- granted (tests/database/column-privileges.test.ts lists what is withheld and fails on a column
-- that is neither granted nor withheld). Reading a row with `*` as an API role no longer works on
-- these tables; name the columns. The service role keeps every column, so the functions' own
-- reads of configuration (the reply context, n8n relay, tool calls) are unchanged.

-- Grants SELECT on every column of p_table except p_withheld to anon and authenticated.
create or replace function private.grant_select_except(p_table regclass, p_withheld text[])
returns void
language plpgsql
set search_path = ''
as $$
declare
  readable text;
begin
  select string_agg(format('%I', a.attname), ', ' order by a.attnum) into readable
    from pg_catalog.pg_attribute a
   where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
     and a.attname <> all (p_withheld);
  execute format('revoke select on %s from anon, authenticated', p_table);
  execute format('revoke select (%s) on %s from anon, authenticated',
    (select string_agg(format('%I', w), ', ') from unnest(p_withheld) as w), p_table);
  execute format('grant select (%s) on %s to anon, authenticated', readable, p_table);
end;
$$;

comment on function private.grant_select_except(regclass, text[]) is
  'Makes every column of a table but the withheld ones readable by anon and authenticated (row policies still apply). Run again after adding a column to such a table.';

select private.grant_select_except('public.tenants', array['llm_config', 'n8n_webhook_url']);
select private.grant_select_except('public.tool_executions', array['response', 'error']);
select private.grant_select_except('public.messages',
  array['tokens_in', 'tokens_out', 'cost_usd', 'model']);

-- The views run with their owner's rights (not the caller's) so that they can show the withheld
-- columns; their WHERE clause is therefore the whole access check, and security_barrier keeps a
-- caller's own filter functions from seeing rows before it has run.

create view public.tenant_connections with (security_barrier) as
  select t.id as tenant_id, t.bot_engine, t.llm_config, t.n8n_webhook_url
    from public.tenants t
   where private.has_tenant_role(t.id, array['owner', 'admin'])
      or (select private.is_platform_admin());

comment on view public.tenant_connections is
  'How a tenant''s bot reaches its LLM and n8n, for the tenant''s owners and admins and platform admins (agents do not see tool configuration). Written through public.tenants.';
comment on column public.tenant_connections.tenant_id is 'The tenant.';
comment on column public.tenant_connections.bot_engine is 'ai or n8n: which of the two answers.';
comment on column public.tenant_connections.llm_config is
  'tenants.llm_config: provider, model, base_url, temperature (the API key is in tenant_secrets).';
comment on column public.tenant_connections.n8n_webhook_url is
  'tenants.n8n_webhook_url: where the n8n engine relays conversations.';

create view public.tool_execution_results with (security_barrier) as
  select e.id, e.tenant_id, e.conversation_id, e.tool_name, e.response, e.error, e.created_at
    from public.tool_executions e
   where private.has_tenant_role(e.tenant_id, array['owner', 'admin'])
      or (select private.is_platform_admin());

comment on view public.tool_execution_results is
  'What each tool call answered or why it failed, for the tenant''s owners and admins and platform admins; members see the rest of tool_executions.';
comment on column public.tool_execution_results.id is 'The tool execution (tool_executions.id).';
comment on column public.tool_execution_results.tenant_id is 'The tenant whose tool was called.';
comment on column public.tool_execution_results.conversation_id is
  'The conversation the call was made for, if any.';
comment on column public.tool_execution_results.tool_name is 'The tool''s name as the model called it.';
comment on column public.tool_execution_results.response is 'The tool''s JSON answer.';
comment on column public.tool_execution_results.error is 'Why the call failed, when it did.';
comment on column public.tool_execution_results.created_at is 'When the call was made.';

create view public.message_usage with (security_barrier) as
  select m.id as message_id, m.tenant_id, m.conversation_id, m.role, m.tokens_in, m.tokens_out,
         m.cost_usd, m.model, m.created_at
    from public.messages m
   where private.has_tenant_role(m.tenant_id, array['owner', 'admin'])
      or (select private.is_platform_admin());

comment on view public.message_usage is
  'Tokens, cost and model of each message, for the tenant''s owners and admins and platform admins; never for visitors.';
comment on column public.message_usage.message_id is 'The message (messages.id).';
comment on column public.message_usage.tenant_id is 'The message''s tenant.';
comment on column public.message_usage.conversation_id is 'The message''s conversation.';
comment on column public.message_usage.role is 'Who wrote the message: user, assistant, agent or system.';
comment on column public.message_usage.tokens_in is 'Prompt tokens spent on this reply.';
comment on column public.message_usage.tokens_out is 'Completion tokens spent on this reply.';
comment on column public.message_usage.cost_usd is 'What the reply cost, in US dollars.';
comment on column public.message_usage.model is 'The model that wrote the reply.';
comment on column public.message_usage.created_at is 'When the message was stored.';

revoke all on public.tenant_connections, public.tool_execution_results, public.message_usage
  from anon, authenticated;
grant select on public.tenant_connections, public.tool_execution_results, public.message_usage
  to authenticated, service_role;
