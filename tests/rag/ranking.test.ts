import { toSql } from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { hashingEmbedding } from '../../functions/_shared/embeddings/hashing.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createWorld, type World } from '../support/world.ts';

// The full-text side ranks by BM25 over each tenant's own term statistics: what those statistics
// are, that they follow every write, that they stay inside their tenant, and that chunks in the
// widget's other languages are stemmed in their own language.

let local: LocalDatabase;
let db: Db;
let world: World;

interface Match {
  chunk_id: string;
  document_id: string;
  title: string;
  content: string;
  full_text_rank: number | null;
}

async function addDocument(
  sql: Sql,
  tenantId: string,
  title: string,
  chunks: string[],
  language: string | null = null,
): Promise<string> {
  const [doc] = await sql.query<{ id: string }>(
    `insert into public.documents (tenant_id, title, content, status, language)
     values ($1, $2, $3, 'ready', $4) returning id`,
    [tenantId, title, chunks.join('\n\n'), language],
  );
  await sql.query(
    `insert into public.document_chunks (document_id, chunk_index, heading, content, embedding)
     select $1, i - 1, $2, c, e::extensions.vector
       from unnest($3::text[], $4::text[]) with ordinality as t (c, e, i)`,
    [doc?.id, title, chunks, chunks.map((c) => toSql(hashingEmbedding(`${title}\n${c}`)))],
  );
  return doc?.id as string;
}

const fullText = (tenantId: string, query: string, count = 8) =>
  db.asService((sql) =>
    sql.query<Match>('select * from public.match_document_chunks($1, $2, null, $3)', [
      tenantId,
      query,
      count,
    ]),
  );

const termCount = (tenantId: string, lexeme: string) =>
  db.asService(async (sql) => {
    const [row] = await sql.query<{ n: number | null }>(
      `select chunk_count as n from private.knowledge_terms where tenant_id = $1 and lexeme = $2`,
      [tenantId, lexeme],
    );
    return row?.n ?? 0;
  });

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  world = await createWorld(db);
  await db.asService(async (sql) => {
    // "order" is in every chunk of tenant A; "engraving" in one.
    const common = Array.from(
      { length: 12 },
      (_, i) => `Your order ${i} ships from our warehouse. Track the order online.`,
    );
    await addDocument(sql, world.a.tenantId, 'Orders', common);
    await addDocument(sql, world.a.tenantId, 'Personalisation', [
      'Engraving is free on every knife and takes two extra days.',
    ]);
    await addDocument(
      sql,
      world.a.tenantId,
      'Rücksendungen',
      [
        'Sie können ungetragene Wanderschuhe innerhalb von 30 Tagen zurücksenden. Die Rücksendung ist kostenlos.',
      ],
      null,
    );
    await addDocument(sql, world.a.tenantId, 'Devoluciones', [
      'Puedes devolver las botas sin usar en un plazo de 30 días. Las devoluciones son gratuitas para todos los pedidos.',
    ]);
    await addDocument(sql, world.a.tenantId, 'Livraison', [
      'Les commandes sont livrées en trois jours ouvrés. La livraison express arrive le lendemain.',
    ]);
    // Tenant B talks about engraving all the time: its statistics must not make the word common
    // for tenant A.
    await addDocument(
      sql,
      world.b.tenantId,
      'Engraving',
      Array.from({ length: 30 }, (_, i) => `Engraving style ${i} for rings and engraving fonts.`),
    );
  });
});

afterAll(async () => {
  await local?.close();
});

