-- Crawling a tenant's site into its knowledge base.
--
-- A crawl is a start URL (a page whose same-site links are followed, or a sitemap) that owners and
-- admins add through the Data API; adding it queues its first run (a trigger), and a scheduled
-- re-sync queues the next ones. Each run fetches pages through the outbound guard, keeps every
-- page it saw in crawl_pages with the hash of its main content, and writes each page as a
-- document of the crawl: a page whose content hash has not changed is left alone, so it is not
-- embedded again. Progress goes out as broadcasts on tenant:<id>:knowledge, a topic clients can
-- only receive.

-- Depth and pages per crawl, by plan (crawl_pages stays the monthly budget across crawls).
update public.plans
   set limits = limits || case id
     when 'free' then '{"crawl_depth": 2, "crawl_max_pages": 50}'::jsonb
     when 'starter' then '{"crawl_depth": 3, "crawl_max_pages": 500}'::jsonb
     when 'pro' then '{"crawl_depth": 5, "crawl_max_pages": 2000}'::jsonb
     when 'business' then '{"crawl_depth": 10, "crawl_max_pages": 10000}'::jsonb
     else '{}'::jsonb
   end
 where id in ('free', 'starter', 'pro', 'business');

create table public.crawls (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  kind text not null default 'site' check (kind in ('site', 'sitemap')),
  url text not null check (length(url) <= 2048 and private.outbound_url_problem(url) is null),
  max_depth integer check (max_depth between 0 and 20),
  max_pages integer check (max_pages between 1 and 100000),
  resync text not null default 'off' check (resync in ('off', 'daily', 'weekly')),
  status text not null default 'queued'
    check (status in ('queued', 'running', 'done', 'failed')),
  run integer not null default 1 check (run >= 1),
  pages_found integer not null default 0,
  pages_fetched integer not null default 0,
  pages_changed integer not null default 0,
  pages_unchanged integer not null default 0,
  pages_skipped integer not null default 0,
  pages_failed integer not null default 0,
  stop_reason text,
  error text,
  robots_txt text,
  started_at timestamptz,
  finished_at timestamptz,
  next_sync_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index crawls_tenant_idx on public.crawls (tenant_id, created_at desc);
create index crawls_due_idx on public.crawls (next_sync_at) where resync <> 'off';

comment on table public.crawls is
  'Sites and sitemaps crawled into the knowledge base: one row per start URL, with the progress of its latest run.';
comment on column public.crawls.id is 'Crawl id.';
comment on column public.crawls.tenant_id is 'The tenant whose knowledge base the pages join.';
comment on column public.crawls.kind is 'site: follow same-site links from url; sitemap: fetch the pages a sitemap (or sitemap index) lists.';
comment on column public.crawls.url is 'Start page or sitemap; only pages on its site are fetched.';
comment on column public.crawls.max_depth is 'Links followed from the start page, at most the plan''s crawl_depth; null: the plan''s.';
comment on column public.crawls.max_pages is 'Pages per run, at most the plan''s crawl_max_pages; null: the plan''s.';
comment on column public.crawls.resync is 'Scheduled re-sync: off, daily or weekly. Unchanged pages are not embedded again.';
comment on column public.crawls.status is 'Latest run: queued, running, done or failed.';
comment on column public.crawls.run is 'Number of the latest run; pages seen in it carry the same number.';
comment on column public.crawls.pages_found is 'Pages queued in the latest run.';
comment on column public.crawls.pages_fetched is 'Pages fetched in the latest run.';
comment on column public.crawls.pages_changed is 'Fetched pages that were new or changed, and so were (re)ingested.';
comment on column public.crawls.pages_unchanged is 'Fetched pages whose content hash was unchanged: not embedded again.';
comment on column public.crawls.pages_skipped is 'Pages not fetched or not kept: refused by robots.txt, not HTML, or off the site.';
comment on column public.crawls.pages_failed is 'Pages that could not be fetched or read.';
comment on column public.crawls.stop_reason is 'Why the run stopped before every page was fetched: a page cap, the monthly crawl quota, the documents limit.';
comment on column public.crawls.error is 'Why the run failed, when it did.';
comment on column public.crawls.robots_txt is 'The site''s robots.txt as read at the start of the latest run.';
comment on column public.crawls.started_at is 'When the latest run started.';
comment on column public.crawls.finished_at is 'When the latest run ended.';
comment on column public.crawls.next_sync_at is 'When the scheduled re-sync runs next.';
comment on column public.crawls.created_by is 'The member who added the crawl.';
comment on column public.crawls.created_at is 'When the crawl was added.';
comment on column public.crawls.updated_at is 'Last change to this row.';

create table public.crawl_pages (
  crawl_id uuid not null references public.crawls (id) on delete cascade,
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  url text not null check (length(url) <= 2048),
  depth integer not null default 0 check (depth >= 0),
  run integer not null,
  status text not null default 'queued'
    check (status in ('queued', 'fetched', 'unchanged', 'skipped', 'failed')),
  http_status integer,
  content_hash text,
  document_id uuid references public.documents (id) on delete set null,
  error text,
  fetched_at timestamptz,
  primary key (crawl_id, url)
);
create index crawl_pages_queue_idx on public.crawl_pages (crawl_id, run, status);

comment on table public.crawl_pages is
  'Every page a crawl has seen, with the hash of its main content and the document it became.';
comment on column public.crawl_pages.crawl_id is 'The crawl.';
comment on column public.crawl_pages.tenant_id is 'The crawl''s tenant.';
comment on column public.crawl_pages.url is 'The page, without its fragment.';
comment on column public.crawl_pages.depth is 'Links from the start page (0: the start page or a sitemap entry).';
comment on column public.crawl_pages.run is 'The last run that queued the page.';
comment on column public.crawl_pages.status is 'queued, fetched (new or changed), unchanged, skipped or failed, in that run.';
comment on column public.crawl_pages.http_status is 'HTTP status of the last fetch.';
comment on column public.crawl_pages.content_hash is 'SHA-256 of the page''s main content when last kept: the change detection of re-syncs.';
comment on column public.crawl_pages.document_id is 'The document holding the page''s content.';
comment on column public.crawl_pages.error is 'Why the page was skipped or failed.';
comment on column public.crawl_pages.fetched_at is 'When it was last fetched.';

alter table public.documents
  add column crawl_id uuid references public.crawls (id) on delete cascade;
create index documents_crawl_idx on public.documents (crawl_id) where crawl_id is not null;
comment on column public.documents.crawl_id is
  'The crawl the page was read by; deleting the crawl deletes its pages.';

create trigger crawls_touch before update on public.crawls
  for each row execute function private.touch_updated_at();
create trigger crawls_same_tenant before update on public.crawls
  for each row execute function private.forbid_tenant_change();

alter table public.crawls enable row level security;
alter table public.crawl_pages enable row level security;

create policy crawls_select on public.crawls for select to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin'])
         or (select private.is_platform_admin()));
