-- Ranking that knows how rare a word is. The full-text side of hybrid search becomes BM25 over the
-- tenant's own chunks: per-tenant term statistics (how many chunks hold each lexeme, how long the
-- chunks are) are kept current by statement-level triggers, so a word that appears everywhere in a
-- tenant's knowledge base counts for little and a rare one decides. Chunks are indexed in their
-- document's language (detected from its stop words unless set), accents folded, so the widget's
-- languages stem their own inflections and a visitor who types without accents still matches.

create extension if not exists unaccent with schema extensions;
-- Indexing and search run as the caller, who folds accents through it.
grant execute on function extensions.unaccent(regdictionary, text) to authenticated, service_role;

-- Languages -------------------------------------------------------------------------------------

-- ISO 639-1 code → the Snowball configuration Postgres ships for it; 'simple' (no stemming, no stop
-- words) for languages without one, Hebrew and Arabic among them.
create or replace function private.text_config_for(p_language text) returns regconfig
language sql
immutable
set search_path = ''
as $$
  select (case lower(left(coalesce(p_language, ''), 2))
    when 'en' then 'pg_catalog.english'
    when 'de' then 'pg_catalog.german'
    when 'fr' then 'pg_catalog.french'
    when 'es' then 'pg_catalog.spanish'
    when 'pt' then 'pg_catalog.portuguese'
    when 'it' then 'pg_catalog.italian'
    when 'nl' then 'pg_catalog.dutch'
    when 'sv' then 'pg_catalog.swedish'
    when 'da' then 'pg_catalog.danish'
    when 'no' then 'pg_catalog.norwegian'
    when 'nb' then 'pg_catalog.norwegian'
    when 'fi' then 'pg_catalog.finnish'
    when 'ru' then 'pg_catalog.russian'
    when 'tr' then 'pg_catalog.turkish'
    else 'pg_catalog.simple'
  end)::regconfig
$$;

-- A text's language, told by its stop words: every Snowball configuration drops its own
-- language's function words, so the one that drops the most tokens is the text's language. A text
-- with too few of them (a product code, a heading) gets 'simple'.
create or replace function private.detect_text_config(p_text text) returns regconfig
language plpgsql
stable
set search_path = ''
as $$
declare
  sample text := left(coalesce(p_text, ''), 4000);
  total integer;
  best regconfig := 'pg_catalog.simple';
  best_dropped integer := 0;
  dropped integer;
  candidate regconfig;
begin
  select coalesce(sum(cardinality(u.positions)), 0) into total
    from unnest(to_tsvector('pg_catalog.simple', sample)) u;
  if total = 0 then return best; end if;
  foreach candidate in array array[
    'pg_catalog.english', 'pg_catalog.german', 'pg_catalog.french', 'pg_catalog.spanish',
    'pg_catalog.portuguese', 'pg_catalog.italian', 'pg_catalog.dutch'
  ]::regconfig[] loop
    select total - coalesce(sum(cardinality(u.positions)), 0) into dropped
      from unnest(to_tsvector(candidate, sample)) u;
    if dropped > best_dropped then
      best := candidate;
      best_dropped := dropped;
    end if;
  end loop;
  -- Below one function word in twenty tokens the evidence is too thin to stem by.
  if best_dropped < 2 or best_dropped * 20 < total then return 'pg_catalog.simple'; end if;
  return best;
end;
$$;

-- What a chunk is indexed as: its heading (weight A) and its text (weight B), accents folded
-- before stemming, the same folding the query gets.
create or replace function private.chunk_fts(p_config regconfig, p_heading text, p_content text)
returns tsvector
language sql
immutable
parallel safe
set search_path = ''
as $$
  select setweight(to_tsvector(p_config,
           extensions.unaccent('extensions.unaccent'::regdictionary, coalesce(p_heading, ''))), 'A')
      || setweight(to_tsvector(p_config,
           extensions.unaccent('extensions.unaccent'::regdictionary, coalesce(p_content, ''))), 'B')
$$;

alter table public.documents
  add column language text check (language ~ '^[a-z]{2}(-[A-Za-z0-9]{2,8})?$'),
  add column text_config regconfig not null default 'pg_catalog.simple';
