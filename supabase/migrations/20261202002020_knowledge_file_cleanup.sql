-- A document's file goes with it. Storage keeps its bytes outside the database (S3 on Supabase), so
-- deleting the storage.objects row would leave them behind and Storage refuses it anyway; the file
-- is removed through Storage's API by a job instead, whoever deleted the document and however
-- (the admin, the Data API, a deleted crawl or tenant's cascade). Until then it still counts
-- against the storage quota, for seconds.

create or replace function private.queue_file_removal() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- Another document may name the same file (a copy made with SQL): then it stays.
  if not exists (select 1 from public.documents where storage_path = old.storage_path) then
    perform private.enqueue_job(
      'remove_knowledge_file',
      jsonb_build_object('path', old.storage_path),
      null,
      p_dedupe_key => 'remove_knowledge_file:' || old.id
    );
  end if;
  return null;
end;
$$;

comment on function private.queue_file_removal() is
  'Trigger: a deleted document''s file in the knowledge bucket is queued for removal through Storage.';

create trigger documents_remove_file after delete on public.documents
  for each row when (old.storage_path is not null)
  execute function private.queue_file_removal();
