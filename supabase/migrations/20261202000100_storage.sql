-- Parley's Storage buckets and who may use them. The storage schema itself comes with Supabase;
-- these policies on storage.objects decide every upload, download, listing, move and removal.
--
--   knowledge    <tenant_id>/…                    owners and admins write, members read
--   attachments  <tenant_id>/<conversation_id>/…  the conversation's visitor writes while the
--                                                 conversation is open and reads it; members read
--
-- Platform operators read both, as they read every tenant's rows. Nobody else, anon included,
-- sees anything: a bucket without a matching policy is closed.

insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values
  ('knowledge', 'knowledge', false, 10485760,
   array['text/plain', 'text/markdown', 'text/html', 'text/csv', 'application/json',
         'application/pdf']),
  ('attachments', 'attachments', false, 5242880,
   array['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain'])
on conflict (id) do update
  set public = excluded.public,
      file_size_limit = excluded.file_size_limit,
      allowed_mime_types = excluded.allowed_mime_types;

-- The uuid in the given segment of an object name, or null when that segment is not one: a
-- malformed path is a plain "no" in a policy, never an error.
create or replace function private.storage_path_uuid(p_name text, p_segment integer) returns uuid
language sql immutable
set search_path = ''
as $$
  select case
    when segment ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
      then segment::uuid
  end
  from (select (string_to_array(p_name, '/'))[p_segment] as segment) as parts
$$;

-- Does this name lie inside a conversation of the tenant its first segment names? Keeps a visitor
-- from filing its own conversation under another tenant's folder.
create or replace function private.attachment_conversation_matches(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select coalesce(array_length(string_to_array(p_name, '/'), 1) >= 3, false)
     and exists (
       select 1 from public.conversations
        where id = private.storage_path_uuid(p_name, 2)
          and tenant_id = private.storage_path_uuid(p_name, 1)
     )
$$;

-- May the caller read this attachment? Its conversation's visitor and the tenant's members.
create or replace function private.can_read_attachment(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select private.is_member(private.storage_path_uuid(p_name, 1))
      or (private.attachment_conversation_matches(p_name)
          and private.is_conversation_visitor(private.storage_path_uuid(p_name, 2)))
$$;

-- May the caller write this attachment? Only the visitor, and only while the conversation is not
-- resolved: a resolved conversation takes a visitor's message (which reopens it), not a file.
create or replace function private.can_write_attachment(p_name text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select private.attachment_conversation_matches(p_name)
     and private.is_conversation_visitor(private.storage_path_uuid(p_name, 2))
     and exists (
       select 1 from public.conversations
        where id = private.storage_path_uuid(p_name, 2) and status <> 'resolved'
     )
$$;

grant execute on function
  private.storage_path_uuid(text, integer),
  private.attachment_conversation_matches(text),
  private.can_read_attachment(text),
  private.can_write_attachment(text)
to authenticated, service_role;

comment on function private.storage_path_uuid(text, integer) is
  'The uuid in segment p_segment (1-based) of a storage object name, or null if it is not a uuid.';
comment on function private.attachment_conversation_matches(text) is
  'True when an attachments object name is <tenant_id>/<conversation_id>/<file> of a real conversation of that tenant.';
comment on function private.can_read_attachment(text) is
  'Storage policy helper: the caller is a member of the tenant, or the visitor of the conversation, the name points into.';
comment on function private.can_write_attachment(text) is
  'Storage policy helper: the caller is the visitor of the conversation the name points into, and it is not resolved.';

-- knowledge -------------------------------------------------------------------------------------
create policy knowledge_select on storage.objects for select to authenticated
  using (
    bucket_id = 'knowledge'
    and (private.is_member(private.storage_path_uuid(name, 1))
         or (select private.is_platform_admin()))
  );

create policy knowledge_insert on storage.objects for insert to authenticated
  with check (
    bucket_id = 'knowledge'
    and coalesce(array_length(string_to_array(name, '/'), 1) >= 2, false)
    and private.has_tenant_role(private.storage_path_uuid(name, 1), array['owner', 'admin'])
  );

-- Upserts and moves: the row must belong to a tenant the caller administers before and after.
create policy knowledge_update on storage.objects for update to authenticated
  using (
    bucket_id = 'knowledge'
    and private.has_tenant_role(private.storage_path_uuid(name, 1), array['owner', 'admin'])
  )
  with check (
    bucket_id = 'knowledge'
    and coalesce(array_length(string_to_array(name, '/'), 1) >= 2, false)
    and private.has_tenant_role(private.storage_path_uuid(name, 1), array['owner', 'admin'])
  );

create policy knowledge_delete on storage.objects for delete to authenticated
  using (
    bucket_id = 'knowledge'
    and private.has_tenant_role(private.storage_path_uuid(name, 1), array['owner', 'admin'])
  );

-- attachments -----------------------------------------------------------------------------------
create policy attachments_select on storage.objects for select to authenticated
  using (
    bucket_id = 'attachments'
    and (private.can_read_attachment(name) or (select private.is_platform_admin()))
  );

create policy attachments_insert on storage.objects for insert to authenticated
  with check (bucket_id = 'attachments' and private.can_write_attachment(name));

create policy attachments_update on storage.objects for update to authenticated
  using (bucket_id = 'attachments' and private.can_write_attachment(name))
  with check (bucket_id = 'attachments' and private.can_write_attachment(name));

create policy attachments_delete on storage.objects for delete to authenticated
  using (bucket_id = 'attachments' and private.can_write_attachment(name));
