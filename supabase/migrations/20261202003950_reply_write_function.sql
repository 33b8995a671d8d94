-- The reply's write (the reply, what grounded it, the day's usage, the cached answer and the job's
-- completion) as a function, so its plan is kept for the session. Sent as a statement of its own it
-- was parsed, analysed and planned anew for every reply, on the local database (unnamed
-- statements) and on a hosted project alike (the transaction pooler is used without prepared
-- statements). The statement is the one the reply path sent: the same row lock on the
-- conversation, the same takeover check, the same conflict rules, all or nothing. It runs with the
-- caller's rights: the service role calls it, nobody else.

create or replace function private.store_reply(
  p_conversation_id uuid,
  p_content text,
  p_quick_replies jsonb,
  p_sources jsonb,
  p_tokens_in integer,
  p_tokens_out integer,
  p_cost_usd numeric,
  p_model text,
  p_in_reply_to uuid,
  p_tenant_id uuid,
  p_question text,
  p_chunks jsonb,
  p_tool_calls jsonb,
  p_engine text,
  p_provider text,
  p_fallback_reason text,
  p_rounds integer,
  p_latency_ms integer,
  p_rich jsonb,
  p_cache_hash text,
  p_cache_grounding jsonb,
  p_job_id bigint,
  p_worker text,
  p_job_result jsonb
)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id uuid;
  v_completed boolean;
begin
  with bot as (
    select c.id from public.conversations c
     where c.id = p_conversation_id and c.status = 'bot' for update
  ), reply as (
    insert into public.messages
        (conversation_id, role, content, quick_replies, sources, tokens_in, tokens_out, cost_usd, model, in_reply_to, rich)
      select bot.id, 'assistant', p_content, p_quick_replies, p_sources, p_tokens_in, p_tokens_out,
             p_cost_usd, p_model, p_in_reply_to, p_rich
        from bot
      on conflict (in_reply_to) where in_reply_to is not null and role = 'assistant' do nothing
      returning id
  ), grounding as (
    insert into public.reply_groundings
        (message_id, tenant_id, conversation_id, question, retrieval_query, chunks, tool_calls, engine,
         provider, model, fallback_reason, rounds, latency_ms)
    select reply.id, p_tenant_id, p_conversation_id, p_question, p_question, p_chunks, p_tool_calls,
           p_engine, p_provider, p_model, p_fallback_reason, p_rounds, p_latency_ms
      from reply
  ), usage as (
    -- The day's row gains this reply; the daily roll-up recounts every column from the rows.
    insert into public.usage_daily as u (tenant_id, day, bot_messages, tokens_in, tokens_out, cost_usd)
    select p_tenant_id, (now() at time zone 'utc')::date, 1, p_tokens_in, p_tokens_out, p_cost_usd
      from reply
    on conflict (tenant_id, day) do update
       set bot_messages = u.bot_messages + 1, tokens_in = u.tokens_in + excluded.tokens_in,
           tokens_out = u.tokens_out + excluded.tokens_out, cost_usd = u.cost_usd + excluded.cost_usd,
           updated_at = now()
  ), cached as (
    -- A question asked again replaces its cached answer and starts its five minutes anew.
    insert into public.answer_cache as a (tenant_id, question_hash, reply, sources, quick_replies, grounding)
    select p_tenant_id, p_cache_hash, p_content, p_sources, p_quick_replies, p_cache_grounding
      from reply where p_cache_hash is not null
    on conflict (tenant_id, question_hash) do update
       set reply = excluded.reply, sources = excluded.sources, quick_replies = excluded.quick_replies,
           grounding = excluded.grounding, created_at = now()
  )
  select (select reply.id from reply),
         case when p_job_id is not null
              then private.complete_job(p_job_id, p_worker,
                     p_job_result || jsonb_build_object('reply_id', (select reply.id from reply)))
         end
    into v_id, v_completed;
  return v_id;
end;
$$;

revoke all on function private.store_reply(uuid, text, jsonb, jsonb, integer, integer, numeric, text, uuid, uuid, text, jsonb, jsonb, text, text, text, integer, integer, jsonb, text, jsonb, bigint, text, jsonb) from public, anon, authenticated;
grant execute on function private.store_reply(uuid, text, jsonb, jsonb, integer, integer, numeric, text, uuid, uuid, text, jsonb, jsonb, text, text, text, integer, integer, jsonb, text, jsonb, bigint, text, jsonb) to service_role;

comment on function private.store_reply(uuid, text, jsonb, jsonb, integer, integer, numeric, text, uuid, uuid, text, jsonb, jsonb, text, text, text, integer, integer, jsonb, text, jsonb, bigint, text, jsonb) is
  'Stores a bot reply with its grounding, the day''s usage, the cached answer (when p_cache_hash is set) and the job''s completion (when p_job_id is set), only while the conversation is the bot''s (row locked) and the message has no reply yet; returns the reply''s id or null; for the service role.';