comment on column public.documents.language is
  'The document''s language as an ISO 639-1 code when set by staff; null: detected from its text.';
comment on column public.documents.text_config is
  'The text search configuration its chunks are indexed with: from language, else detected.';

create or replace function private.document_text_config() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.text_config := case
    when new.language is not null then private.text_config_for(new.language)
    else private.detect_text_config(new.title || E'\n' || new.content)
  end;
  return new;
end;
$$;

create trigger documents_text_config before insert or update of language, title, content
  on public.documents
  for each row execute function private.document_text_config();

update public.documents set text_config = case
  when language is not null then private.text_config_for(language)
  else private.detect_text_config(title || E'\n' || content)
end;

alter table public.document_chunks
  add column text_config regconfig not null default 'pg_catalog.simple';
comment on column public.document_chunks.text_config is
  'Its document''s text search configuration when the chunk was written; fts is built with it.';

-- A chunk takes its tenant and its language from its document.
create or replace function private.chunk_defaults() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  select d.tenant_id, d.text_config into new.tenant_id, new.text_config
    from public.documents d where d.id = new.document_id;
  return new;
end;
$$;

update public.document_chunks c set text_config = d.text_config
  from public.documents d where d.id = c.document_id;

alter table public.document_chunks
  alter column fts set expression as (private.chunk_fts(text_config, heading, content));

-- Term statistics ---------------------------------------------------------------------------------
-- Kept in the private schema, read only through private.knowledge_query_terms, which answers
-- only callers who may read the tenant's knowledge base: a term's frequency says what another
-- tenant's documents are about.

create table private.knowledge_terms (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  lexeme text not null,
  chunk_count integer not null,
  primary key (tenant_id, lexeme)
);
comment on table private.knowledge_terms is
  'Per tenant, how many of its chunks hold each lexeme: the document frequency BM25 weighs by.';
comment on column private.knowledge_terms.tenant_id is 'The tenant whose chunks were counted.';
comment on column private.knowledge_terms.lexeme is 'A lexeme as it appears in document_chunks.fts.';
comment on column private.knowledge_terms.chunk_count is 'How many of the tenant''s chunks hold it.';

create table private.knowledge_corpus (
  tenant_id uuid not null references public.tenants (id) on delete cascade,
  text_config regconfig not null,
  chunk_count integer not null,
  lexeme_count bigint not null,
  primary key (tenant_id, text_config)
);
comment on table private.knowledge_corpus is
  'Per tenant and text search configuration, the chunk count and total chunk length for BM25.';
comment on column private.knowledge_corpus.tenant_id is 'The tenant whose chunks were counted.';
comment on column private.knowledge_corpus.text_config is
  'The configuration those chunks are indexed with; a question is parsed with each of them.';
comment on column private.knowledge_corpus.chunk_count is 'How many chunks.';
comment on column private.knowledge_corpus.lexeme_count is
  'The sum of their lengths in distinct lexemes, for the average chunk length.';

alter table private.knowledge_terms enable row level security;
alter table private.knowledge_corpus enable row level security;
revoke all on private.knowledge_terms, private.knowledge_corpus from public, anon, authenticated;
-- Members read their own tenant's statistics (search runs as the caller); a visitor, anon and
-- other tenants read none. Only the triggers below write them.
grant select on private.knowledge_terms, private.knowledge_corpus to authenticated, service_role;
create policy knowledge_terms_select on private.knowledge_terms for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));
create policy knowledge_corpus_select on private.knowledge_corpus for select to authenticated
  using (private.is_member(tenant_id) or (select private.is_platform_admin()));

-- Concurrent writers of one tenant's chunks take turns on its statistics, so two ingestions never
-- lock the same lexemes in opposite orders.
create or replace function private.lock_knowledge_stats(p_tenants uuid[]) returns void
language sql
set search_path = ''
as $$
  select pg_catalog.pg_advisory_xact_lock(hashtextextended('knowledge_stats:' || t::text, 0))
    from (select distinct t from unnest(p_tenants) t order by 1) s
$$;

