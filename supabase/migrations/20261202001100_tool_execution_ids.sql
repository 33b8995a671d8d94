-- n8n's own id for the run that answered a tool call or relay, so a call in Parley's tool log can
-- be opened in n8n's execution list. n8n names it in the X-N8N-Execution-Id response header or an
-- `executionId` field of its JSON answer (docs/n8n.md); other receivers leave it null.

alter table public.tool_executions add column n8n_execution_id text
  constraint tool_executions_n8n_execution_id_length check (char_length(n8n_execution_id) <= 100);

comment on column public.tool_executions.n8n_execution_id is
  'The receiving n8n''s execution id for this call (X-N8N-Execution-Id header or executionId in the answer), when it named one.';
comment on constraint tool_executions_n8n_execution_id_length on public.tool_executions is
  'An id, not a document: longer values are not stored (Parley reads at most 100 characters).';

-- Column-level grants on this table (20261202000900_column_privileges.sql): a new column is
-- readable through the Data API only once granted. Every member may see it, like the rest of the
-- call's metadata; what the tool answered stays withheld.
select private.grant_select_except('public.tool_executions', array['response', 'error']);
