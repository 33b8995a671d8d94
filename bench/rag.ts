// `npm run bench:rag`: retrieval quality and speed, printed, never asserted.
//   - the labelled evaluation set (tests/fixtures/rag): hit@1/3/5 and MRR per question kind for
//     full text alone, the vector side alone, hybrid search, and BM25 over whole documents
//   - retrieval latency (embedding + hybrid search) p50/p95 at 1k, 20k and 100k chunks of text
//     drawn from a Zipf-distributed vocabulary
// Deterministic: the same data gives the same figures (latencies aside).
import process from 'node:process';
import { toSql } from 'pgvector';
import { retrievePassages } from '../functions/_shared/agent/retrieval.ts';
import { createPgliteDb } from '../functions/_shared/db/pglite.ts';
import {
  createHashingEmbedder,
  hashingEmbedding,
} from '../functions/_shared/embeddings/hashing.ts';
import { openLocalDatabase } from '../supabase/local/database.ts';
import {
  evaluate,
  ingestCorpus,
  loadQuestions,
  MODES,
  pct,
  type Scores,
} from '../tests/support/rag-eval.ts';
import { ms as millis, percentile } from './support.ts';

const ms = (n: number) => millis(n).padStart(9);
const sizes = (Deno.args.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '1000,20000,100000')
  .split(',')
  .map(Number);

