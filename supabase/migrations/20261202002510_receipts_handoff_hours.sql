-- Read receipts both ways, why a conversation was handed to a person, and business hours with an
-- email left for follow-up (docs/admin.md, "Read receipts", "Handoff reasons", "Business hours").

-- Read receipts ---------------------------------------------------------------------------------
--
-- One watermark each way on the conversation: the visitor sees "Seen" under its messages up to
-- staff_read_at, staff see it under theirs up to visitor_read_at. Both are set only by the server
-- from what was really read: staff_read_at when a member of the tenant opens the conversation
-- (mark_conversation_read), visitor_read_at from a message the visitor's widget says it showed,
-- checked to be a public message of that visitor's own conversation and taken at that message's
-- own time, so no client can move either mark past what exists. Nobody writes them directly.

alter table public.conversations
  add column staff_read_at timestamptz,
  add column visitor_read_at timestamptz,
  add column handoff_reason text check (handoff_reason ~ '^[a-z_]{1,40}$'),
  add column handoff_detail text check (length(handoff_detail) <= 500),
  add column followup_email text check (length(followup_email) <= 320),
  add column followup_requested_at timestamptz;

comment on column public.conversations.staff_read_at is
  'Read receipt for the visitor: the tenant''s staff have read the visitor''s messages up to this instant.';
comment on column public.conversations.visitor_read_at is
  'Read receipt for staff: the visitor has seen the public messages up to this instant.';
comment on column public.conversations.handoff_reason is
  'Why the conversation was last handed to a person: visitor, bot, keyword, low_confidence, repeated_question…';
comment on column public.conversations.handoff_detail is
  'What set the handoff off, for staff: the keyword, the confidence, the repeated question, the bot''s reason.';
comment on column public.conversations.followup_email is
  'The address the visitor left, outside business hours, for staff to follow up.';
comment on column public.conversations.followup_requested_at is
  'When the visitor, handed off outside business hours, was told when people are back and asked for an email.';

create or replace function private.guard_read_receipts() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user in ('authenticated', 'anon')
     and (new.staff_read_at is distinct from old.staff_read_at
          or new.visitor_read_at is distinct from old.visitor_read_at) then
    raise exception 'read receipts are kept by the server' using errcode = '42501';
  end if;
  return new;
end;
$$;

comment on function private.guard_read_receipts() is
  'Trigger: refuses direct writes of read receipts by API roles; only the server''s own functions set them.';

create trigger conversations_read_receipts before update of staff_read_at, visitor_read_at
  on public.conversations
  for each row execute function private.guard_read_receipts();

create or replace function private.broadcast_read() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.staff_read_at is distinct from old.staff_read_at then
    perform realtime.send(
      jsonb_build_object('conversation_id', new.id, 'by', 'agent', 'read_at', new.staff_read_at),
      'read', 'conversation:' || new.id, true);
  end if;
  if new.visitor_read_at is distinct from old.visitor_read_at then
    perform realtime.send(
      jsonb_build_object('conversation_id', new.id, 'by', 'visitor', 'read_at', new.visitor_read_at),
      'read', 'conversation:' || new.id, true);
  end if;
  return null;
end;
$$;

comment on function private.broadcast_read() is
  'Trigger: tells the conversation''s topic (visitor and staff) that a read receipt moved.';

create trigger conversations_broadcast_read after update of staff_read_at, visitor_read_at
  on public.conversations
  for each row execute function private.broadcast_read();

-- Staff opened the conversation: the visitor's messages so far are seen. Moves only when there is
-- something new to see, so reopening a read conversation says nothing twice, and only for a member
-- of the conversation's tenant (platform operators read without telling the visitor).
create or replace function private.note_staff_read(p_conversation_id uuid) returns void
language sql
security definer
set search_path = ''
as $$
  update public.conversations c set staff_read_at = now()
   where c.id = p_conversation_id
     and private.is_member(c.tenant_id)
     and exists (select 1 from public.messages m
                  where m.conversation_id = c.id and m.role = 'user'
                    and m.created_at > coalesce(c.staff_read_at, '-infinity'::timestamptz))
$$;