create policy crawls_insert on public.crawls for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy crawls_update on public.crawls for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy crawls_delete on public.crawls for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

create policy crawl_pages_select on public.crawl_pages for select to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin'])
         or (select private.is_platform_admin()));
revoke insert, update, delete on public.crawl_pages from anon, authenticated;

-- What a member sets is the crawl's definition; the run's state is the crawl job's. SECURITY
-- INVOKER on purpose: current_user is then the role of the statement, the API role for a member's
-- write and the owner for the functions below that start a run.
create or replace function private.crawl_state() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('authenticated', 'anon') then
    new.next_sync_at := case new.resync
      when 'daily' then coalesce(new.finished_at, now()) + interval '1 day'
      when 'weekly' then coalesce(new.finished_at, now()) + interval '7 days'
    end;
    return new;
  end if;
  if tg_op = 'INSERT' then
    new.status := 'queued';
    new.run := 1;
    new.pages_found := 0;
    new.pages_fetched := 0;
    new.pages_changed := 0;
    new.pages_unchanged := 0;
    new.pages_skipped := 0;
    new.pages_failed := 0;
    new.stop_reason := null;
    new.error := null;
    new.robots_txt := null;
    new.started_at := null;
    new.finished_at := null;
    new.created_by := (select auth.uid());
  else
    if new.kind is distinct from old.kind or new.url is distinct from old.url then
      raise exception 'A crawl''s kind and URL cannot change; add another crawl.'
        using errcode = '22023';
    end if;
    new.status := old.status;
    new.run := old.run;
    new.pages_found := old.pages_found;
    new.pages_fetched := old.pages_fetched;
    new.pages_changed := old.pages_changed;
    new.pages_unchanged := old.pages_unchanged;
    new.pages_skipped := old.pages_skipped;
    new.pages_failed := old.pages_failed;
    new.stop_reason := old.stop_reason;
    new.error := old.error;
    new.robots_txt := old.robots_txt;
    new.started_at := old.started_at;
    new.finished_at := old.finished_at;
    new.created_by := old.created_by;
  end if;
  new.next_sync_at := case new.resync
    when 'daily' then coalesce(new.finished_at, now()) + interval '1 day'
    when 'weekly' then coalesce(new.finished_at, now()) + interval '7 days'
  end;
  return new;
