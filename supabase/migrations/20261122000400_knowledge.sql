-- The knowledge base: documents, their chunks, and hybrid retrieval.

create table public.documents (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  title text not null check (length(title) between 1 and 500),
  source_url text,
  mime_type text not null default 'text/plain'
    check (mime_type in ('text/plain', 'text/markdown', 'text/html')),
  content text not null default '',
  status text not null default 'pending' check (status in ('pending', 'processing', 'ready', 'failed')),
  error text,
  chunk_count integer not null default 0,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index documents_tenant_idx on public.documents (tenant_id, created_at desc);

create trigger documents_touch before update on public.documents
  for each row execute function private.touch_updated_at();

create table public.document_chunks (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  document_id uuid not null references public.documents (id) on delete cascade,
  chunk_index integer not null check (chunk_index >= 0),
  -- The headings above this chunk, kept so a passage still says what it is about.
  heading text not null default '',
  content text not null check (length(content) > 0),
  token_count integer not null default 0,
  embedding extensions.vector(384),
  fts tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, coalesce(heading, '')), 'A')
    || setweight(to_tsvector('english'::regconfig, content), 'B')
  ) stored,
  created_at timestamptz not null default now(),
  unique (document_id, chunk_index)
);
create index document_chunks_tenant_idx on public.document_chunks (tenant_id);
create index document_chunks_fts_idx on public.document_chunks using gin (fts);
create index document_chunks_embedding_idx on public.document_chunks
  using hnsw (embedding extensions.vector_cosine_ops);

-- A chunk's tenant is its document's.
create or replace function private.chunk_defaults() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select tenant_id into new.tenant_id from public.documents where id = new.document_id;
  return new;
end;
$$;

create trigger document_chunks_defaults before insert or update of document_id
  on public.document_chunks
  for each row execute function private.chunk_defaults();

alter table public.documents enable row level security;
alter table public.document_chunks enable row level security;

-- Every member reads the knowledge base; owners and admins curate it.
create policy documents_select on public.documents for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy documents_insert on public.documents for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy documents_update on public.documents for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy documents_delete on public.documents for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

create policy document_chunks_select on public.document_chunks for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy document_chunks_insert on public.document_chunks for insert to authenticated
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy document_chunks_update on public.document_chunks for update to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']))
  with check (private.has_tenant_role(tenant_id, array['owner', 'admin']));
create policy document_chunks_delete on public.document_chunks for delete to authenticated
  using (private.has_tenant_role(tenant_id, array['owner', 'admin']));

-- Hybrid search: the full-text ranking and the vector ranking of the tenant's chunks, fused by
-- reciprocal rank (score = Σ weight / (k + rank)). Each side contributes its top candidates, so a
-- question that shares no words with the answer still finds it, and an exact product code that
-- embeddings blur still wins. SECURITY INVOKER: row level security applies to the caller, and the
-- tenant filter is applied inside each ranking so no other tenant's chunk can take a slot.
create or replace function public.match_document_chunks(
  p_tenant_id uuid,
  p_query text,
  p_embedding extensions.vector(384) default null,
  p_match_count integer default 8,
  p_full_text_weight double precision default 1.0,
  p_semantic_weight double precision default 1.0,
  p_rrf_k integer default 50
)
returns table (
  chunk_id uuid,
  document_id uuid,
  title text,
  heading text,
  content text,
  score double precision,
  full_text_rank integer,
  semantic_rank integer,
  similarity double precision
)
language plpgsql
stable
set search_path = ''
as $$
declare
  candidates integer := least(greatest(coalesce(p_match_count, 8), 1), 50) * 4;
  -- Any of the question's words may match (OR); ts_rank_cd then favours chunks matching more of
  -- them, closer together. An all-words AND would miss most chat questions.
  ts_query tsquery := nullif(
    replace(plainto_tsquery('english'::regconfig, coalesce(p_query, ''))::text, ' & ', ' | '), ''
  )::tsquery;
begin
  -- Let HNSW keep scanning until enough rows survive the tenant filter (pgvector >= 0.8).
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  perform set_config('hnsw.ef_search', greatest(candidates, 40)::text, true);

  return query
  with full_text as (
    select c.id,
           row_number() over (order by ts_rank_cd(c.fts, ts_query) desc, c.id)::integer as rank_ix
      from public.document_chunks c
     where c.tenant_id = p_tenant_id and c.fts @@ ts_query
     order by rank_ix
     limit candidates
  ),
  semantic as (
    -- The inner query is a plain ORDER BY distance LIMIT, the shape the HNSW index serves.
    select nearest.id,
           1 - nearest.distance as similarity,
           row_number() over (order by nearest.distance, nearest.id)::integer as rank_ix
      from (
        select c.id, c.embedding operator(extensions.<=>) p_embedding as distance
          from public.document_chunks c
         where p_embedding is not null and c.tenant_id = p_tenant_id and c.embedding is not null
         order by c.embedding operator(extensions.<=>) p_embedding
         limit candidates
      ) nearest
  ),
  fused as (
    select coalesce(f.id, s.id) as id,
           coalesce(p_full_text_weight / (p_rrf_k + f.rank_ix), 0.0)
             + coalesce(p_semantic_weight / (p_rrf_k + s.rank_ix), 0.0) as score,
           f.rank_ix as full_text_rank,
           s.rank_ix as semantic_rank,
           s.similarity
      from full_text f
      full outer join semantic s on s.id = f.id
  )
  select c.id, c.document_id, d.title, c.heading, c.content,
         fused.score, fused.full_text_rank, fused.semantic_rank, fused.similarity
    from fused
    join public.document_chunks c on c.id = fused.id
    join public.documents d on d.id = c.document_id
   where c.tenant_id = p_tenant_id
   order by fused.score desc, c.id
   limit least(greatest(coalesce(p_match_count, 8), 1), 50);
end;
$$;

revoke execute on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) from public, anon;
grant execute on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) to authenticated, service_role;

create trigger documents_same_tenant before update on public.documents
  for each row execute function private.forbid_tenant_change();
create trigger document_chunks_same_tenant before update on public.document_chunks
  for each row execute function private.forbid_tenant_change();
