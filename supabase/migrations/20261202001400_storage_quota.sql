-- The storage quota, enforced on the write that spends it. Supabase Storage checks an upload's
-- RLS policies with a row that has no size yet (its permission probe inserts the name only) and
-- writes the object's metadata, size included, afterwards as its own superuser, past RLS. A policy
-- therefore never sees the bytes; a trigger on storage.objects sees every write that carries a
-- size, whoever makes it, on Supabase and on the local stand-in alike.
--
-- The refusal is raised as 42501, the code Storage turns into its AccessDenied answer (403 in the
-- body's statusCode) with the message passed through, so clients get Storage's own error shape.

-- Bytes of the object a write replaces, for the tenant it is counted against: an upsert or an
-- update to a name of that tenant frees what was there, so overwriting a file only spends the
-- difference.
create or replace function private.storage_replaced_bytes(
  p_tenant_id uuid, p_bucket text, p_name text
) returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  freed bigint;
begin
  if p_bucket not in ('knowledge', 'attachments')
     or private.storage_path_uuid(p_name, 1) is distinct from p_tenant_id then
    return 0;
  end if;
  execute 'select (metadata ->> ''size'')::bigint from storage.objects where bucket_id = $1 and name = $2'
    into freed using p_bucket, p_name;
  return coalesce(freed, 0);
end;
$$;

-- May the tenant store p_bytes in place of p_replaced_bytes? Like private.storage_quota_allows,
-- but a write that replaces an object is judged on the net change, and one that does not grow
-- the tenant's storage always passes (a tenant over its limit after a downgrade may still shrink).
create or replace function private.storage_write_allowed(
  p_tenant_id uuid, p_bytes bigint, p_replaced_bytes bigint default 0
) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
  quota bigint := private.plan_limit(p_tenant_id, 'storage_mb');
  used bigint;
begin
  if quota is null or coalesce(p_bytes, 0) <= coalesce(p_replaced_bytes, 0) then
    return true;
  end if;
  -- Writers of one tenant take turns, so two uploads cannot both take the last megabyte.
  perform pg_advisory_xact_lock(hashtextextended('quota:storage_mb:' || p_tenant_id::text, 0));
  used := private.storage_used_bytes(p_tenant_id) - coalesce(p_replaced_bytes, 0) + p_bytes;
  perform private.note_quota_level(p_tenant_id, 'storage_mb', private.quota_period(),
                                   least(ceil(used / 1048576.0)::bigint, quota), quota);
  return used <= quota * 1048576;
end;
$$;

create or replace function private.enforce_storage_quota() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  tenant uuid := private.storage_path_uuid(new.name, 1);
  bytes bigint := (new.metadata ->> 'size')::bigint;
  replaced bigint;
begin
  -- Storage's permission probe carries no size: the write that follows with one is judged.
  if new.bucket_id not in ('knowledge', 'attachments') or tenant is null or bytes is null then
    return new;
  end if;
  if tg_op = 'UPDATE' then
    replaced := case
      when old.bucket_id in ('knowledge', 'attachments')
           and private.storage_path_uuid(old.name, 1) = tenant
        then coalesce((old.metadata ->> 'size')::bigint, 0)
      else 0
    end;
  else
    -- An INSERT … ON CONFLICT DO UPDATE passes here before it meets the row it will replace.
    replaced := private.storage_replaced_bytes(tenant, new.bucket_id, new.name);
  end if;
  if not private.storage_write_allowed(tenant, bytes, replaced) then
    raise exception 'Storage quota exceeded: your plan allows % MB of files and documents.',
      private.plan_limit(tenant, 'storage_mb')
      using errcode = '42501', hint = 'quota_exceeded:storage_mb';
  end if;
  return new;
end;
$$;

create trigger objects_storage_quota before insert or update on storage.objects
  for each row execute function private.enforce_storage_quota();

grant execute on function
  private.storage_replaced_bytes(uuid, text, text),
  private.storage_write_allowed(uuid, bigint, bigint)
to service_role;

comment on function private.storage_replaced_bytes(uuid, text, text) is
  'Size of the knowledge or attachments object of this tenant a write to p_bucket/p_name replaces; 0 when there is none.';
comment on function private.storage_write_allowed(uuid, bigint, bigint) is
  'Whether the tenant may store p_bytes in place of p_replaced_bytes within its plan''s storage_mb; notes 80 % and 100 %.';
comment on function private.enforce_storage_quota() is
  'Trigger on storage.objects: refuses (42501, hint quota_exceeded:storage_mb) a knowledge or attachments write whose size would take the tenant past its plan''s storage_mb.';
comment on trigger objects_storage_quota on storage.objects is
  'Enforces the plan''s storage quota on every object write that carries a size.';
