import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import type { JobRunner } from '../../functions/_shared/jobs/runner.ts';
import { createChatApp } from '../../functions/chat/app.ts';
import { chatLimits } from '../../functions/chat/limits.ts';
import { createPlaygroundApp } from '../../functions/playground/app.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createUser, createWorld, userClaims, type World } from '../support/world.ts';

// Playground sessions on the real schema: who may open one, for which tenant, with which visitor
// session; and that the conversation then works through the visitor API like any other, identity
// enforcement aside.

let local: LocalDatabase;
let db: Db;
let w: World;
const tokens = new Map<string, JwtClaims>();
let playground: ReturnType<typeof createPlaygroundApp>;
let chat: ReturnType<typeof createChatApp>;

const runner = {
  drain: async () => ({ processed: 0, succeeded: 0, failed: 0 }),
} as unknown as JobRunner;

/** A fresh anonymous visitor, as the admin's own anonymous sign-in makes one. */
async function newVisitor(): Promise<{ token: string; id: string }> {
  const id = await db.asService((sql) => createUser(sql, { anonymous: true }));
  const token = `visitor-${id}`;
  tokens.set(token, userClaims(id, true));
  return { token, id };
}

async function open(staff: string | null, body: Record<string, unknown>) {
  const response = await playground.request('/playground/sessions', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(staff ? { authorization: `Bearer ${staff}` } : {}),
    },
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: read by assertions only
  return { status: response.status, body: (await response.json()) as any };
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  for (const [actor, claims] of Object.entries(w.claims)) tokens.set(actor, claims);
  const verifier = { verify: async (token: string) => tokens.get(token) ?? null };
  playground = createPlaygroundApp({
    db,
    verifier,
    limits: { sessionsPerMemberPerMinute: 4, tenantConversationsPerMinute: 100 },
    log: () => {},
  });
  chat = createChatApp({
    db,
    verifier,
    runner,
    waitUntil: () => {},
    limits: chatLimits({}),
    log: () => {},
  });
}, 120_000);

afterAll(async () => {
  await local?.close();
});

describe('POST /playground/sessions', () => {
  it('opens a marked conversation for the owner, on the visitor session it was given', async () => {
    const visitor = await newVisitor();
    const { status, body } = await open('ownerA', {
      tenant_id: w.a.tenantId,
      visitor_token: visitor.token,
      locale: 'he',
    });
    expect(status).toBe(201);
    expect(body.conversation).toMatchObject({
      tenant_id: w.a.tenantId,
      status: 'bot',
      locale: 'he',
      playground_by: w.users.ownerA,
    });
    const [row] = await db.asService((sql) =>
      sql.query<{ visitor_id: string; contact_id: string | null; identity_verified: boolean }>(
        'select visitor_id, contact_id, identity_verified from public.conversations where id = $1',
        [body.conversation.id],
      ),
    );
    expect(row).toEqual({ visitor_id: visitor.id, contact_id: null, identity_verified: false });
  });

  it('refuses agents, operators, other tenants, visitors and strangers', async () => {
    const visitor = await newVisitor();
    for (const staff of ['agentA', 'ownerB', 'platformAdmin']) {
      const { status, body } = await open(staff, {
        tenant_id: w.a.tenantId,
        visitor_token: visitor.token,
      });
      expect([status, body.error.code], staff).toEqual([403, 'forbidden']);
    }
    expect(
      (await open('visitorA', { tenant_id: w.a.tenantId, visitor_token: visitor.token })).status,
    ).toBe(403);
    expect(
      (await open(null, { tenant_id: w.a.tenantId, visitor_token: visitor.token })).status,
    ).toBe(401);
    const [count] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from public.conversations where visitor_id = $1',
        [visitor.id],
      ),
    );
    expect(count?.n).toBe(0);
  });

  it('never attaches a conversation to a visitor it was not given the session of', async () => {
    // Naming a real visitor is not enough: a staff token, a made-up one or an id are refused.
    for (const body of [
      { tenant_id: w.a.tenantId, visitor_id: w.users.visitorA },
      { tenant_id: w.a.tenantId, visitor_token: 'ownerA-but-longer-than-twenty' },
      { tenant_id: w.a.tenantId, visitor_token: 'x'.repeat(40) },
    ]) {
      const { status, body: answer } = await open('ownerA', body);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(answer.error.code).toMatch(/^(invalid_request|visitor_session_required)$/);
    }
    tokens.set('staff-token-of-owner-a', w.claims.ownerA);
    const staffAsVisitor = await open('ownerA', {
      tenant_id: w.a.tenantId,
      visitor_token: 'staff-token-of-owner-a',
    });
    expect([staffAsVisitor.status, staffAsVisitor.body.error.code]).toEqual([
      400,
      'visitor_session_required',
    ]);
  });

  it('the conversation chats through the visitor API, even where identity is enforced', async () => {
    await db.asService((sql) =>
      sql.query('update public.tenants set enforce_identity = true where id = $1', [w.a.tenantId]),
    );
    try {
      const visitor = await newVisitor();
      const { body } = await open('adminA', {
        tenant_id: w.a.tenantId,
        visitor_token: visitor.token,
      });
      const post = (token: string, conversationId: string) =>
        chat.request('/chat/messages', {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({
            conversation_id: conversationId,
            client_msg_id: crypto.randomUUID(),
            content: 'Do you ship to Canada?',
          }),
        });
      expect((await post(visitor.token, body.conversation.id)).status).toBe(202);
      // Another visitor cannot write into it; and a real unverified visitor is still refused.
      expect((await post('visitorA', body.conversation.id)).status).toBe(404);
      const refused = await post('visitorA', w.a.conversationId);
      expect(refused.status).toBe(403);
      expect((await refused.json()).error.code).toBe('identity_required');
    } finally {
      await db.asService((sql) =>
        sql.query('update public.tenants set enforce_identity = false where id = $1', [
          w.a.tenantId,
        ]),
      );
    }
  });

  it('refuses a suspended tenant, bad input, and more than the per-member rate', async () => {
    await db.asService((sql) =>
      sql.query(`update public.tenants set status = 'suspended' where id = $1`, [w.b.tenantId]),
    );
    const visitor = await newVisitor();
    const suspended = await open('ownerB', {
      tenant_id: w.b.tenantId,
      visitor_token: visitor.token,
    });
    expect([suspended.status, suspended.body.error.code]).toEqual([403, 'tenant_suspended']);
    expect((await open('ownerA', { tenant_id: 'nope', visitor_token: visitor.token })).status).toBe(
      400,
    );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await open('ownerA', { tenant_id: w.a.tenantId, visitor_token: visitor.token })).status,
      );
    }
    expect(statuses).toContain(429);
  });
});