describe('BM25 ranking', () => {
  it('lets a rare word outrank a common one', async () => {
    // One chunk mentions both the common word twice; the engraving chunk mentions the rare word
    // once. BM25 puts the rare word's chunk first; a word-count ranking would not.
    const rows = await fullText(world.a.tenantId, 'order order engraving');
    expect(rows[0]?.title).toBe('Personalisation');
    expect(rows.length).toBeGreaterThan(1);
  });

  it('keeps each tenant’s term statistics to itself', async () => {
    expect(await termCount(world.a.tenantId, 'engrav')).toBe(1);
    expect(await termCount(world.b.tenantId, 'engrav')).toBe(30);
    // A member of tenant B reads none of tenant A's statistics, a visitor none at all.
    for (const actor of ['ownerB', 'visitorA'] as const) {
      const rows = await db.asUser(world.claims[actor], (sql) =>
        sql.query('select * from private.knowledge_terms where tenant_id = $1', [world.a.tenantId]),
      );
      expect(rows, actor).toEqual([]);
    }
    const own = await db.asUser(world.claims.ownerA, (sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from private.knowledge_terms where tenant_id = $1',
        [world.a.tenantId],
      ),
    );
    expect(own[0]?.n).toBeGreaterThan(0);
    await expect(
      db.asUser(world.claims.anon, (sql) => sql.query('select * from private.knowledge_terms')),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('follows inserts, updates and deletes of chunks', async () => {
    const tenant = world.a.tenantId;
    const documentId = await db.asService((sql) =>
      addDocument(
        sql,
        tenant,
        'Gift cards',
        ['Gift cards never expire. Gift cards are emailed.'],
        'en',
      ),
    );
    expect(await termCount(tenant, 'gift')).toBe(1);
    await db.asService((sql) =>
      sql.query(
        `update public.document_chunks set content = 'Vouchers never expire.' where document_id = $1`,
        [documentId],
      ),
    );
    // The heading still says "Gift cards".
    expect(await termCount(tenant, 'gift')).toBe(1);
    expect(await termCount(tenant, 'voucher')).toBe(1);
    await db.asService((sql) =>
      sql.query('delete from public.documents where id = $1', [documentId]),
    );
    expect(await termCount(tenant, 'voucher')).toBe(0);
    expect(await termCount(tenant, 'gift')).toBe(0);
    // What the triggers keep equals a recount from scratch.
    const [diff] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        `with recount as (
           select c.tenant_id, u.lexeme, count(*)::int as chunk_count
             from public.document_chunks c, unnest(c.fts) u group by 1, 2
         )
         select count(*)::int as n from recount r
           full join private.knowledge_terms k using (tenant_id, lexeme)
          where r.chunk_count is distinct from k.chunk_count`,
      ),
    );
    expect(diff?.n).toBe(0);
  });

  it('lets a tenant with a knowledge base be deleted, its statistics with it', async () => {
    const tenant = await db.asService(async (sql) => {
      const [row] = await sql.query<{ id: string }>(
        `insert into public.tenants (name, slug) values ('Leaving', 'leaving-' || gen_random_uuid())
         returning id`,
      );
      await addDocument(
        sql,
        row?.id as string,
        'Returns',
        ['Returns are free for thirty days.'],
        'en',
      );
      return row?.id as string;
    });
    expect(await termCount(tenant, 'return')).toBe(1);
    await db.asService((sql) => sql.query('delete from public.tenants where id = $1', [tenant]));
    expect(await termCount(tenant, 'return')).toBe(0);
    const [corpus] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from private.knowledge_corpus where tenant_id = $1',
        [tenant],
      ),
    );
    expect(corpus?.n).toBe(0);
  });

  it('stems German, Spanish and French in their own language and folds accents', async () => {
    const cases = [
      // inflected or compound-free forms of the document's words, some typed without accents
      ['kann ich meine Schuhe zurucksenden', 'Rücksendungen'],
      ['Rücksendungen kostenlos', 'Rücksendungen'],
      ['como devuelvo unas bota', 'Devoluciones'],
      ['devolución gratuita', 'Devoluciones'],
      ['quand ma commande sera livree', 'Livraison'],
    ] as const;
    for (const [query, title] of cases) {
      const rows = await fullText(world.a.tenantId, query, 3);
      expect(rows[0]?.title, query).toBe(title);
    }
    const [configs] = await db.asService((sql) =>
      sql.query<{ de: string; es: string; fr: string }>(
        `select max(text_config::text) filter (where title = 'Rücksendungen') as de,
                max(text_config::text) filter (where title = 'Devoluciones') as es,
                max(text_config::text) filter (where title = 'Livraison') as fr
           from public.documents where tenant_id = $1`,
        [world.a.tenantId],
      ),
    );
    expect(configs).toEqual({ de: 'german', es: 'spanish', fr: 'french' });
  });

  it('takes a word with a slip of the finger for the tenant’s own word', async () => {
    // Two letters swapped, one edit at six letters…
    expect((await fullText(world.a.tenantId, 'engarving'))[0]?.title).toBe('Personalisation');
    expect((await fullText(world.a.tenantId, 'warehuose'))[0]?.title).toBe('Orders');
    // …and two letters missing from a word of eight.
    expect((await fullText(world.a.tenantId, 'engravng'))[0]?.title).toBe('Personalisation');
  });

  it('does not respell short words, nor look beyond the tenant’s own words', async () => {
    // At four letters one edit turns a word into another ('knif' is a letter from 'knife').
    expect(await fullText(world.a.tenantId, 'knif')).toEqual([]);
    // 'style' is tenant B's word: tenant A's misspelling of it finds nothing, tenant B's finds it.
    expect(await fullText(world.a.tenantId, 'styel')).toEqual([]);
    expect((await fullText(world.b.tenantId, 'styel'))[0]?.title).toBe('Engraving');
  });

  it('breaks ties by document order and chunk position, not by random ids', async () => {
    const rows = await fullText(world.a.tenantId, 'warehouse', 12);
    // Twelve chunks of one document tie on every word; they come back in their own order.
    expect(rows.map((r) => r.content)).toEqual(
      Array.from(
        { length: 12 },
        (_, i) => `Your order ${i} ships from our warehouse. Track the order online.`,
      ),
    );
  });
});

