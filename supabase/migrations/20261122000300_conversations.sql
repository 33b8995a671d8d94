-- Visitors, conversations and messages.

create table public.contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- The tenant's own id for this person, as verified through identityHash.
  identifier text not null check (length(identifier) between 1 and 255),
  name text,
  email text,
  attributes jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_seen_at timestamptz,
  unique (tenant_id, identifier),
  -- Target of conversations' (contact_id, tenant_id) key: a conversation's contact is its tenant's.
  unique (id, tenant_id)
);

create trigger contacts_touch before update on public.contacts
  for each row execute function private.touch_updated_at();

create table public.conversations (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  -- The anonymous Supabase user chatting; kept null once that user has been cleaned up.
  visitor_id uuid references auth.users (id) on delete set null,
  contact_id uuid,
  channel text not null default 'web' check (channel in ('web', 'whatsapp')),
  status text not null default 'bot' check (status in ('bot', 'handoff', 'open', 'resolved')),
  assignee_id uuid references auth.users (id) on delete set null,
  locale text,
  page_url text,
  identity_verified boolean not null default false,
  message_count integer not null default 0,
  unread_count integer not null default 0,
  last_message_at timestamptz,
  csat smallint check (csat between 1 and 5),
  csat_comment text check (length(csat_comment) <= 2000),
  handoff_at timestamptz,
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (contact_id, tenant_id) references public.contacts (id, tenant_id)
    on delete set null (contact_id)
);
create index conversations_tenant_recent_idx on public.conversations (tenant_id, last_message_at desc nulls last);
create index conversations_tenant_status_idx on public.conversations (tenant_id, status);
create index conversations_visitor_idx on public.conversations (visitor_id, created_at desc);
create index conversations_contact_idx on public.conversations (contact_id);

create trigger conversations_touch before update on public.conversations
  for each row execute function private.touch_updated_at();

create table public.messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  -- Denormalised so policies and retention never need a join.
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  role text not null check (role in ('user', 'assistant', 'agent', 'system')),
  content text not null default '' check (length(content) <= 20000),
  quick_replies jsonb not null default '[]'::jsonb check (jsonb_typeof(quick_replies) = 'array'),
  -- Citations the widget shows under a bot reply: [{document_id, chunk_id, title, url, score}].
  sources jsonb not null default '[]'::jsonb check (jsonb_typeof(sources) = 'array'),
  status text not null default 'sent'
    check (status in ('pending', 'streaming', 'sent', 'delivered', 'read', 'failed')),
  client_msg_id text check (length(client_msg_id) between 1 and 100),
  author_id uuid references auth.users (id) on delete set null,
  -- Staff-only notes: never shown or broadcast to the visitor.
  is_private boolean not null default false,
  feedback smallint check (feedback in (-1, 1)),
  tokens_in integer not null default 0 check (tokens_in >= 0),
  tokens_out integer not null default 0 check (tokens_out >= 0),
  cost_usd numeric(12, 6) not null default 0,
  model text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (conversation_id, client_msg_id)
);
create index messages_conversation_idx on public.messages (conversation_id, created_at, id);
create index messages_tenant_created_idx on public.messages (tenant_id, created_at);

create trigger messages_touch before update on public.messages
  for each row execute function private.touch_updated_at();

-- A message's tenant is its conversation's, whatever the client sent, and a message written
-- through the API is stamped with the server's clock (only service work may backdate, e.g. imports).
create or replace function private.message_defaults() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select tenant_id into new.tenant_id from public.conversations where id = new.conversation_id;
  if coalesce((select auth.role()), '') in ('authenticated', 'anon') then
    new.created_at := now();
    new.updated_at := now();
  end if;
  return new;
end;
$$;

create trigger messages_defaults before insert on public.messages
  for each row execute function private.message_defaults();

-- Messages stay in their conversation.
create or replace function private.forbid_message_move() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.conversation_id is distinct from old.conversation_id
     or new.tenant_id is distinct from old.tenant_id then
    raise exception 'messages cannot move to another conversation' using errcode = '42501';
  end if;
  return new;
end;
$$;

create trigger messages_stay_put before update on public.messages
  for each row execute function private.forbid_message_move();

-- A conversation is assigned only to a member of its tenant.
create or replace function private.check_conversation_assignee() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.assignee_id is not null and not exists (
    select 1 from public.tenant_members
     where tenant_id = new.tenant_id and user_id = new.assignee_id
  ) then
    raise exception 'assignee is not a member of this tenant' using errcode = '23514';
  end if;
  return new;
end;
$$;

create trigger conversations_assignee before insert or update of assignee_id on public.conversations
  for each row execute function private.check_conversation_assignee();

create trigger contacts_same_tenant before update on public.contacts
  for each row execute function private.forbid_tenant_change();
