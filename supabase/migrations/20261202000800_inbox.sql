-- The staff inbox: per-person read markers, search over conversations and their messages, and the
-- actions that work a conversation (reply, note, assign, take over, hand back, resolve, reopen).
--
-- The actions are SQL functions that run as the caller (security invoker): RLS decides which
-- conversations a person may touch, exactly as for a plain update through the Data API, and the
-- rules that go with each action (who is assigned, which status follows) live here once instead
-- of in every client. Every change they make is broadcast by the existing triggers on
-- conversations and messages (supabase/migrations/*_realtime.sql); no client sends on those topics.

-- Read markers ----------------------------------------------------------------------------------

create table public.conversation_reads (
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  last_read_at timestamptz not null default now(),
  primary key (conversation_id, user_id)
);
create index conversation_reads_user_idx on public.conversation_reads (user_id, tenant_id);

comment on table public.conversation_reads is
  'How far each staff member has read each conversation: the inbox counts visitor messages after last_read_at as unread for that person.';
comment on column public.conversation_reads.conversation_id is 'The conversation read.';
comment on column public.conversation_reads.user_id is 'The staff member who read it.';
comment on column public.conversation_reads.tenant_id is
  'The conversation''s tenant, copied from it on every write so policies need no join.';
comment on column public.conversation_reads.last_read_at is
  'Messages created after this instant are unread for this person.';

-- The tenant is the conversation's, whatever the client sent.
create or replace function private.conversation_read_defaults() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select tenant_id into new.tenant_id from public.conversations where id = new.conversation_id;
  return new;
end;
$$;

create trigger conversation_reads_defaults before insert or update on public.conversation_reads
  for each row execute function private.conversation_read_defaults();
create trigger conversation_reads_same_tenant before update on public.conversation_reads
  for each row execute function private.forbid_tenant_change();

alter table public.conversation_reads enable row level security;

-- A marker is its owner's alone, and only while that person is on the conversation's tenant.
create policy conversation_reads_select on public.conversation_reads for select to authenticated
  using (
    (user_id = (select auth.uid()) and private.is_member(tenant_id))
    or (select private.is_platform_admin())
  );
create policy conversation_reads_insert on public.conversation_reads for insert to authenticated
  with check (user_id = (select auth.uid()) and private.is_member(tenant_id));
create policy conversation_reads_update on public.conversation_reads for update to authenticated
  using (user_id = (select auth.uid()) and private.is_member(tenant_id))
  with check (user_id = (select auth.uid()) and private.is_member(tenant_id));
create policy conversation_reads_delete on public.conversation_reads for delete to authenticated
  using (user_id = (select auth.uid()) and private.is_member(tenant_id));

-- Search ----------------------------------------------------------------------------------------

-- The 'simple' configuration: visitors write in any language, and a word must be found as typed
-- rather than through one language's stemmer.
create index messages_search_idx on public.messages
  using gin (to_tsvector('simple'::regconfig, content));
-- The inbox sorts by last activity; a conversation without messages yet counts from its creation.
create index conversations_tenant_activity_idx on public.conversations
  (tenant_id, (coalesce(last_message_at, created_at)) desc, id desc);

-- One page of a tenant's inbox, newest activity first, as the caller may see it (RLS applies:
-- another tenant's staff, visitors and anon get no rows).
--   p_filter: all | waiting (status handoff) | mine | unassigned | bot | open | resolved
--   p_query: words to find in the conversation's messages (notes included), or the contact's
--            name, email or identifier
--   p_before_at / p_before_id: the last row of the previous page (keyset pagination)
--   p_conversation_id: just this conversation, e.g. to refresh one row after an inbox event
create or replace function public.search_conversations(
  p_tenant_id uuid,
  p_query text default null,
  p_filter text default 'all',
  p_channel text default null,
  p_limit integer default 50,
  p_before_at timestamptz default null,
  p_before_id uuid default null,
  p_conversation_id uuid default null
) returns table (
  id uuid,
  tenant_id uuid,
  status text,
  channel text,
  assignee_id uuid,
  contact_id uuid,
  contact_name text,
  contact_email text,
  identity_verified boolean,
  locale text,
  page_url text,
  message_count integer,
  unread integer,
  activity_at timestamptz,
  created_at timestamptz,
  handoff_at timestamptz,
  resolved_at timestamptz,
  last_message text,
  last_message_role text,
  last_message_private boolean,
  matched text
)
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  words text := nullif(btrim(coalesce(p_query, '')), '');
  tsq tsquery;
  pattern text;
begin
  if p_filter is not null
     and p_filter not in ('all', 'waiting', 'mine', 'unassigned', 'bot', 'open', 'resolved') then
    raise exception 'unknown filter %', p_filter using errcode = '22023';
  end if;
  if words is not null then
    tsq := websearch_to_tsquery('simple'::regconfig, left(words, 200));
    pattern := '%' || replace(replace(replace(left(words, 200), '\', '\\'), '%', '\%'), '_', '\_') || '%';
  end if;

  return query
  select
    c.id, c.tenant_id, c.status, c.channel, c.assignee_id, c.contact_id,
    ct.name, ct.email, c.identity_verified, c.locale, c.page_url, c.message_count,
    (select count(*)::integer from (
       select 1 from public.messages m
        where m.conversation_id = c.id and m.role = 'user'
          and m.created_at > coalesce(r.last_read_at, '-infinity'::timestamptz)
        limit 100) unread_messages),
    coalesce(c.last_message_at, c.created_at),
    c.created_at, c.handoff_at, c.resolved_at,
    left(lm.content, 200), lm.role, lm.is_private,
    left(hit.content, 200)
  from public.conversations c
  left join public.contacts ct on ct.id = c.contact_id
  left join public.conversation_reads r
    on r.conversation_id = c.id and r.user_id = (select auth.uid())
  left join lateral (
    select m.content, m.role, m.is_private from public.messages m
     where m.conversation_id = c.id
     order by m.created_at desc, m.id desc
     limit 1
  ) lm on true
  left join lateral (
    select m.content from public.messages m
     where tsq is not null and m.conversation_id = c.id
       and to_tsvector('simple'::regconfig, m.content) @@ tsq
     order by m.created_at desc, m.id desc
     limit 1
  ) hit on true
  where c.tenant_id = p_tenant_id
    -- Visitors may read their own conversations, but the inbox is for staff.
    and (private.is_member(p_tenant_id) or (select private.is_platform_admin()))
    and (p_conversation_id is null or c.id = p_conversation_id)
    and (p_channel is null or c.channel = p_channel)
    and case coalesce(p_filter, 'all')
          when 'waiting' then c.status = 'handoff'
          when 'mine' then c.assignee_id = (select auth.uid()) and c.status <> 'resolved'
          when 'unassigned' then c.assignee_id is null and c.status in ('handoff', 'open')
          when 'bot' then c.status = 'bot'
          when 'open' then c.status = 'open'
          when 'resolved' then c.status = 'resolved'
          else true
        end
    and (
      words is null
      or c.id in (
        select m.conversation_id from public.messages m
         where m.tenant_id = p_tenant_id
           and to_tsvector('simple'::regconfig, m.content) @@ tsq
      )
      or ct.name ilike pattern or ct.email ilike pattern or ct.identifier ilike pattern
    )
    and (
      p_before_at is null
      or (coalesce(c.last_message_at, c.created_at), c.id)
         < (p_before_at, coalesce(p_before_id, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid))
    )
  order by coalesce(c.last_message_at, c.created_at) desc, c.id desc
  limit least(greatest(coalesce(p_limit, 50), 1), 200);
end;
$$;

comment on function public.search_conversations(uuid, text, text, text, integer, timestamptz, uuid, uuid) is
  'A page of a tenant''s inbox under the caller''s RLS: filters, channel, full-text search over messages, per-person unread counts.';

-- Working a conversation ------------------------------------------------------------------------

-- The conversation, locked for the action about to change it, if the caller works its tenant.
-- Locking with FOR UPDATE also needs the UPDATE policy, so visitors never get this far.
create or replace function private.staff_conversation(p_conversation_id uuid)
returns public.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations;
begin
  select * into c from public.conversations where id = p_conversation_id for update;
  if not found or not private.is_member(c.tenant_id) then
    raise exception 'only the tenant''s staff can work this conversation' using errcode = '42501';
  end if;
  return c;
end;
$$;

comment on function private.staff_conversation(uuid) is
  'Locks a conversation for a staff action; raises 42501 unless the caller is a member of its tenant.';

-- A person takes the conversation from the bot (or from the queue): it is theirs and open. A reply
-- the bot was still drafting is not posted (the reply writer re-checks the status under this lock).
create or replace function public.take_over_conversation(p_conversation_id uuid)
returns public.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
begin
  update public.conversations
     set status = 'open', assignee_id = (select auth.uid())
   where id = c.id
  returning * into c;
  return c;
end;
$$;

-- Assignment by hand, or unassignment with null. Someone assigned to a conversation waiting for a
-- person is on it, so it is no longer waiting; a conversation the bot is handling stays the bot's.
create or replace function public.assign_conversation(p_conversation_id uuid, p_assignee_id uuid)
returns public.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
begin
  update public.conversations
     set assignee_id = p_assignee_id,
         status = case when p_assignee_id is not null and status = 'handoff' then 'open' else status end
   where id = c.id
  returning * into c;
  return c;
end;
$$;

create or replace function public.hand_back_to_bot(p_conversation_id uuid)
returns public.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
begin
  update public.conversations set status = 'bot', assignee_id = null where id = c.id
  returning * into c;
  return c;
end;
$$;

create or replace function public.resolve_conversation(p_conversation_id uuid)
returns public.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
begin
  update public.conversations set status = 'resolved' where id = c.id
  returning * into c;
  return c;
end;
$$;

-- Staff reopen a resolved conversation as theirs unless someone already has it.
create or replace function public.reopen_conversation(p_conversation_id uuid)
returns public.conversations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
begin
  if c.status <> 'resolved' then
    return c;
  end if;
  update public.conversations
     set status = 'open', assignee_id = coalesce(assignee_id, (select auth.uid()))
   where id = c.id
  returning * into c;
  return c;
end;
$$;

-- An agent's reply (shown to the visitor) or internal note (staff only: is_private keeps it off the
-- visitor's reads and off the conversation's topic). A person answering the visitor is working the
-- conversation, so a public reply takes it over from the bot or the queue, and reopens it.
-- Idempotent on p_client_msg_id, like the visitor's messages.
create or replace function public.post_agent_message(
  p_conversation_id uuid,
  p_content text,
  p_private boolean default false,
  p_client_msg_id text default null
) returns public.messages
language plpgsql
security invoker
set search_path = ''
as $$
declare
  c public.conversations := private.staff_conversation(p_conversation_id);
  body text := btrim(coalesce(p_content, ''));
  m public.messages;
begin
  if body = '' or length(body) > 20000 then
    raise exception 'a message has 1 to 20000 characters' using errcode = '22023';
  end if;
  if p_client_msg_id is not null then
    select * into m from public.messages
     where conversation_id = c.id and client_msg_id = p_client_msg_id;
    if found then
      return m;
    end if;
  end if;
  if not coalesce(p_private, false) and (c.status <> 'open' or c.assignee_id is null) then
    update public.conversations
       set status = 'open', assignee_id = coalesce(assignee_id, (select auth.uid()))
     where id = c.id;
  end if;
  insert into public.messages (conversation_id, role, content, is_private, author_id, client_msg_id)
  values (c.id, 'agent', body, coalesce(p_private, false), (select auth.uid()), p_client_msg_id)
  returning * into m;
  return m;
end;
$$;

-- Marks the conversation read up to now for the caller; returns the marker.
create or replace function public.mark_conversation_read(p_conversation_id uuid)
returns timestamptz
language plpgsql
security invoker
set search_path = ''
as $$
declare
  tenant uuid;
  marker timestamptz;
begin
  select c.tenant_id into tenant from public.conversations c where c.id = p_conversation_id;
  if tenant is null or not private.is_member(tenant) then
    raise exception 'only the tenant''s staff keep read markers' using errcode = '42501';
  end if;
  insert into public.conversation_reads as r (conversation_id, user_id, last_read_at)
  values (p_conversation_id, (select auth.uid()), now())
  on conflict (conversation_id, user_id)
    do update set last_read_at = greatest(r.last_read_at, excluded.last_read_at)
  returning r.last_read_at into marker;
  return marker;
end;
$$;

comment on function public.take_over_conversation(uuid) is
  'A staff member takes the conversation: status open, assigned to the caller; the bot stops answering.';
comment on function public.assign_conversation(uuid, uuid) is
  'Assigns the conversation to a member of its tenant (null unassigns); a waiting conversation becomes open.';
comment on function public.hand_back_to_bot(uuid) is
  'Gives the conversation back to the bot: status bot, nobody assigned.';
comment on function public.resolve_conversation(uuid) is 'Resolves the conversation.';
comment on function public.reopen_conversation(uuid) is
  'Reopens a resolved conversation, assigned to the caller unless someone already has it.';
comment on function public.post_agent_message(uuid, text, boolean, text) is
  'Posts a staff reply (visible to the visitor, and taking the conversation over) or an internal note (p_private).';
comment on function public.mark_conversation_read(uuid) is
  'Records that the caller has read the conversation up to now.';

revoke execute on function
  public.search_conversations(uuid, text, text, text, integer, timestamptz, uuid, uuid),
  public.take_over_conversation(uuid),
  public.assign_conversation(uuid, uuid),
  public.hand_back_to_bot(uuid),
  public.resolve_conversation(uuid),
  public.reopen_conversation(uuid),
  public.post_agent_message(uuid, text, boolean, text),
  public.mark_conversation_read(uuid)
from public, anon;
grant execute on function
  public.search_conversations(uuid, text, text, text, integer, timestamptz, uuid, uuid),
  public.take_over_conversation(uuid),
  public.assign_conversation(uuid, uuid),
  public.hand_back_to_bot(uuid),
  public.resolve_conversation(uuid),
  public.reopen_conversation(uuid),
  public.post_agent_message(uuid, text, boolean, text),
  public.mark_conversation_read(uuid)
to authenticated, service_role;
grant execute on function private.staff_conversation(uuid) to authenticated, service_role;

-- Reopen on a new visitor message ---------------------------------------------------------------

-- A visitor writing into a resolved conversation reopens it for a person: its assignee if it still
-- has one, else the queue. Runs before the insert, so the reply hook after it sees the new status
-- and the bot does not answer a conversation staff closed.
create or replace function private.reopen_on_visitor_message() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.role = 'user' then
    update public.conversations
       set status = case when assignee_id is null then 'handoff' else 'open' end
     where id = new.conversation_id and status = 'resolved';
  end if;
  return new;
end;
$$;

create trigger messages_reopen before insert on public.messages
  for each row execute function private.reopen_on_visitor_message();

comment on function private.reopen_on_visitor_message() is
  'Reopens a resolved conversation when its visitor writes again.';

-- A resolved conversation takes its visitor's next message (which reopens it).
create or replace function private.visitor_can_post(p_conversation_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.conversations
     where id = p_conversation_id and visitor_id = (select auth.uid())
  )
$$;
