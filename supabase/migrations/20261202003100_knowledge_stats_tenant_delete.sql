-- Deleting a tenant cascades to its statistics and to its chunks; the chunks' delete trigger then
-- tried to write negative counts back for the tenant being deleted, which its foreign key refused,
-- so a tenant with a knowledge base could not be deleted. Changes for a tenant that no longer
-- exists are now skipped: its statistics are already gone with it.

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
    select t.* from unnest(p_tenants, p_fts, p_signs) as t (tenant_id, fts, sign)
     where exists (select 1 from public.tenants x where x.id = t.tenant_id)
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
    select t.* from unnest(p_tenants, p_configs, p_fts, p_signs) as t (tenant_id, text_config, fts, sign)
     where exists (select 1 from public.tenants x where x.id = t.tenant_id)
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