end;
$$;

comment on function private.crawl_state() is
  'Trigger: members define a crawl (URL, kind, caps, re-sync); its run state is written by the crawl job only.';

create trigger crawls_state before insert or update on public.crawls
  for each row execute function private.crawl_state();

-- Queues a run of the crawl: its first when added, the next on re-sync or when asked again.
create or replace function private.enqueue_crawl_run(p_crawl_id uuid) returns bigint
language sql
security definer
set search_path = ''
as $$
  select private.enqueue_job(
           'crawl_site',
           jsonb_build_object('crawl_id', c.id, 'run', c.run, 'step', 0),
           c.tenant_id,
           p_ordering_key => 'crawl:' || c.id,
           p_dedupe_key => 'crawl_site:' || c.id || ':' || c.run || ':0'
         )
    from public.crawls c
   where c.id = p_crawl_id
$$;

comment on function private.enqueue_crawl_run(uuid) is
  'Queues the first step of the crawl''s current run (once per run); answers the job id.';

create or replace function private.queue_crawl_run() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.enqueue_crawl_run(new.id);
  return null;
end;
$$;

comment on function private.queue_crawl_run() is 'Trigger: a crawl added gets its first run queued.';

-- A crawl written as finished by the service (an import of past runs) is left alone.
create trigger crawls_queue_run after insert on public.crawls
  for each row when (new.status = 'queued')
  execute function private.queue_crawl_run();

-- Starts the next run of a crawl; a run already queued or running is left to finish.
create or replace function private.start_crawl_run(p_crawl_id uuid) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  crawl public.crawls;
begin
  select * into crawl from public.crawls where id = p_crawl_id for update;
  if crawl.id is null then
    return null;
  end if;
  if crawl.status in ('queued', 'running') then
    return crawl.run;
  end if;
  update public.crawls
     set run = run + 1, status = 'queued', pages_found = 0, pages_fetched = 0, pages_changed = 0,
         pages_unchanged = 0, pages_skipped = 0, pages_failed = 0, stop_reason = null,
         error = null, started_at = null, finished_at = null, next_sync_at = null
   where id = p_crawl_id;
  perform private.enqueue_crawl_run(p_crawl_id);
  return crawl.run + 1;
end;
$$;

comment on function private.start_crawl_run(uuid) is
  'Starts the next run of a crawl unless one is queued or running; answers the run number.';

-- "Crawl again" in the admin: owners and admins of the crawl's tenant only.
create or replace function public.recrawl(p_crawl_id uuid) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  tenant uuid;
begin
  select tenant_id into tenant from public.crawls where id = p_crawl_id;
  if tenant is null or not private.has_tenant_role(tenant, array['owner', 'admin']) then
    raise exception 'No such crawl.' using errcode = '42501';
  end if;
  return private.start_crawl_run(p_crawl_id);
