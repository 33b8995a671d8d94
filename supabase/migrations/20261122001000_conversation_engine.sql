-- The conversation engine's state: rate limits, the retrieval audit trail, the answer cache,
-- the reply queue hook, and the plan-quota hook.

-- A bot reply names the visitor message it answers: at most one reply per message, even when a
-- reply job is retried after a crash between the LLM call and its commit.
alter table public.messages
  add column in_reply_to uuid references public.messages (id) on delete set null;
create unique index messages_one_reply_idx on public.messages (in_reply_to)
  where in_reply_to is not null and role = 'assistant';

-- Rate limits -------------------------------------------------------------------------------------
-- Fixed windows counted in Postgres, so every function instance shares them.
create table public.rate_limits (
  key text not null,
  window_start timestamptz not null,
  hits integer not null default 0,
  primary key (key, window_start)
);
alter table public.rate_limits enable row level security;
-- No policies: only the service counts.

-- Counts one hit for p_key in the current window; true while the window's hits stay within
-- p_limit. One statement, so concurrent callers are counted exactly.
create or replace function private.rate_limit_hit(
  p_key text, p_limit integer, p_window_seconds integer
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  current_window timestamptz := to_timestamp(
    floor(extract(epoch from now()) / p_window_seconds) * p_window_seconds);
  total integer;
begin
  insert into public.rate_limits as r (key, window_start, hits)
  values (p_key, current_window, 1)
  on conflict on constraint rate_limits_pkey do update set hits = r.hits + 1
  returning r.hits into total;
  return total <= p_limit;
end;
$$;

-- Retrieval audit trail ---------------------------------------------------------------------------
-- What grounded each bot reply: the question, the passages retrieved with their scores, the tools
-- called, the model. Tenants query it to see why the bot said what it said.
create table public.reply_groundings (
  message_id uuid primary key references public.messages (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  question text not null,
  retrieval_query text,
  -- [{chunk_id, document_id, title, score, full_text_rank, semantic_rank, similarity}]
  chunks jsonb not null default '[]'::jsonb,
  -- [{name, call_id, execution_id, success}]
  tool_calls jsonb not null default '[]'::jsonb,
  engine text not null check (engine in ('ai', 'n8n', 'retrieval', 'cache')),
  provider text,
  model text,
  -- Why the answer came from retrieval alone: 'no_llm', 'llm_failed', ...
  fallback_reason text,
  rounds integer not null default 0,
  latency_ms integer,
  created_at timestamptz not null default now()
);
create index reply_groundings_tenant_idx on public.reply_groundings (tenant_id, created_at desc);
create index reply_groundings_conversation_idx on public.reply_groundings (conversation_id);

alter table public.reply_groundings enable row level security;
create policy reply_groundings_select on public.reply_groundings for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));

create trigger reply_groundings_same_tenant before update on public.reply_groundings
  for each row execute function private.forbid_tenant_change();

-- Answer cache -------------------------------------------------------------------------------------
-- The same question to the same tenant within five minutes gets the same answer without another
-- LLM call. Only answers that used no tool are cached: a tool's answer is about one customer.
create table public.answer_cache (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  question_hash text not null,
  reply text not null,
  sources jsonb not null default '[]'::jsonb,
  quick_replies jsonb not null default '[]'::jsonb,
  grounding jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  primary key (tenant_id, question_hash)
);
alter table public.answer_cache enable row level security;
-- No policies: the service reads and writes it.

-- The reply queue hook ------------------------------------------------------------------------------
-- Every visitor message in a conversation the bot is handling gets exactly one reply job, in the
-- same transaction as the message: whichever path stored it, nothing accepted is left unanswered.
-- Replies of one conversation share an ordering key, so they are worked in order, one at a time.
create or replace function private.enqueue_reply() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.role = 'user' and exists (
    select 1 from public.conversations where id = new.conversation_id and status = 'bot'
  ) then
    perform private.enqueue_job(
      'reply',
      jsonb_build_object('message_id', new.id, 'conversation_id', new.conversation_id),
      new.tenant_id,
      now(),
      'conversation:' || new.conversation_id,
      5,
      'reply:' || new.id
    );
  end if;
  return null;
end;
$$;

create trigger messages_enqueue_reply after insert on public.messages
  for each row execute function private.enqueue_reply();

-- Plan quota hook ----------------------------------------------------------------------------------
-- Null while the tenant may take another visitor message this month, else the reason. Billing
-- decides the plan; this only reads its limits.
create or replace function private.quota_exceeded(p_tenant_id uuid) returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  month_start timestamptz := date_trunc('month', now() at time zone 'utc') at time zone 'utc';
  tenant_status text;
  message_limit integer;
  used bigint;
begin
  select t.status, (p.limits ->> 'messages_per_month')::integer
    into tenant_status, message_limit
    from public.tenants t left join public.plans p on p.id = t.plan_id
   where t.id = p_tenant_id;
  if tenant_status is null then
    return 'unknown_tenant';
  elsif tenant_status <> 'active' then
    return 'tenant_suspended';
  elsif message_limit is null then
    return null;
  end if;
  select count(*) into used from public.messages
   where tenant_id = p_tenant_id and role = 'user' and created_at >= month_start;
  if used >= message_limit then
    return 'messages_per_month';
  end if;
  return null;
end;
$$;

-- Housekeeping for the tables above: old rate-limit windows and expired cache entries.
create or replace function private.prune_engine_state() returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
  windows bigint;
  cached bigint;
begin
  delete from public.rate_limits where window_start < now() - interval '1 day';
  get diagnostics windows = row_count;
  delete from public.answer_cache where created_at < now() - interval '5 minutes';
  get diagnostics cached = row_count;
  return jsonb_build_object('rate_limits', windows, 'answer_cache', cached);
end;
$$;

grant execute on function
  private.rate_limit_hit(text, integer, integer),
  private.quota_exceeded(uuid),
  private.prune_engine_state()
to service_role;

select cron.schedule('parley-engine-housekeeping', '*/15 * * * *', 'select private.prune_engine_state()');
