-- The reply job's remaining statements as functions, so their plans are kept for the session:
-- the runner's claim (the next due job, or the seconds until the earliest lease in scope runs
-- out), the cached answer's read, and the quota reservation with the typing indicator. Sent as
-- statements of their own they were parsed, analysed and planned anew at every call, on the local
-- database (unnamed statements) and on a hosted project alike (the transaction pooler is used
-- without prepared statements). Each body is the statement the reply path sent: same locks, same
-- rows, same answers. They run with the caller's rights: the service role calls them.

create or replace function private.claim_next_job(
  p_worker text,
  p_lease interval,
  p_kinds text[],
  p_ordering_key text
)
returns table (job jsonb, seconds double precision)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query
  with claimed as (
    select j.id, j.tenant_id, j.kind, j.payload, j.attempts, j.max_attempts, j.ordering_key
      from private.claim_jobs(p_worker, 1, p_lease, p_kinds, p_ordering_key) j
  )
  select (select to_jsonb(claimed) from claimed),
         case when not exists (select 1 from claimed)
              then extract(epoch from private.next_lease_expiry(p_kinds, p_ordering_key) - now())::float8
         end;
end;
$$;

revoke all on function private.claim_next_job(text, interval, text[], text) from public, anon, authenticated;
grant execute on function private.claim_next_job(text, interval, text[], text) to service_role;

comment on function private.claim_next_job(text, interval, text[], text) is
  'Claims the next due job in scope for p_worker (as private.claim_jobs with a limit of one) and returns it as JSON; with none due, the seconds until the earliest lease in scope runs out (null when none is held); for the service role.';

create or replace function private.cached_answer(p_tenant_id uuid, p_question_hash text)
returns table (reply text, sources jsonb, quick_replies jsonb, grounding jsonb)
language plpgsql
stable
set search_path = ''
as $$
begin
  return query
  select a.reply, a.sources, a.quick_replies, a.grounding
    from public.answer_cache a
   where a.tenant_id = p_tenant_id and a.question_hash = p_question_hash
     and a.created_at > now() - interval '5 minutes';
end;
$$;

revoke all on function private.cached_answer(uuid, text) from public, anon, authenticated;
grant execute on function private.cached_answer(uuid, text) to service_role;

comment on function private.cached_answer(uuid, text) is
  'The tenant''s answer to the question with this hash, when it was stored in the last five minutes; for the service role.';

create or replace function private.reserve_reply_and_type(
  p_tenant_id uuid,
  p_conversation_id uuid,
  p_message_id uuid,
  p_typing jsonb
)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_refusal text;
  v_typing boolean;
begin
  -- realtime.send never raises, so a lost indicator never fails the reply.
  with quota as (
    select private.reserve_bot_reply(p_tenant_id, p_conversation_id, p_message_id) as refusal
  )
  select q.refusal,
         case when q.refusal is null
              then (select true from realtime.send(p_typing, 'typing', 'conversation:' || p_conversation_id, true))
         end
    into v_refusal, v_typing
    from quota q;
  return v_refusal;
end;
$$;

revoke all on function private.reserve_reply_and_type(uuid, uuid, uuid, jsonb) from public, anon, authenticated;
grant execute on function private.reserve_reply_and_type(uuid, uuid, uuid, jsonb) to service_role;

comment on function private.reserve_reply_and_type(uuid, uuid, uuid, jsonb) is
  'Reserves one unit of the plan''s quota for the bot''s reply to p_message_id (private.reserve_bot_reply) and, when granted, broadcasts p_typing as the conversation''s typing event; returns the refusal or null; for the service role.';