comment on function private.note_staff_read(uuid) is
  'Moves the staff read receipt to now when the conversation has visitor messages the staff had not seen.';

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
  perform private.note_staff_read(p_conversation_id);
  return marker;
end;
$$;

comment on function public.mark_conversation_read(uuid) is
  'Records that the caller has read the conversation up to now, and tells the visitor their messages were seen.';

-- The visitor's widget showed a message: the receipt moves to that message's time. Called by the
-- chat function for the visitor it verified; the message must be a public staff, bot or system
-- message of that visitor's own conversation. Returns the receipt, or null when refused.
create or replace function private.note_visitor_read(
  p_visitor_id uuid, p_conversation_id uuid, p_message_id uuid
) returns timestamptz
language plpgsql
security definer
set search_path = ''
as $$
declare
  seen timestamptz;
  receipt timestamptz;
begin
  select m.created_at into seen
    from public.messages m
    join public.conversations c on c.id = m.conversation_id
   where m.id = p_message_id and m.conversation_id = p_conversation_id
     and c.visitor_id = p_visitor_id and not m.is_private and m.role <> 'user';
  if seen is null then
    return null;
  end if;
  update public.conversations c
     set visitor_read_at = seen
   where c.id = p_conversation_id and (c.visitor_read_at is null or c.visitor_read_at < seen);
  select c.visitor_read_at into receipt from public.conversations c where c.id = p_conversation_id;
  return receipt;
end;
$$;

comment on function private.note_visitor_read(uuid, uuid, uuid) is
  'Moves the visitor read receipt to a public message of the visitor''s own conversation; null when the message is not one.';

-- Business hours --------------------------------------------------------------------------------

-- The analytics migration adds the tenant's time zone; routing's hours need it too.
alter table public.tenants add column if not exists time_zone text not null default 'UTC';
comment on column public.tenants.time_zone is
  'IANA time zone (e.g. Europe/Paris) of the tenant: its days, analytics ranges and business hours.';
grant select (time_zone) on public.tenants to anon, authenticated;
grant update (time_zone) on public.tenants to authenticated;

-- {"mon": [["09:00", "17:30"]], …, "sun": [], "holidays": ["2026-12-25"]}: opening intervals per
-- weekday in the tenant's time zone (a missing day is closed, "24:00" ends at midnight) and
-- whole days off.
create or replace function private.valid_business_hours(p jsonb) returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  key text;
  item jsonb;
begin
  if p is null then
    return true;
  end if;
  if jsonb_typeof(p) <> 'object' then
    return false;
  end if;
  for key in select jsonb_object_keys(p) loop
    if key = 'holidays' then
      if jsonb_typeof(p -> key) <> 'array' or jsonb_array_length(p -> key) > 400 then
        return false;
      end if;
      for item in select jsonb_array_elements(p -> key) loop
        if jsonb_typeof(item) <> 'string' or item #>> '{}' !~ '^\d{4}-\d{2}-\d{2}$' then
          return false;
        end if;
      end loop;
    elsif key in ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun') then
      if jsonb_typeof(p -> key) <> 'array' or jsonb_array_length(p -> key) > 8 then
        return false;
      end if;
      for item in select jsonb_array_elements(p -> key) loop
        if jsonb_typeof(item) <> 'array' or jsonb_array_length(item) <> 2
           or item ->> 0 !~ '^([01]\d|2[0-3]):[0-5]\d$'
           or item ->> 1 !~ '^(([01]\d|2[0-3]):[0-5]\d|24:00)$'
           or item ->> 0 >= item ->> 1 then
          return false;
        end if;
      end loop;
    else
      return false;
    end if;
  end loop;
  return true;
end;
$$;

comment on function private.valid_business_hours(jsonb) is
  'Whether a business_hours value has the documented shape: weekday intervals HH:MM to HH:MM (start before end) and holidays as dates.';

alter table public.tenants
  add column business_hours jsonb check (private.valid_business_hours(business_hours));

comment on column public.tenants.business_hours is
  'When people answer, in the tenant''s time zone: {"mon": [["09:00","17:00"]], …, "holidays": ["YYYY-MM-DD"]}; null means always.';

grant select (business_hours) on public.tenants to anon, authenticated;
grant update (business_hours) on public.tenants to authenticated;

