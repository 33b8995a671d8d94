-- Files in the knowledge base, and ingestion queued by the database itself.
--
-- A document is either text held in documents.content (Markdown, plain text, HTML) or a file in
-- the knowledge bucket named by documents.storage_path (PDF and Word as well as the text types),
-- whose text the ingestion job extracts. Whoever adds or changes a document, through the Data
-- API, a function, SQL or the seed, gets its ingestion queued by the triggers below: no path can
-- leave a document waiting for a job nobody queued.

alter table public.documents drop constraint documents_mime_type_check;
alter table public.documents add constraint documents_mime_type_check
  check (mime_type in ('text/plain', 'text/markdown', 'text/html', 'application/pdf',
                       'application/vnd.openxmlformats-officedocument.wordprocessingml.document'));

alter table public.documents
  add column storage_path text
    check (storage_path is null or (length(storage_path) between 38 and 1024
                                    and storage_path !~ '(^|/)\.\.(/|$)')),
  -- A file lives in its own tenant's folder; a binary type has nothing to read but its file.
  add constraint documents_storage_path_tenant
    check (storage_path is null or split_part(storage_path, '/', 1) = tenant_id::text),
  add constraint documents_binary_needs_file
    check (storage_path is not null or mime_type like 'text/%');

comment on column public.documents.storage_path is
  'The file in the knowledge bucket this document is extracted from (<tenant_id>/…), or null when content holds the text.';
comment on column public.documents.mime_type is
  'Format of the text: text/plain, text/markdown or text/html in content, or of the file at storage_path (also application/pdf and Word .docx).';

-- Word documents join the types the knowledge bucket takes.
update storage.buckets
   set allowed_mime_types = array(
     select distinct unnest(coalesce(allowed_mime_types, '{}') || array[
       'application/vnd.openxmlformats-officedocument.wordprocessingml.document'])
     order by 1)
 where id = 'knowledge';

-- Queues the ingestion of the document's current version. The dedupe key names that version by
-- its updated_at, so asking twice for one version queues one job and every later edit its own;
-- the ordering key keeps two ingestions of one document from running at once.
create or replace function private.enqueue_document_ingestion(p_document_id uuid) returns bigint
language sql
security definer
set search_path = ''
as $$
  select private.enqueue_job(
           'ingest_document',
           jsonb_build_object('document_id', d.id),
           d.tenant_id,
           p_ordering_key => 'document:' || d.id,
           p_dedupe_key => 'ingest_document:' || d.id || ':'
             || to_char(d.updated_at at time zone 'UTC', 'YYYYMMDD"T"HH24MISSUS')
         )
    from public.documents d
   where d.id = p_document_id
$$;

comment on function private.enqueue_document_ingestion(uuid) is
  'Queues an ingest_document job for the document''s current version (once per version); answers the job id.';

-- What a member writes is a source; the ingestion state is the service's to set. A new or changed
-- source starts again from pending.
create or replace function private.document_ingestion_state() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  member boolean := coalesce((select auth.role()), '') in ('authenticated', 'anon');
begin
  if tg_op = 'INSERT' then
    if member then
      new.status := 'pending';
      new.chunk_count := 0;
      new.error := null;
      new.created_by := (select auth.uid());
    end if;
    return new;
  end if;
  if new.content is distinct from old.content
     or new.mime_type is distinct from old.mime_type
     or new.storage_path is distinct from old.storage_path
     or new.title is distinct from old.title
     or new.language is distinct from old.language then
    new.status := 'pending';
    new.error := null;
  elsif member then
    new.status := old.status;
    new.chunk_count := old.chunk_count;
    new.error := old.error;
  end if;
  return new;
end;
$$;

comment on function private.document_ingestion_state() is
  'Trigger: members cannot set a document''s ingestion state; a new or changed source is pending again.';

create trigger documents_ingestion_state before insert or update on public.documents
  for each row execute function private.document_ingestion_state();

create or replace function private.queue_document_ingestion() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.enqueue_document_ingestion(new.id);
  return null;
end;
$$;

comment on function private.queue_document_ingestion() is
  'Trigger: a document inserted or changed into pending gets its ingestion queued.';

-- A row written as ready by the service (an import that brings its own chunks) is left alone.
create trigger documents_queue_ingestion_insert after insert on public.documents
  for each row when (new.status = 'pending')
  execute function private.queue_document_ingestion();

create trigger documents_queue_ingestion_update after update on public.documents
  for each row when (new.status = 'pending' and old.status is distinct from 'pending'
                     or new.status = 'pending' and (new.content is distinct from old.content
                         or new.mime_type is distinct from old.mime_type
                         or new.storage_path is distinct from old.storage_path
                         or new.title is distinct from old.title
                         or new.language is distinct from old.language))
  execute function private.queue_document_ingestion();

revoke execute on function private.enqueue_document_ingestion(uuid) from public, anon, authenticated;
grant execute on function private.enqueue_document_ingestion(uuid) to service_role;
