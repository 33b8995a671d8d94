import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { createHashingEmbedder } from '../../functions/_shared/embeddings/hashing.ts';
import { createKnowledgeApp } from '../../functions/knowledge/app.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createWorld, type World } from '../support/world.ts';

// The retrieval test behind the Knowledge page, on the real schema: who may ask, for which
// tenant, and that the scores it shows add up to the ranking the bot uses.

let local: LocalDatabase;
let db: Db;
let w: World;
const tokens = new Map<string, JwtClaims>();
let app: ReturnType<typeof createKnowledgeApp>;

async function search(token: string | null, body: unknown) {
  const response = await app.request('/knowledge/search', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: read by assertions only
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  for (const [actor, claims] of Object.entries(w.claims)) tokens.set(actor, claims);
  app = createKnowledgeApp({
    db,
    embedder: createHashingEmbedder(),
    verifier: { verify: async (token: string) => tokens.get(token) ?? null },
    log: () => {},
  });
}, 120_000);

afterAll(async () => {
  await local?.close();
});

describe('POST /knowledge/search', () => {
  it('ranks the tenant’s passages with the parts of their fused score', async () => {
    const { status, body } = await search('ownerA', {
      tenant_id: w.a.tenantId,
      query: 'return unused gear',
    });
    expect(status).toBe(200);
    expect(body.passages.length).toBeGreaterThan(0);
    const [first] = body.passages;
    expect(first).toMatchObject({ rank: 1, title: 'Returns', full_text_rank: 1 });
    expect(first.full_text_score).toBeCloseTo(1 / (body.rrf_k + 1), 10);
    expect(first.full_text_score + first.semantic_score).toBeCloseTo(first.score, 10);
    expect(first.similarity).toBeGreaterThan(0);
  });

  it('lets the platform operator look, and nobody else outside the tenant’s managers', async () => {
    const query = { tenant_id: w.a.tenantId, query: 'returns' };
    expect((await search('platformAdmin', query)).status).toBe(200);
    for (const actor of ['agentA', 'ownerB', 'visitorA']) {
      const { status, body } = await search(actor, query);
      expect(status, actor).toBe(403);
      expect(body.error.code).toBeTypeOf('string');
    }
    expect((await search(null, query)).status).toBe(401);
  });

  it('answers bad input with a 4xx in words', async () => {
    for (const body of [
      { tenant_id: 'nope', query: 'x' },
      { tenant_id: w.a.tenantId, query: '' },
      { tenant_id: w.a.tenantId, query: 'x', count: 500 },
      '{not json',
    ]) {
      const res = await search('ownerA', body);
      expect(res.status).toBe(400);
      expect(res.body.error.message).toBeTypeOf('string');
    }
  });
});