-- p_at itself when people are there then, else when they next are (looking two weeks ahead), else
-- null. Always p_at for a tenant without business hours.
create or replace function private.next_open_at(p_tenant_id uuid, p_at timestamptz default now())
returns timestamptz
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  hours jsonb;
  zone text;
  local_day date;
  day date;
  slot jsonb;
  opens timestamptz;
  closes timestamptz;
  best timestamptz;
begin
  select t.business_hours, t.time_zone into hours, zone from public.tenants t where t.id = p_tenant_id;
  if hours is null then
    return p_at;
  end if;
  if zone is null or not exists (select 1 from pg_catalog.pg_timezone_names n where n.name = zone) then
    zone := 'UTC';
  end if;
  local_day := (p_at at time zone zone)::date;
  for offset_days in 0..14 loop
    day := local_day + offset_days;
    continue when coalesce(hours -> 'holidays', '[]'::jsonb) ? to_char(day, 'YYYY-MM-DD');
    best := null;
    for slot in
      select jsonb_array_elements(coalesce(hours -> lower(to_char(day, 'Dy')), '[]'::jsonb))
    loop
      opens := (day + (slot ->> 0)::time) at time zone zone;
      closes := case when slot ->> 1 = '24:00' then (day + 1)::timestamp at time zone zone
                     else (day + (slot ->> 1)::time) at time zone zone end;
      if p_at < closes then
        opens := greatest(opens, p_at);
        best := least(coalesce(best, opens), opens);
      end if;
    end loop;
    if best is not null then
      return best;
    end if;
  end loop;
  return null;
end;
$$;

comment on function private.next_open_at(uuid, timestamptz) is
  'When the tenant''s people are next available from p_at (p_at itself if now, null if not within two weeks), by its business hours and time zone.';

-- Follow-up email ---------------------------------------------------------------------------------

-- The visitor's address for a follow-up, for the visitor the chat function verified. Also fills in
-- the contact's email when the contact has none (never replacing a known one); staff are told with
-- an internal note. Returns false when the conversation is not that visitor's.
create or replace function private.capture_followup_email(
  p_visitor_id uuid, p_conversation_id uuid, p_email text
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  c public.conversations;
  address text := lower(btrim(coalesce(p_email, '')));
begin
  if length(address) > 320 or address !~ '^[^@\s<>",;]+@[^@\s<>",;]+\.[^@\s<>",;]+$' then
    raise exception 'not an email address' using errcode = '22023';
  end if;
  select * into c from public.conversations
   where id = p_conversation_id and visitor_id = p_visitor_id for update;
  if not found then
    return false;
  end if;
  if c.followup_email is not distinct from address then
    return true;
  end if;
  update public.conversations set followup_email = address where id = c.id;
  if c.contact_id is not null then
    update public.contacts set email = address where id = c.contact_id and email is null;
  end if;
  insert into public.messages (conversation_id, role, content, is_private)
  values (c.id, 'system', 'The visitor left an email for follow-up: ' || address, true);
  return true;
end;
$$;

comment on function private.capture_followup_email(uuid, uuid, text) is
  'Stores the email a visitor left for follow-up on its conversation (and on its contact when that has none) and notes it for staff.';

revoke execute on function
  private.guard_read_receipts(),
  private.broadcast_read(),
  private.note_visitor_read(uuid, uuid, uuid),
  private.next_open_at(uuid, timestamptz),
  private.capture_followup_email(uuid, uuid, text)
from public, anon, authenticated;
grant execute on function
  private.note_visitor_read(uuid, uuid, uuid),
  private.next_open_at(uuid, timestamptz),
  private.capture_followup_email(uuid, uuid, text)
to service_role;
-- Evaluated in the tenants check constraint, so whoever may update tenants runs it.
revoke execute on function private.valid_business_hours(jsonb) from public, anon;
grant execute on function private.valid_business_hours(jsonb) to authenticated, service_role;
-- Called by mark_conversation_read, which runs as the caller; it checks membership itself.
revoke execute on function private.note_staff_read(uuid) from public, anon;
grant execute on function private.note_staff_read(uuid) to authenticated, service_role;
