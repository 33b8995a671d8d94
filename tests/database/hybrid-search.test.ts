import { toSql } from 'pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, JwtClaims, Sql } from '../../functions/_shared/db/port.ts';
import { hashingEmbedding } from '../../functions/_shared/embeddings/hashing.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createWorld, type World } from '../support/world.ts';

// public.match_document_chunks: full-text and vector rankings of one tenant's chunks fused by
// reciprocal rank. Tenant B holds near-copies of tenant A's answers (and of the queries
// themselves) plus a few hundred filler chunks, so that a missing tenant filter, or an HNSW scan
// that stops before reaching tenant A's rows, would show.

interface Match {
  chunk_id: string;
  document_id: string;
  title: string;
  heading: string;
  content: string;
  score: number;
  full_text_rank: number | null;
  semantic_rank: number | null;
  similarity: number | null;
}

const RRF_K = 50; // the function's default p_rrf_k

const A_DOCS = {
  refunds: [
    'Refunds',
    'Refunds are issued to the original payment method within 5 business days after we receive the returned item.',
  ],
  shipping: [
    'Shipping',
    'Standard delivery takes 3 to 5 business days. Express delivery arrives the next business day when ordered before 2pm.',
  ],
  warranty: [
    'Warranty',
    'Tents and backpacks carry a two-year warranty against manufacturing defects. Keep your receipt as proof of purchase.',
  ],
  ridgeline: [
    'Ridgeline tent',
    'The Ridgeline TH-10421 is a two-person backpacking tent weighing 2.1 kg, with two doors, two vestibules, a fully taped rainfly, aluminium poles, a footprint sold separately and a five-year warranty on the frame.',
  ],
  // A neighbouring part number: close to "TH-10421" in vector space, no full-text match.
  spareParts: ['Spare parts', 'Pole kit TH10421 10421B'],
  hours: [
    'Opening hours',
    'Our Boulder store is open Monday to Saturday from 9am to 6pm and closed on Sundays.',
  ],
  boots: ['Boot sizing', 'Our hiking boots run half a size small, so order one size up.'],
} as const;
type ADoc = keyof typeof A_DOCS | 'returns';

// Tenant B's tempters: its own copies of A's answers, and chunks that are the queries verbatim.
const B_TEMPTERS = [
  ['Shipping', 'When will my parcel be delivered? Standard delivery takes 3 to 5 business days.'],
  ['Ridgeline tent', 'TH-10421'],
  ['Warranty', 'Warranty on backpacks: two-year warranty on tents and backpacks.'],
  ['Delivery', 'How long does standard delivery take'],
  ['Returns', 'return unused gear'],
] as const;

const FILLER_WORDS = [
  'delivery',
  'parcel',
  'shipping',
  'returns',
  'refund',
  'warranty',
  'tent',
  'backpack',
  'boots',
  'store',
  'hours',
  'order',
  'payment',
  'receipt',
  'gear',
  'trail',
  'camping',
  'jacket',
  'size',
  'color',
  'standard',
  'express',
  'business',
  'days',
  'unused',
  'frame',
  'pole',
  'ridgeline',
  'stove',
  'lantern',
  'socks',
  'gloves',
  'helmet',
  'rope',
  'map',
  'compass',
];
const FILLERS = 300;

let local: LocalDatabase;
let db: Db;
let world: World;
const chunkOf = {} as Record<ADoc, string>;
let tenantOfChunk: Map<string, string>;

/** A small deterministic PRNG, so the filler is the same on every run. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the embedder sees for a chunk (as in chunkEmbeddingText). */
const embeddingText = (heading: string, content: string) => `${heading}\n${content}`.trim();

