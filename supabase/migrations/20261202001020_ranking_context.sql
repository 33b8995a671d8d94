-- A passage's score takes in its document: what the question shares with the rest of the article
-- counts for 0.3 of its weight, measured on the evaluation set (npm run bench:rag). On a large
-- knowledge base fewer chunks are scored: the rarest words select up to 500 of them, and a word in
-- more than a tenth of the chunks (a quarter of a rare word's weight at most) only scores.
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
      -- In a small knowledge base every word may select: there are few chunks to score anyway.
      exit when i > 1 and (postings + dfs[i] > posting_budget
                           or (corpus_chunks > 1000 and dfs[i] * 10 > corpus_chunks)
                           or (corpus_chunks > 100 and dfs[i] * 2 > corpus_chunks));
      selected := selected || lexemes[i];
      postings := postings + dfs[i];
    end loop;
    select string_agg('''' || replace(replace(l, '\', '\\'), '''', '''''') || '''', ' | ')::tsquery
      into match_query
      from unnest(selected) l;
  end if;

  return query
  with terms as materialized (
    select t.idf, l.q::tsquery as any_weight, (l.q || ':B')::tsquery as body,
           (l.q || ':A')::tsquery as head
      from unnest(lexemes, idfs) as t (lexeme, idf),
           lateral (select '''' || replace(replace(t.lexeme, '\', '\\'), '''', '''''') || '''' as q) l
  ),
  matched as materialized (
    select c.id, c.document_id, c.fts
      from public.document_chunks c
     where match_query is not null and c.tenant_id = p_tenant_id and c.fts @@ match_query
  ),
  scored as (
    -- Whether each word is in the passage's text (B) and in its heading (A): a containment test per
    -- word, where counting occurrences would unpack every candidate's whole vector. Each passage's
    -- length factor and each word's weight are computed once, in double precision.
    select h.id, h.document_id, sum(h.idf * h.tf * 2.2::float8 / (h.tf + h.norm)) as bm25
      from (
        select m.id, m.document_id, t.idf,
               (m.fts @@ t.body)::integer::float8 + 0.5::float8 * (m.fts @@ t.head)::integer as tf,
               1.2::float8 * (0.25::float8 + 0.75::float8 * length(m.fts) / avg_length) as norm
          from matched m
          join terms t on m.fts @@ t.any_weight
      ) h
     group by h.id, h.document_id
  ),
  -- A passage is also read in its document: the words the question shares with the rest of the
  -- document (a heading further up, the next paragraph) count for a fraction of their weight, so
  -- a paraphrase that the passage answers in other words still finds it through its article.
  in_context as (
    select sc.id, sc.bm25 + 0.3::float8 * (sum(sc.bm25) over (partition by sc.document_id) - sc.bm25) as bm25
      from scored sc
  ),
  full_text as (
    select s.id,
           row_number() over (
             order by s.bm25 desc, d.created_at, d.title, c.chunk_index, c.document_id, c.id
           )::integer as rank_ix
      -- Ties are broken among the best only, not across every scored passage.
      from (select ic.id, ic.bm25 from in_context ic order by ic.bm25 desc limit candidates * 2) s
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
