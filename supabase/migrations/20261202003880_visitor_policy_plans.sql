-- The row policies a visitor's message goes through (may this visitor read the conversation, may
-- they post to it) ask two SQL functions that set search_path; Postgres cannot inline those and
-- planned them again in every statement that used them, a visitor's message insert included. As
-- PL/pgSQL their plans are kept for the session. Same answers.

create or replace function private.is_conversation_visitor(p_conversation_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.conversations
     where id = p_conversation_id and visitor_id = (select auth.uid())
  );
end;
$$;

create or replace function private.visitor_can_post(p_conversation_id uuid) returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.conversations
     where id = p_conversation_id and visitor_id = (select auth.uid())
  );
end;
$$;