async function addDocument(
  sql: Sql,
  tenantId: string,
  title: string,
  chunks: readonly (readonly [string, string])[],
): Promise<string[]> {
  const [doc] = await sql.query<{ id: string }>(
    `insert into public.documents (tenant_id, title, content, status)
     values ($1, $2, $3, 'ready') returning id`,
    [tenantId, title, chunks.map(([, c]) => c).join('\n\n')],
  );
  const rows = await sql.query<{ id: string }>(
    `insert into public.document_chunks (document_id, tenant_id, chunk_index, heading, content, embedding)
     select $1, $2, i - 1, h, c, e::extensions.vector
       from unnest($3::text[], $4::text[], $5::text[]) with ordinality as t (h, c, e, i)
     order by i
     returning id`,
    [
      doc?.id,
      tenantId,
      chunks.map(([h]) => h),
      chunks.map(([, c]) => c),
      chunks.map(([h, c]) => toSql(hashingEmbedding(embeddingText(h, c)))),
    ],
  );
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  world = await createWorld(db);
  await db.asService(async (sql) => {
    chunkOf.returns = world.a.chunkId; // 'Returns' / 'Return unused gear within 60 days.'
    for (const [name, chunk] of Object.entries(A_DOCS)) {
      const [id] = await addDocument(sql, world.a.tenantId, chunk[0], [chunk]);
      chunkOf[name as ADoc] = id as string;
    }
    await addDocument(sql, world.b.tenantId, 'FAQ', B_TEMPTERS);
    const random = mulberry32(42);
    const filler = Array.from({ length: FILLERS }, (_, i) => {
      const words = Array.from(
        { length: 6 + Math.floor(random() * 8) },
        () => FILLER_WORDS[Math.floor(random() * FILLER_WORDS.length)],
      );
      return [`Note ${i}`, words.join(' ')] as const;
    });
    await addDocument(sql, world.b.tenantId, 'Notes', filler);
  });
  const rows = await db.asService((sql) =>
    sql.query<{ id: string; tenant_id: string }>(
      'select id, tenant_id from public.document_chunks',
    ),
  );
  tenantOfChunk = new Map(rows.map((r) => [r.id, r.tenant_id]));
});

afterAll(async () => {
  await local?.close();
});

interface SearchOptions {
  embedding?: boolean;
  count?: number;
  ftWeight?: number;
  semWeight?: number;
  k?: number;
  /** p_spelling_vectors */
  spelling?: boolean;
}

const SEARCH_SQL = `select * from public.match_document_chunks($1, $2, $3::extensions.vector, $4, $5, $6, $7, $8)`;

function searchParams(tenantId: string, query: string, o: SearchOptions = {}) {
  return [
    tenantId,
    query,
    o.embedding === false ? null : toSql(hashingEmbedding(query)),
    o.count ?? 8,
    o.ftWeight ?? 1,
    o.semWeight ?? 1,
    o.k ?? RRF_K,
    o.spelling ?? false,
  ];
}

function search(tenantId: string, query: string, o: SearchOptions = {}, claims?: JwtClaims) {
  const run = (sql: Sql) => sql.query<Match>(SEARCH_SQL, searchParams(tenantId, query, o));
  return claims ? db.asUser(claims, run) : db.asService(run);
}

function expectOnlyTenant(rows: Match[], tenantId: string) {
  for (const row of rows) expect(tenantOfChunk.get(row.chunk_id), row.content).toBe(tenantId);
}

function cosine(a: number[], b: number[]) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** score, ranks and similarity as RRF defines them, checked row by row. */
function expectRrf(rows: Match[], query: string, o: SearchOptions = {}) {
  const k = o.k ?? RRF_K;
  const q = hashingEmbedding(query);
  for (const row of rows) {
    const expected =
      (row.full_text_rank === null ? 0 : (o.ftWeight ?? 1) / (k + row.full_text_rank)) +
      (row.semantic_rank === null ? 0 : (o.semWeight ?? 1) / (k + row.semantic_rank));
    expect(row.score).toBeCloseTo(expected, 12);
    expect(row.full_text_rank !== null || row.semantic_rank !== null).toBe(true);
    if (row.semantic_rank === null) {
      expect(row.similarity).toBeNull();
    } else {
      const v = hashingEmbedding(embeddingText(row.heading, row.content));
      expect(row.similarity).toBeCloseTo(cosine(q, v), 5);
    }
  }
  // Ordered by score; each side's ranks are distinct and agree with its own ordering.
  const scores = rows.map((r) => r.score);
  expect(scores).toEqual([...scores].sort((a, b) => b - a));
  const ft = rows.filter((r) => r.full_text_rank !== null).map((r) => r.full_text_rank);
  expect(new Set(ft).size).toBe(ft.length);
  const sem = rows
    .filter((r) => r.semantic_rank !== null)
    .sort((a, b) => (a.semantic_rank as number) - (b.semantic_rank as number));
  expect(new Set(sem.map((r) => r.semantic_rank)).size).toBe(sem.length);
  const sims = sem.map((r) => r.similarity as number);
  for (let i = 1; i < sims.length; i++) {
    expect(sims[i]).toBeLessThanOrEqual((sims[i - 1] as number) + 1e-6);
  }
}