async function quality() {
  const local = await openLocalDatabase({ seed: false, embedder: null });
  const db = createPgliteDb(local.pg);
  const embedder = createHashingEmbedder();
  const [tenant] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.tenants (name, slug) values ('Evaluation', 'evaluation') returning id`,
    ),
  );
  const tenantId = tenant?.id as string;
  const slugs = await ingestCorpus(db, embedder, tenantId);
  await local.pg.exec('analyze');
  const questions = await loadQuestions();
  const { scores } = await evaluate(db, embedder, tenantId, slugs, questions);
  console.log(
    `Evaluation set: ${slugs.size} documents, ${questions.length} questions (hashing embedder, semantic weight ${embedder.semanticWeight ?? 1})`,
  );
  const kinds = ['all', ...new Set(questions.map((q) => q.kind))];
  const cell = (s: Scores | undefined) =>
    s
      ? `${pct(s.hit1, s.n).toFixed(0).padStart(4)} ${pct(s.hit3, s.n).toFixed(0).padStart(4)} ${pct(s.hit5, s.n).toFixed(0).padStart(4)} ${(s.mrr / s.n).toFixed(3).padStart(6)}`
      : '';
  console.log(
    `  ${'kind'.padEnd(12)} ${'n'.padStart(4)}   ${MODES.map((m) => m.padEnd(21)).join('  ')}`,
  );
  console.log(
    `  ${''.padEnd(12)} ${''.padStart(4)}   ${MODES.map(() => '  @1   @3   @5    MRR').join('  ')}`,
  );
  for (const kind of kinds) {
    const n = scores.hybrid[kind]?.n ?? 0;
    console.log(
      `  ${kind.padEnd(12)} ${String(n).padStart(4)}   ${MODES.map((m) => cell(scores[m][kind])).join('  ')}`,
    );
  }
  await local.close();
}

/** A deterministic PRNG, so the synthetic corpus is the same on every run. */
function mulberry32(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Pronounceable words ranked by a Zipf law (s = 1.07 over 20,000 words, as in English prose):
 * a few words are in almost every chunk, most are rare.
 */
function zipfText(random: () => number) {
  const syllables = 'ka lo mi re tu sa ne vo pi da le gu ro fe ti na so be mu zi'.split(' ');
  const vocabulary = Array.from({ length: 20_000 }, (_, i) => {
    let word = '';
    let n = i + 7;
    do {
      word += syllables[n % syllables.length];
      n = Math.floor(n / syllables.length);
    } while (n > 0);
    return word;
  });
  const weights = vocabulary.map((_, i) => 1 / (i + 1) ** 1.07);
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) {
    total += w;
    cumulative.push(total);
  }
  const pick = () => {
    const x = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return vocabulary[lo] as string;
  };
  return {
    sentence: (words: number) => Array.from({ length: words }, pick).join(' '),
    rareWord: () => vocabulary[2000 + Math.floor(random() * 15_000)] as string,
  };
}

async function latency() {
  console.log('Retrieval: hashing embedding + match_document_chunks, in process (PGlite)');
  const local = await openLocalDatabase({ seed: false, embedder: null });
  const db = createPgliteDb(local.pg);
  const embedder = createHashingEmbedder();
  const random = mulberry32(7);
  const text = zipfText(random);
  const [tenant] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.tenants (name, slug) values ('Retrieval', 'retrieval') returning id`,
    ),
  );
  // The search indexes are built once per size after the bulk load, as a restore would: inserting
  // row by row into HNSW and GIN costs far more than building them. Their definitions are read
  // back from the catalog so they are rebuilt exactly as the migrations made them.
  const indexes = await db.asService((sql) =>
    sql.query<{ name: string; definition: string }>(
      `select indexname as name, indexdef as definition from pg_indexes
        where schemaname = 'public' and indexname in ('document_chunks_embedding_idx', 'document_chunks_fts_idx')`,
    ),
  );
  let inserted = 0;
  for (const target of sizes) {
    for (const index of indexes) await local.pg.exec(`drop index if exists public.${index.name}`);
    const loading = performance.now();
    while (inserted < target) {
      const batch = Math.min(1000, target - inserted);
      await db.asService(async (sql) => {
        const [doc] = await sql.query<{ id: string }>(
          `insert into public.documents (tenant_id, title, status, language) values ($1, $2, 'ready', 'en') returning id`,
          [tenant?.id, `Article ${inserted}`],
        );
        const contents = Array.from({ length: batch }, () =>
          text.sentence(60 + Math.floor(random() * 120)),
        );
        await sql.query(
          `insert into public.document_chunks (document_id, chunk_index, heading, content, embedding)
           select $1, i - 1, $2, c, e::extensions.vector
             from unnest($3::text[], $4::text[]) with ordinality as t (c, e, i)`,
          [
            doc?.id,
            `Article ${inserted}`,
            contents,
            contents.map((c) => toSql(hashingEmbedding(c))),
          ],
        );
      });
      inserted += batch;
    }
    const indexing = performance.now();
    // HNSW builds its graph in memory when it fits, many times faster than on pages.
    await local.pg.exec(`set maintenance_work_mem = '512MB'`);
    for (const index of indexes) await local.pg.exec(index.definition);
    await local.pg.exec('analyze');
    console.log(
      `  ${String(target).padStart(6)} chunks   loaded in ${((indexing - loading) / 1000) | 0} s, indexed in ${((performance.now() - indexing) / 1000) | 0} s`,
    );
    // Wall time is what a visitor waits; CPU time (PGlite runs in this process) is the work
    // itself, which other load on the machine does not inflate.
    const latencies: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 120; i++) {
      // Questions mix common words with one or two rarer ones, as real questions do.
      const question = `${text.sentence(5)} ${text.rareWord()} ${i % 2 ? text.rareWord() : ''}`;
      const started = performance.now();
      const startedCpu = process.cpuUsage();
      await db.asService((sql) =>
        retrievePassages(sql, embedder, tenant?.id as string, question, 5),
      );
      const used = process.cpuUsage(startedCpu);
      if (i >= 20) {
        latencies.push(performance.now() - started);
        cpu.push((used.user + used.system) / 1000);
      }
    }
    console.log(
      `  ${String(target).padStart(6)} chunks   wall p50 ${ms(percentile(latencies, 50))}  p95 ${ms(percentile(latencies, 95))}   cpu p50 ${ms(percentile(cpu, 50))}  p95 ${ms(percentile(cpu, 95))}`,
    );
  }
  await local.close();
}

if (!Deno.args.includes('--latency-only')) await quality();
if (!Deno.args.includes('--quality-only')) await latency();
Deno.exit(0);