-- Applies a set of chunk changes: sign +1 for a chunk written, -1 for one removed.
create or replace function private.apply_knowledge_stats(
  p_tenants uuid[], p_configs regconfig[], p_fts tsvector[], p_signs integer[]
) returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.lock_knowledge_stats(p_tenants);
  with changes as (
    select * from unnest(p_tenants, p_fts, p_signs) as t (tenant_id, fts, sign)
  )
  insert into private.knowledge_terms as k (tenant_id, lexeme, chunk_count)
  select ch.tenant_id, u.lexeme, sum(ch.sign)::integer
    from changes ch, unnest(ch.fts) u
   group by 1, 2
  having sum(ch.sign) <> 0
   order by 1, 2
  on conflict (tenant_id, lexeme) do update set chunk_count = k.chunk_count + excluded.chunk_count;
  if -1 = any(p_signs) then
    delete from private.knowledge_terms k
     where k.chunk_count <= 0 and k.tenant_id = any(p_tenants);
  end if;

  with changes as (
    select * from unnest(p_tenants, p_configs, p_fts, p_signs) as t (tenant_id, text_config, fts, sign)
  )
  insert into private.knowledge_corpus as k (tenant_id, text_config, chunk_count, lexeme_count)
  select tenant_id, text_config, sum(sign)::integer, sum(sign * length(fts))::bigint
    from changes
   group by 1, 2
  having sum(sign) <> 0
   order by 1, 2
  on conflict (tenant_id, text_config) do update
    set chunk_count = k.chunk_count + excluded.chunk_count,
        lexeme_count = k.lexeme_count + excluded.lexeme_count;
  if -1 = any(p_signs) then
    delete from private.knowledge_corpus k
     where k.chunk_count <= 0 and k.tenant_id = any(p_tenants);
  end if;
end;
$$;

create or replace function private.knowledge_stats_inserted() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.apply_knowledge_stats(
    array_agg(n.tenant_id), array_agg(n.text_config), array_agg(n.fts), array_agg(1))
    from new_rows n having count(*) > 0;
  return null;
end;
$$;

create or replace function private.knowledge_stats_deleted() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.apply_knowledge_stats(
    array_agg(o.tenant_id), array_agg(o.text_config), array_agg(o.fts), array_agg(-1))
    from old_rows o having count(*) > 0;
  return null;
end;
$$;

create or replace function private.knowledge_stats_updated() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.apply_knowledge_stats(
    array_agg(x.tenant_id), array_agg(x.text_config), array_agg(x.fts), array_agg(x.sign))
    from (
      select o.tenant_id, o.text_config, o.fts, -1 as sign from old_rows o
      union all
      select n.tenant_id, n.text_config, n.fts, 1 from new_rows n
    ) x having count(*) > 0;
  return null;
end;
$$;

create trigger document_chunks_stats_insert after insert on public.document_chunks
  referencing new table as new_rows
  for each statement execute function private.knowledge_stats_inserted();
create trigger document_chunks_stats_delete after delete on public.document_chunks
  referencing old table as old_rows
  for each statement execute function private.knowledge_stats_deleted();
create trigger document_chunks_stats_update after update on public.document_chunks
  referencing old table as old_rows new table as new_rows
  for each statement execute function private.knowledge_stats_updated();

-- The statistics of the chunks already there.
select private.apply_knowledge_stats(
  array_agg(c.tenant_id), array_agg(c.text_config), array_agg(c.fts), array_agg(1))
  from public.document_chunks c having count(*) > 0;