create trigger conversations_same_tenant before update on public.conversations
  for each row execute function private.forbid_tenant_change();

-- Conversation counters, maintained in the same transaction as the message.
create or replace function private.message_counters() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.conversations
     set message_count = message_count + 1,
         unread_count = case when new.role = 'user' then unread_count + 1 else unread_count end,
         -- Out-of-order inserts (imports) must not make a conversation look idle.
         last_message_at = greatest(last_message_at, new.created_at)
   where id = new.conversation_id;
  return null;
end;
$$;

create trigger messages_counters after insert on public.messages
  for each row execute function private.message_counters();

-- Is the caller the visitor of this conversation?
create or replace function private.is_conversation_visitor(p_conversation_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.conversations
     where id = p_conversation_id and visitor_id = (select auth.uid())
  )
$$;

-- May the caller post into this conversation as its visitor? Not once it is resolved.
create or replace function private.visitor_can_post(p_conversation_id uuid) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select exists (
    select 1 from public.conversations
     where id = p_conversation_id and visitor_id = (select auth.uid()) and status <> 'resolved'
  )
$$;

grant execute on function private.is_conversation_visitor(uuid), private.visitor_can_post(uuid)
  to authenticated, service_role;

alter table public.contacts enable row level security;
alter table public.conversations enable row level security;
alter table public.messages enable row level security;

-- Contacts: the tenant's staff work with them; only owners and admins erase them.
create policy contacts_select on public.contacts for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy contacts_insert on public.contacts for insert to authenticated
  with check (private.is_member(tenant_id));
create policy contacts_update on public.contacts for update to authenticated
  using (private.is_member(tenant_id)) with check (private.is_member(tenant_id));
create policy contacts_delete on public.contacts for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- Conversations: a visitor reads its own; it cannot create or edit one directly (the chat
-- function does, after checking the widget key, origin and identity). Staff work their tenant's.
create policy conversations_select on public.conversations for select to authenticated
  using (
    visitor_id = (select auth.uid())
    or private.is_member(tenant_id)
    or (select private.is_platform_admin())
  );
create policy conversations_insert on public.conversations for insert to authenticated
  with check (private.is_member(tenant_id));
create policy conversations_update on public.conversations for update to authenticated
  using (private.is_member(tenant_id)) with check (private.is_member(tenant_id));
create policy conversations_delete on public.conversations for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- Messages: a visitor reads the public messages of its conversations and writes only its own
-- user messages; staff read everything of their tenant and write as agents or private notes.
create policy messages_select on public.messages for select to authenticated
  using (
    (not is_private and private.is_conversation_visitor(conversation_id))
    or private.is_member(tenant_id)
    or (select private.is_platform_admin())
  );
create policy messages_insert_visitor on public.messages for insert to authenticated
  with check (
    role = 'user' and not is_private and author_id is null and status = 'sent'
    and tokens_in = 0 and tokens_out = 0 and cost_usd = 0 and feedback is null and model is null
    and sources = '[]'::jsonb and quick_replies = '[]'::jsonb
    and private.visitor_can_post(conversation_id)
  );
create policy messages_insert_staff on public.messages for insert to authenticated
  with check (
    role in ('agent', 'system') and author_id = (select auth.uid())
    and private.is_member(
      (select c.tenant_id from public.conversations c where c.id = conversation_id)
    )
  );
create policy messages_update on public.messages for update to authenticated
  using (private.is_member(tenant_id)) with check (private.is_member(tenant_id));
create policy messages_delete on public.messages for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- Visitor feedback goes through these two functions so that a visitor can rate without being able
-- to edit anything else. They check ownership themselves and run as the function owner.
create or replace function public.rate_message(p_message_id uuid, p_feedback smallint)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_feedback is not null and p_feedback not in (-1, 1) then
    raise exception 'feedback must be -1, 1 or null' using errcode = '22023';
  end if;
  update public.messages m
     set feedback = p_feedback
   where m.id = p_message_id
     and m.role = 'assistant'
     and private.is_conversation_visitor(m.conversation_id);
  return found;
end;
$$;

create or replace function public.rate_conversation(
  p_conversation_id uuid, p_csat smallint, p_comment text default null
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_csat is null or p_csat not between 1 and 5 then
    raise exception 'csat must be between 1 and 5' using errcode = '22023';
  end if;
  update public.conversations c
     set csat = p_csat, csat_comment = left(p_comment, 2000)
   where c.id = p_conversation_id and c.visitor_id = (select auth.uid());
  return found;
end;
$$;

revoke execute on function public.rate_message(uuid, smallint) from public, anon;
revoke execute on function public.rate_conversation(uuid, smallint, text) from public, anon;
grant execute on function public.rate_message(uuid, smallint) to authenticated, service_role;
grant execute on function public.rate_conversation(uuid, smallint, text) to authenticated, service_role;