describe('the HNSW index', () => {
  it('serves the vector side once statistics exist', { timeout: 180_000 }, async () => {
    // Enough chunks for an exact scan to cost more than the index (about 2,000 with statistics;
    // without them the planner never gets there); the local stack analyzes after migrations, seed
    // and ingestion as autovacuum would. The index is rebuilt from its own definition after the
    // bulk insert, which is much quicker than growing it row by row.
    const [index] = await db.asService((sql) =>
      sql.query<{ def: string }>(
        `select indexdef as def from pg_indexes where indexname = 'document_chunks_embedding_idx'`,
      ),
    );
    await local.pg.exec('drop index public.document_chunks_embedding_idx');
    await db.asService(async (sql) => {
      const rows = Array.from(
        { length: 2500 },
        (_, i) => `Catalogue entry ${i} trail item ${i % 37}`,
      );
      await addDocument(sql, world.b.tenantId, 'Catalogue', rows);
    });
    await local.pg.exec(index?.def as string);
    await local.pg.exec('analyze');
    const vector = toSql(hashingEmbedding('trail item'));
    const plan = await db.asService(async (sql) => {
      const rows = await sql.query<{ 'QUERY PLAN': string }>(
        `explain select c.id from public.document_chunks c
          where c.tenant_id = $1 and c.embedding is not null
          order by c.embedding operator(extensions.<=>) $2::extensions.vector limit 32`,
        [world.b.tenantId, vector],
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('document_chunks_embedding_idx');

    // And the search function's vector side, planned under the same statistics, takes it too.
    const scans = async () => {
      await local.pg.query('select pg_stat_force_next_flush()');
      await local.pg.query('select 1');
      const { rows } = await local.pg.query<{ n: number }>(
        `select idx_scan::int as n from pg_stat_user_indexes
          where indexrelname = 'document_chunks_embedding_idx'`,
      );
      return rows[0]?.n ?? 0;
    };
    const before = await scans();
    await db.asService((sql) =>
      sql.query('select * from public.match_document_chunks($1, $2, $3::extensions.vector, 5)', [
        world.b.tenantId,
        'trail item',
        vector,
      ]),
    );
    expect(await scans()).toBe(before + 1);
  });
});
