-- Faster hybrid search, same ranking:
--   - The full-text index no longer keeps a pending list: with GIN's fast update every search reads
--     the whole unmerged list (up to 4 MB after a bulk ingestion) until a vacuum merges it, which
--     cost more than the search itself. Writes pay a little more, once; every question gains.
--   - The corpus figures, the question's words with their weights and the words that select
--     candidates come from one statement instead of a loop.
--   - Only the best candidates are joined to their documents for the order of ties.
alter index public.document_chunks_fts_idx set (fastupdate = off);
select gin_clean_pending_list('public.document_chunks_fts_idx'::regclass);

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
  match_count integer := least(greatest(coalesce(p_match_count, 8), 1), 50);
  candidates integer := match_count * 4;
  posting_budget constant integer := 500;
  avg_length double precision;
  lexemes text[];
  idfs double precision[];
  match_query tsquery;
begin
  -- Let HNSW keep scanning until enough rows survive the tenant filter (pgvector >= 0.8).
  perform set_config('hnsw.iterative_scan', 'relaxed_order', true),
          set_config('hnsw.ef_search', greatest(candidates, 40)::text, true);

  -- The question's words the tenant's chunks hold, rarest first, with their BM25 weights. The
  -- rarest select candidates, up to about posting_budget chunks; on a large knowledge base a word
  -- in more than a tenth of the chunks only scores (in a small one every word may select: there
  -- are few chunks to score anyway).
  with corpus as (
    select sum(k.chunk_count) as chunks,
           sum(k.lexeme_count)::double precision / nullif(sum(k.chunk_count), 0) as avg_length,
           array_agg(k.text_config) as configs
      from private.knowledge_corpus k
     where k.tenant_id = p_tenant_id
  ),
  words as (
    select s.lexeme, s.chunk_count as df,
           ln(1 + (corpus.chunks - s.chunk_count + 0.5) / (s.chunk_count + 0.5)) as idf,
           row_number() over (order by s.chunk_count, s.lexeme) as i,
           sum(s.chunk_count) over (order by s.chunk_count, s.lexeme) as postings,
           corpus.chunks
      from corpus,
           lateral (select distinct u.lexeme
                      from unnest(corpus.configs) cfg,
                           unnest(to_tsvector(cfg, extensions.unaccent(
                             'extensions.unaccent'::regdictionary, coalesce(p_query, '')))) u) q
      join private.knowledge_terms s on s.tenant_id = p_tenant_id and s.lexeme = q.lexeme
     where corpus.chunks > 0
  )
  select (select c.avg_length from corpus c),
         array_agg(w.lexeme order by w.i),
         array_agg(w.idf order by w.i),
         string_agg('''' || replace(replace(w.lexeme, '\', '\\'), '''', '''''') || '''', ' | '
                    order by w.i)
           filter (where w.i = 1 or (w.postings <= posting_budget
                                     and not (w.chunks > 1000 and w.df * 10 > w.chunks)
                                     and not (w.chunks > 100 and w.df * 2 > w.chunks)))::tsquery
    into avg_length, lexemes, idfs, match_query
    from words w;

  return query
  with terms as materialized (
    select t.idf, l.q::tsquery as any_weight, (l.q || ':B')::tsquery as body,
           (l.q || ':A')::tsquery as head
      from unnest(lexemes, idfs) as t (lexeme, idf),
           lateral (select '''' || replace(replace(t.lexeme, '\', '\\'), '''', '''''') || '''' as q) l
  ),
  matched as materialized (
    select c.id, c.document_id, c.chunk_index, c.fts
      from public.document_chunks c
     where match_query is not null and c.tenant_id = p_tenant_id and c.fts @@ match_query
  ),
  scored as (
    -- Whether each word is in the passage's text (B) and in its heading (A): a containment test per
    -- word, where counting occurrences would unpack every candidate's whole vector. Joining the
    -- candidates to the words measured faster than a subquery per candidate.
    select h.id, h.document_id, h.chunk_index,
           sum(h.idf * h.tf * 2.2::float8 / (h.tf + h.norm)) as bm25
      from (
        select m.id, m.document_id, m.chunk_index, t.idf,
               (m.fts @@ t.body)::integer::float8 + 0.5::float8 * (m.fts @@ t.head)::integer as tf,
               1.2::float8 * (0.25::float8 + 0.75::float8 * length(m.fts) / avg_length) as norm
          from matched m
          join terms t on m.fts @@ t.any_weight
      ) h
     group by h.id, h.document_id, h.chunk_index
  ),
  -- A passage is also read in its document: the words the question shares with the rest of the
  -- document (a heading further up, the next paragraph) count for 0.3 of their weight, so a
  -- paraphrase that the passage answers in other words still finds it through its article.
  in_context as (
    select sc.id, sc.document_id, sc.chunk_index,
           sc.bm25 + 0.3::float8 * (sum(sc.bm25) over (partition by sc.document_id) - sc.bm25) as bm25
      from scored sc
  ),
  full_text as (
    select s.id,
           row_number() over (
             order by s.bm25 desc, d.created_at, d.title, s.chunk_index, s.document_id, s.id
           )::integer as rank_ix
      -- Ties are broken among the best only, not across every scored passage.
      from (select ic.* from in_context ic order by ic.bm25 desc limit candidates * 2) s
      join public.documents d on d.id = s.document_id
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