-- Hybrid search ---------------------------------------------------------------------------------
-- Full text: BM25 (k1 1.2, b 0.75) over the tenant's chunks with the tenant's own term statistics;
-- the question is parsed with every configuration the tenant's chunks use, so it meets each
-- document in that document's language. Heading words count half: every chunk's heading repeats
-- its document's title, which would otherwise outweigh what the passage itself says. Only the
-- question's rarest words select candidates (until they reach about 2,000 chunks between them);
-- every word of the question then scores them. Common words alone cannot select a chunk that
-- none of the rare words does, which keeps a search on a large knowledge base from scoring most
-- of it. The vector side is unchanged; the two rankings are fused by weighted reciprocal rank,
-- the caller choosing the vector side's weight for its embedder. Ties fall to document order and
-- chunk position, so equal ingestions rank equally.
drop function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer);
create function public.match_document_chunks(
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
  match_count integer := least(greatest(coalesce(p_match_count, 8), 1), 50);
  candidates integer := match_count * 4;
  posting_budget constant integer := 2000;
  corpus_chunks bigint;
  avg_length double precision;
  configs regconfig[];
  folded text := extensions.unaccent('extensions.unaccent'::regdictionary, coalesce(p_query, ''));
  lexemes text[];
  idfs double precision[];
  dfs integer[];
  selected text[] := '{}';
  postings bigint := 0;
  match_query tsquery;
begin
  -- Let HNSW keep scanning until enough rows survive the tenant filter (pgvector >= 0.8).
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  perform set_config('hnsw.ef_search', greatest(candidates, 40)::text, true);

  select sum(k.chunk_count), sum(k.lexeme_count)::double precision / nullif(sum(k.chunk_count), 0),
         array_agg(k.text_config order by k.text_config::text)
    into corpus_chunks, avg_length, configs
    from private.knowledge_corpus k
   where k.tenant_id = p_tenant_id;

  if corpus_chunks > 0 then
    select array_agg(t.lexeme order by t.df, t.lexeme),
           array_agg(t.idf order by t.df, t.lexeme),
           array_agg(t.df order by t.df, t.lexeme)
      into lexemes, idfs, dfs
      from (
        select s.lexeme, s.chunk_count as df,
               ln(1 + (corpus_chunks - s.chunk_count + 0.5) / (s.chunk_count + 0.5)) as idf
          from (select distinct u.lexeme
                  from unnest(configs) cfg, unnest(to_tsvector(cfg, folded)) u) q
          join private.knowledge_terms s on s.tenant_id = p_tenant_id and s.lexeme = q.lexeme
      ) t;
  end if;

  if lexemes is not null then
    for i in 1 .. cardinality(lexemes) loop
      exit when i > 1 and postings + dfs[i] > posting_budget;
      selected := selected || lexemes[i];
      postings := postings + dfs[i];
    end loop;
    select string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
      into match_query
      from unnest(selected) l;
  end if;

  return query
  with terms as (
    select t.lexeme, t.idf from unnest(lexemes, idfs) as t (lexeme, idf)
  ),
  matched as (
    select c.id, c.fts
      from public.document_chunks c
     where match_query is not null and c.tenant_id = p_tenant_id and c.fts @@ match_query
  ),
  scored as (
    select m.id,
           sum(t.idf * f.tf * 2.2 / (f.tf + 1.2 * (0.25 + 0.75 * length(m.fts) / avg_length))) as bm25
      from matched m
     cross join lateral unnest(m.fts) u
      join terms t on t.lexeme = u.lexeme
     cross join lateral (
       select coalesce(cardinality(array_positions(u.weights, 'B')), 0)
              + 0.5 * coalesce(cardinality(array_positions(u.weights, 'A')), 0) as tf
     ) f
     group by m.id
  ),
  full_text as (
    select s.id,
           row_number() over (
             order by s.bm25 desc, d.created_at, d.title, c.chunk_index, c.document_id, c.id
           )::integer as rank_ix
      from scored s
      join public.document_chunks c on c.id = s.id
      join public.documents d on d.id = c.document_id
     order by rank_ix
     limit candidates
  ),
  semantic as (
    -- The inner query is a plain ORDER BY distance LIMIT, the shape the HNSW index serves.
    select nearest.id,
           1 - nearest.distance as similarity,
           row_number() over (
             order by nearest.distance, d.created_at, d.title, nearest.chunk_index,
                      nearest.document_id, nearest.id
           )::integer as rank_ix
      from (
        select c.id, c.document_id, c.chunk_index,
               c.embedding operator(extensions.<=>) p_embedding as distance
          from public.document_chunks c
         where p_embedding is not null and c.tenant_id = p_tenant_id and c.embedding is not null
         order by c.embedding operator(extensions.<=>) p_embedding
         limit candidates
      ) nearest
      join public.documents d on d.id = nearest.document_id
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
   order by fused.score desc, d.created_at, d.title, c.chunk_index, c.document_id, c.id
   limit match_count;
end;
$$;

revoke execute on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) from public, anon;
grant execute on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) to authenticated, service_role;

grant execute on function private.text_config_for(text), private.detect_text_config(text),
  private.chunk_fts(regconfig, text, text) to authenticated, service_role;