describe('match_document_chunks', () => {
  it.each([
    ['how long does standard delivery take', 'shipping'],
    ['warranty on backpacks', 'warranty'],
    ['return unused gear', 'returns'],
    ['when are refunds issued to my payment method', 'refunds'],
    ['is the Boulder store open on Sunday', 'hours'],
    ['do hiking boots run small', 'boots'],
  ] as const)('keyword query %j finds %s first, fused from both sides', async (query, best) => {
    const rows = await search(world.a.tenantId, query);
    expect(rows[0]?.chunk_id).toBe(chunkOf[best]);
    expect(rows[0]?.full_text_rank).not.toBeNull();
    expect(rows[0]?.semantic_rank).not.toBeNull();
    expectOnlyTenant(rows, world.a.tenantId);
    expectRrf(rows, query);
  });

  it('finds a paraphrase that full text misses through the vector side alone', async () => {
    // 'deliveryman' is three letters from the chunk's 'deliveri', too far to be taken for a typing
    // mistake, and no chunk of tenant A says 'parcel': full text has nothing, the hashing
    // embedding's shared trigrams do.
    const query = 'is the deliveryman coming with my parcel';
    const textOnly = await search(world.a.tenantId, query, { embedding: false });
    expect(textOnly).toEqual([]);
    // Tenant B has this exact sentence; it must not leak in.
    const inB = await search(world.b.tenantId, query, { embedding: false });
    expect(inB.length).toBeGreaterThan(0);

    const rows = await search(world.a.tenantId, query);
    expect(rows[0]).toMatchObject({
      chunk_id: chunkOf.shipping,
      full_text_rank: null,
      semantic_rank: 1,
    });
    for (const row of rows) expect(row.full_text_rank).toBeNull();
    expectOnlyTenant(rows, world.a.tenantId);
    expectRrf(rows, query);
  });

  it('puts the exact product code first, carried by full text', async () => {
    const query = 'TH-10421';
    const rows = await search(world.a.tenantId, query);
    expect(rows[0]).toMatchObject({ chunk_id: chunkOf.ridgeline, full_text_rank: 1 });
    expectOnlyTenant(rows, world.a.tenantId);
    expectRrf(rows, query);

    // The embedding alone blurs the code: a neighbouring part number is closer to it in vector
    // space than the long product description is.
    const vectorOnly = await search(world.a.tenantId, query, { ftWeight: 0 });
    expect(vectorOnly[0]?.chunk_id).toBe(chunkOf.spareParts);
    const ridgeline = vectorOnly.find((r) => r.chunk_id === chunkOf.ridgeline);
    expect(ridgeline?.semantic_rank).toBeGreaterThan(1);
  });

  it('never returns another tenant’s chunk, even when that tenant holds the query verbatim', async () => {
    const queries = [
      'how long does standard delivery take',
      'return unused gear',
      'TH-10421',
      'warranty on backpacks',
      'when will my parcel be delivered',
      'parcel delivery shipping tent backpack receipt',
    ];
    for (const query of queries) {
      for (const o of [{}, { embedding: false }, { count: 50 }] as SearchOptions[]) {
        const rows = await search(world.a.tenantId, query, o);
        expectOnlyTenant(rows, world.a.tenantId);
        const b = await search(world.b.tenantId, query, o);
        expectOnlyTenant(b, world.b.tenantId);
      }
    }
    // Asked for more than tenant A has, it returns all of A and nothing else.
    const all = await search(world.a.tenantId, 'parcel delivery shipping tent backpack receipt', {
      count: 50,
    });
    const aChunks = [...tenantOfChunk].filter(([, t]) => t === world.a.tenantId).map(([id]) => id);
    expect(new Set(all.map((r) => r.chunk_id))).toEqual(new Set(aChunks));
  });

  it('still ranks tenant A’s chunks when the HNSW index serves the vector side', async () => {
    // With sequential scans, bitmap scans and sorts off, the planner must order by the HNSW index,
    // whose nearest neighbours are almost all tenant B's; the iterative scan the function turns
    // on has to keep going until enough of A's rows turn up.
    const query = 'when will my parcel be delivered';
    // Index statistics reach pg_stat_user_indexes when the session flushes them; a flush is forced
    // and given one idle round trip before reading.
    const hnswScans = async () => {
      await local.pg.query('select pg_stat_force_next_flush()');
      await local.pg.query('select 1');
      const { rows } = await local.pg.query<{ n: number }>(
        `select idx_scan::int as n from pg_stat_user_indexes
          where indexrelname = 'document_chunks_embedding_idx'`,
      );
      return rows[0]?.n as number;
    };
    const scansBefore = await hnswScans();
    const rows = await db.asService(async (sql) => {
      // force_custom_plan: the function's statements are planned again under these settings
      // instead of reusing the plan cached by earlier calls in this session.
      await sql.query(
        `select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
           set_config('enable_sort', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)`,
      );
      return sql.query<Match>(SEARCH_SQL, searchParams(world.a.tenantId, query));
    });
    // The function's vector side did go through the HNSW index.
    expect(await hnswScans()).toBe(scansBefore + 1);
    // Control: the same index scan without iterative scanning stops after ef_search (40)
    // candidates, nearly all tenant B's, and loses most of A's 8 chunks. That is what the
    // function's set_config('hnsw.iterative_scan', 'relaxed_order') prevents.
    const plainScan = (iterative: string) =>
      db.asService(async (sql) => {
        await sql.query(
          `select set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true),
             set_config('enable_sort', 'off', true), set_config('hnsw.iterative_scan', $1, true)`,
          [iterative],
        );
        return sql.query(
          `select c.id from public.document_chunks c
            where c.tenant_id = $1 and c.embedding is not null
            order by c.embedding operator(extensions.<=>) $2::extensions.vector limit 32`,
          [world.a.tenantId, toSql(hashingEmbedding(query))],
        );
      });
    expect((await plainScan('off')).length).toBeLessThan(8);
    expect(await plainScan('relaxed_order')).toHaveLength(8);
    expect(rows[0]).toMatchObject({ chunk_id: chunkOf.shipping, semantic_rank: 1 });
    expect(rows.filter((r) => r.semantic_rank !== null).length).toBe(8);
    expectOnlyTenant(rows, world.a.tenantId);
    expectRrf(rows, query);
  });

  it('respects p_match_count, clamped to 1..50', async () => {
    const query = 'parcel delivery shipping tent backpack receipt';
    expect(await search(world.a.tenantId, query, { count: 3 })).toHaveLength(3);
    expect(await search(world.a.tenantId, query, { count: 1 })).toHaveLength(1);
    expect(await search(world.a.tenantId, query, { count: 0 })).toHaveLength(1);
    const b = await search(world.b.tenantId, query, { count: 500 });
    expect(b).toHaveLength(50);
    expectOnlyTenant(b, world.b.tenantId);
    expectRrf(b, query);
    // The default is 8.
    const [row] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from public.match_document_chunks($1, $2, $3::extensions.vector)',
        [world.b.tenantId, query, toSql(hashingEmbedding(query))],
      ),
    );
    expect(row?.n).toBe(8);
  });

  it('honours the weights and k', async () => {
    const query = 'how long does standard delivery take';
    const o = { ftWeight: 2, semWeight: 0.5, k: 10 };
    const rows = await search(world.a.tenantId, query, o);
    expect(rows.length).toBeGreaterThan(0);
    expectRrf(rows, query, o);
  });

  it('lets spelling-only vectors count for the words full text did not find', async () => {
    // The weight the vector side got, read back from a row it ranked: score − 1/(k + ft) = w/(k + sem).
    const applied = async (query: string, o: SearchOptions) => {
      const rows = await search(world.a.tenantId, query, o);
      const row = rows.find((r) => r.semantic_rank !== null && r.full_text_rank !== null);
      expect(row, query).toBeDefined();
      const r = row as Match;
      return (
        (r.score - 1 / (RRF_K + (r.full_text_rank as number))) *
        (RRF_K + (r.semantic_rank as number))
      );
    };
    // Every word found: the vectors keep a quarter of their weight.
    expect(
      await applied('standard delivery business days', { semWeight: 0.5, spelling: true }),
    ).toBeCloseTo(0.125, 9);
    // Two words of four unknown ('zorblat', 'quibbix'): half.
    expect(
      await applied('standard delivery zorblat quibbix', { semWeight: 0.5, spelling: true }),
    ).toBeCloseTo(0.25, 9);
    // Vectors that know meaning keep their whole weight, whatever full text found.
    expect(await applied('standard delivery business days', { semWeight: 0.5 })).toBeCloseTo(
      0.5,
      9,
    );
  });

  it('works without an embedding, on full text alone', async () => {
    const query = 'standard delivery business days';
    const rows = await search(world.a.tenantId, query, { embedding: false });
    expect(rows[0]?.chunk_id).toBe(chunkOf.shipping);
    for (const row of rows) {
      expect(row.semantic_rank).toBeNull();
      expect(row.similarity).toBeNull();
      expect(row.full_text_rank).not.toBeNull();
    }
    expect(rows.map((r) => r.full_text_rank)).toEqual(rows.map((_, i) => i + 1));
    expectOnlyTenant(rows, world.a.tenantId);
    expectRrf(rows, query);
    // Only stop words: nothing to match, and no error.
    expect(await search(world.a.tenantId, 'the and of', { embedding: false })).toEqual([]);
    expect(await search(world.a.tenantId, '', { embedding: false })).toEqual([]);
  });

  it('returns the chunk’s document and title', async () => {
    const [row] = await search(world.a.tenantId, 'TH-10421');
    expect(row).toMatchObject({
      title: 'Ridgeline tent',
      heading: 'Ridgeline tent',
      content: A_DOCS.ridgeline[1],
    });
    const [doc] = await db.asService((sql) =>
      sql.query<{ document_id: string }>(
        'select document_id from public.document_chunks where id = $1',
        [row?.chunk_id],
      ),
    );
    expect(row?.document_id).toBe(doc?.document_id);
  });
});

describe('match_document_chunks under RLS (security invoker)', () => {
  const query = 'how long does standard delivery take';

  it('gives a member of tenant A the same results as the service', async () => {
    const asService = await search(world.a.tenantId, query);
    for (const actor of ['ownerA', 'agentA'] as const) {
      expect(await search(world.a.tenantId, query, {}, world.claims[actor])).toEqual(asService);
    }
  });

  it('gives a member of tenant B asking for tenant A nothing', async () => {
    expect(await search(world.a.tenantId, query, {}, world.claims.ownerB)).toEqual([]);
    expect(
      await search(world.a.tenantId, query, { embedding: false }, world.claims.ownerB),
    ).toEqual([]);
    // …while its own tenant works for it.
    const own = await search(world.b.tenantId, query, {}, world.claims.ownerB);
    expect(own.length).toBeGreaterThan(0);
    expectOnlyTenant(own, world.b.tenantId);
  });

  it('gives a visitor (not a member) nothing, and anon may not call it', async () => {
    expect(await search(world.a.tenantId, query, {}, world.claims.visitorA)).toEqual([]);
    await expect(search(world.a.tenantId, query, {}, world.claims.anon)).rejects.toMatchObject({
      code: '42501',
    });
  });
});