end;
$$;

comment on function public.recrawl(uuid) is
  'Starts the next run of a crawl (owners and admins of its tenant); answers the run number.';
revoke execute on function public.recrawl(uuid) from public, anon;
grant execute on function public.recrawl(uuid) to authenticated, service_role;

-- The scheduled re-sync: every crawl whose next_sync_at has come runs again.
create or replace function private.queue_due_crawls() returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  due record;
  started integer := 0;
begin
  for due in
    select id from public.crawls
     where resync <> 'off' and next_sync_at <= now() and status in ('done', 'failed')
     order by next_sync_at
     limit 500
  loop
    perform private.start_crawl_run(due.id);
    started := started + 1;
  end loop;
  return started;
end;
$$;

comment on function private.queue_due_crawls() is
  'pg_cron: starts the next run of every crawl whose scheduled re-sync is due.';

select cron.schedule('parley-crawl-resync', '*/5 * * * *', 'select private.queue_due_crawls()');

-- Progress, server-sent: the crawl's counters and each document's ingestion state go to the
-- tenant's owners and admins on tenant:<id>:knowledge. There is no INSERT policy for that topic,
-- so no client can broadcast there.
create or replace function private.broadcast_crawl() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(
    jsonb_build_object(
      'crawl_id', new.id, 'status', new.status, 'run', new.run,
      'pages_found', new.pages_found, 'pages_fetched', new.pages_fetched,
      'pages_changed', new.pages_changed, 'pages_unchanged', new.pages_unchanged,
      'pages_skipped', new.pages_skipped, 'pages_failed', new.pages_failed,
      'stop_reason', new.stop_reason, 'error', new.error),
    'crawl_progress', 'tenant:' || new.tenant_id || ':knowledge', true);
  return null;
end;
$$;

comment on function private.broadcast_crawl() is
  'Trigger: sends a crawl''s progress to tenant:<id>:knowledge.';

create trigger crawls_broadcast after insert or update on public.crawls
  for each row execute function private.broadcast_crawl();

create or replace function private.broadcast_document_status() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform realtime.send(
    jsonb_build_object(
      'document_id', new.id, 'status', new.status, 'chunk_count', new.chunk_count,
      'error', new.error, 'crawl_id', new.crawl_id),
    'document_status', 'tenant:' || new.tenant_id || ':knowledge', true);
  return null;
end;
$$;

comment on function private.broadcast_document_status() is
  'Trigger: sends a document''s ingestion state to tenant:<id>:knowledge when it changes.';

create trigger documents_broadcast_status after insert or update of status, chunk_count, error
  on public.documents
  for each row execute function private.broadcast_document_status();

create or replace function private.can_receive_knowledge(p_topic text) returns boolean
language sql stable security definer
set search_path = ''
as $$
  select coalesce(p_topic ~* '^tenant:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:knowledge$', false)
     and (private.has_tenant_role(split_part(p_topic, ':', 2)::uuid, array['owner', 'admin'])
          or (select private.is_platform_admin()))
$$;

comment on function private.can_receive_knowledge(text) is
  'Realtime policy helper: the caller may receive tenant:<id>:knowledge (the tenant''s owners and admins, platform admins).';
grant execute on function private.can_receive_knowledge(text) to authenticated, service_role;

create policy parley_knowledge_receive on realtime.messages for select to authenticated
  using (
    realtime.messages.extension = 'broadcast'
    and realtime.messages.topic = (select realtime.topic())
    and private.can_receive_knowledge((select realtime.topic()))
  );

revoke execute on function private.enqueue_crawl_run(uuid) from public, anon, authenticated;
grant execute on function private.enqueue_crawl_run(uuid) to service_role;
revoke execute on function private.queue_due_crawls() from public, anon, authenticated;
revoke execute on function private.start_crawl_run(uuid) from public, anon, authenticated;
grant execute on function private.start_crawl_run(uuid) to service_role;
grant execute on function private.queue_due_crawls() to service_role;
