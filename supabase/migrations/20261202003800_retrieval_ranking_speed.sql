-- Hybrid search with less work per question, same ranking:
--   - Each candidate's word weights are computed before the candidates are grouped, so the grouping
--     sorts narrow rows instead of carrying every candidate's search vector (1.6 MB at 20k chunks).
--   - The question's words arrive as ready tsqueries from the statement that finds them.
--   - The best full-text passages and the nearest vectors meet their documents in one join, for
--     the order of ties, and the answer reads titles from it instead of joining documents again.
-- Measured in PGlite at 20k chunks: a tenth less CPU per search, identical results on the
-- evaluation set and on 120 synthetic questions.
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
  idfs double precision[];
  anys tsquery[];
  bodies tsquery[];
  heads tsquery[];
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
    select s.lexeme, l.q, s.chunk_count as df,
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
      cross join lateral (
        select '''' || replace(replace(s.lexeme, '\', '\\'), '''', '''''') || '''' as q
      ) l
     where corpus.chunks > 0
  )
  select (select c.avg_length from corpus c),
         array_agg(w.idf order by w.i),
         array_agg(w.q::tsquery order by w.i),
         array_agg((w.q || ':B')::tsquery order by w.i),
         array_agg((w.q || ':A')::tsquery order by w.i),
         string_agg(w.q, ' | ' order by w.i)
           filter (where w.i = 1 or (w.postings <= posting_budget
                                     and not (w.chunks > 1000 and w.df * 10 > w.chunks)
                                     and not (w.chunks > 100 and w.df * 2 > w.chunks)))::tsquery
    into avg_length, idfs, anys, bodies, heads, match_query
    from words w;

  return query
  with terms as materialized (
    select t.idf, t.any_weight, t.body, t.head
      from unnest(idfs, anys, bodies, heads) as t (idf, any_weight, body, head)
  ),
  matched as materialized (
    select c.id, c.document_id, c.chunk_index, c.fts
      from public.document_chunks c
     where match_query is not null and c.tenant_id = p_tenant_id and c.fts @@ match_query
  ),
  scored as (
    -- Whether each word is in the passage's text (B) and in its heading (A): a containment test per
    -- word, where counting occurrences would unpack every candidate's whole vector. Joining the
    -- candidates to the words measured faster than a subquery per candidate. The tests run below
    -- the OFFSET 0 fence, before the grouping, so its sort carries numbers, not search vectors.
    select h.id, h.document_id, h.chunk_index,
           sum(h.idf * h.tf * 2.2::float8 / (h.tf + h.norm)) as bm25
      from (
        select m.id, m.document_id, m.chunk_index, t.idf,
               (m.fts @@ t.body)::integer::float8 + 0.5::float8 * (m.fts @@ t.head)::integer as tf,
               1.2::float8 * (0.25::float8 + 0.75::float8 * length(m.fts) / avg_length) as norm
          from matched m
          join terms t on m.fts @@ t.any_weight
        offset 0
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
    -- Ties are broken among the best only, not across every scored passage.
    select ic.id, ic.document_id, ic.chunk_index, ic.bm25 from in_context ic
     order by ic.bm25 desc limit candidates * 2
  ),
  semantic as (
    -- A plain ORDER BY distance LIMIT, the shape the HNSW index serves.
    select c.id, c.document_id, c.chunk_index,
           c.embedding operator(extensions.<=>) p_embedding as distance
      from public.document_chunks c
     where p_embedding is not null and c.tenant_id = p_tenant_id and c.embedding is not null
     order by c.embedding operator(extensions.<=>) p_embedding
     limit candidates
  ),
  ranked as (
    -- Both lists meet their documents once, for the order of ties: by score (a negated BM25
    -- sorts like BM25 descending), then document age, title, position.
    select r.id, r.by_text, r.key, r.document_id, r.chunk_index, d.created_at, d.title,
           row_number() over (
             partition by r.by_text
             order by r.key, d.created_at, d.title, r.chunk_index, r.document_id, r.id
           )::integer as rank_ix
      from (select f.id, true as by_text, -f.bm25 as key, f.document_id, f.chunk_index
              from full_text f
            union all
            select s.id, false, s.distance, s.document_id, s.chunk_index
              from semantic s) r
      join public.documents d on d.id = r.document_id
  ),
  fused as (
    select r.id, r.document_id, r.chunk_index, r.created_at, r.title,
           coalesce(p_full_text_weight / (p_rrf_k + min(r.rank_ix) filter (where r.by_text)), 0.0)
             + coalesce(p_semantic_weight / (p_rrf_k + min(r.rank_ix) filter (where not r.by_text)), 0.0)
             as score,
           min(r.rank_ix) filter (where r.by_text) as full_text_rank,
           min(r.rank_ix) filter (where not r.by_text) as semantic_rank,
           1 - min(r.key) filter (where not r.by_text) as similarity
      from ranked r
     where r.rank_ix <= candidates
     group by r.id, r.document_id, r.chunk_index, r.created_at, r.title
  )
  select c.id, c.document_id, fused.title, c.heading, c.content,
         fused.score, fused.full_text_rank, fused.semantic_rank, fused.similarity
    from fused
    join public.document_chunks c on c.id = fused.id
   where c.tenant_id = p_tenant_id
   order by fused.score desc, fused.created_at, fused.title, fused.chunk_index, fused.document_id, fused.id
   limit match_count;
end;
$$;

comment on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) is
  'Hybrid search over a tenant''s knowledge chunks: BM25 full text (read in each chunk''s document) and HNSW vectors, fused by weighted reciprocal rank; ties fall to document order and chunk position.';

revoke execute on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) from public, anon;
grant execute on function public.match_document_chunks(uuid, text, extensions.vector, integer,
  double precision, double precision, integer) to authenticated, service_role;
