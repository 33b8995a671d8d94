import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { createOutboundFetch } from '../../functions/_shared/net/outbound.ts';
import { createToolsApp } from '../../functions/tools/app.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';
import { ACTORS, type Actor, createWorld, type World } from '../support/world.ts';

// The Tools page's test call and secrets, on the real schema: the tools app in-process with a real
// receiver that verifies signatures the way a tenant's workflow does (the standardwebhooks
// package), and rotate_tool_secret / tool_stats called as each actor, as the Data API would.

let local: LocalDatabase;
let db: Db;
let w: World;
let receiver: ToolReceiver;
let app: ReturnType<typeof createToolsApp>;
const logged: unknown[] = [];

class Rollback extends Error {}

async function as<T>(actor: Actor, fn: (sql: Sql) => Promise<T>, commit = true): Promise<T> {
  if (commit) return db.asUser(w.claims[actor], fn);
  let result: { value: T } | undefined;
  try {
    await db.asUser(w.claims[actor], async (sql) => {
      result = { value: await fn(sql) };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return (result as { value: T }).value;
}

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
};

async function rotate(actor: Actor, toolId: string, overlap = 3600) {
  const [row] = await as(actor, (sql) =>
    sql.query<{ secret: string; previous_secret_expires_at: Date | null }>(
      'select * from public.rotate_tool_secret($1, $2)',
      [toolId, overlap],
    ),
  );
  if (!row) throw new Error('no secret returned');
  return row;
}

async function testCall(actor: Actor | 'none', body: unknown) {
  const response = await app.request('/tools/test', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(actor === 'none' ? {} : { authorization: `Bearer ${actor}` }),
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
  receiver = await startToolReceiver();
  await db.asService((sql) =>
    sql.query(
      `update public.tenant_tools set webhook_url = $2, timeout_ms = 3000,
         parameters = '{"type":"object","properties":{"order_id":{"type":"string","pattern":"^[0-9]+$"}},"required":["order_id"],"additionalProperties":false}'
       where id = $1`,
      [w.a.tenantToolId, receiver.url('/order')],
    ),
  );
  app = createToolsApp({
    db,
    verifier: { verify: async (token) => w.claims[token as Actor] ?? null },
    fetch: createOutboundFetch({
      fetch,
      resolve: async () => ['127.0.0.1'],
      allowLoopback: true,
    }),
    limits: { perMemberPerMinute: 5, perTenantPerMinute: 100 },
    log: (message, error) => logged.push([message, error]),
  });
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await local?.close();
});

describe('tool secrets', () => {
  it('nobody reads a secret back; rotation shows the new one once', async () => {
    for (const actor of ACTORS) {
      expect(
        await codeOf(
          as(
            actor,
            (sql) =>
              sql.query('select secret from public.tenant_tools where id = $1', [w.a.tenantToolId]),
            false,
          ),
        ),
        actor,
      ).toBe('42501');
    }
    const first = await rotate('ownerA', w.a.tenantToolId, 0);
    expect(first.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(first.previous_secret_expires_at).toBeNull();
    const second = await rotate('adminA', w.a.tenantToolId);
    expect(second.secret).not.toBe(first.secret);
    expect(second.previous_secret_expires_at?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it('agents, visitors, operators and other tenants cannot rotate; nor write a secret', async () => {
    for (const actor of ['agentA', 'visitorA', 'ownerB', 'platformAdmin', 'anon'] as const) {
      expect(
        await codeOf(
          as(
            actor,
            (sql) =>
              sql.query('select * from public.rotate_tool_secret($1, 0)', [w.a.tenantToolId]),
            false,
          ),
        ),
        actor,
      ).toBe('42501');
    }
    // Choosing a secret of one's own is not rotation: the server generates every one.
    expect(
      await codeOf(
        as(
          'ownerA',
          (sql) =>
            sql.query(
              `update public.tenant_tools set secret = 'whsec_bWluZS1taW5lLW1pbmUtbWluZS0xMjM0NTY=' where id = $1`,
              [w.a.tenantToolId],
            ),
          false,
        ),
      ),
    ).toBe('42501');
    expect(
      await codeOf(
        as(
          'ownerA',
          (sql) => sql.query('select * from public.rotate_tool_secret($1, -1)', [w.a.tenantToolId]),
          false,
        ),
      ),
    ).toBe('22023');
  });
});

describe('POST /tools/test', () => {
  it('sends the signed request, verifiable with either secret during the overlap', async () => {
    const before = await rotate('ownerA', w.a.tenantToolId, 0);
    const after = await rotate('ownerA', w.a.tenantToolId, 600);
    // A workflow still holding the old secret, and one already on the new.
    receiver.setSecrets([before.secret]);
    receiver.on('/order', { status: 200, body: { order: '1042', status: 'shipped' } });
    const { status, body } = await testCall('adminA', {
      tool_id: w.a.tenantToolId,
      arguments: { order_id: '1042' },
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      status: 200,
      response: { order: '1042', status: 'shipped' },
      signatures: 2,
      error: null,
    });
    expect(body.duration_ms).toBeGreaterThanOrEqual(0);
    const delivery = receiver.deliveries('/order').at(-1);
    expect(delivery?.verified).toBe(true);
    expect(delivery?.body).toMatchObject({
      tool: 'order_status',
      arguments: { order_id: '1042' },
      test: true,
      conversation: { id: null, tenant_id: w.a.tenantId, contact: null },
    });
    // What the page shows is what went on the wire; both secrets verify it with the library.
    expect(body.request.body).toBe(delivery?.rawBody);
    expect(body.request.headers['webhook-signature'].split(' ')).toHaveLength(2);
    for (const secret of [before.secret, after.secret]) {
      expect(new Webhook(secret).verify(delivery?.rawBody ?? '', body.request.headers)).toEqual(
        delivery?.body,
      );
    }
    expect(JSON.stringify(body)).not.toContain(after.secret);
    expect(JSON.stringify(body)).not.toContain(before.secret);
    // Logged as a test, readable by members; its answer by managers only.
    const [row] = await as('agentA', (sql) =>
      sql.query<{ test: boolean; success: boolean; conversation_id: string | null }>(
        'select test, success, conversation_id from public.tool_executions where id = $1',
        [body.execution_id],
      ),
    );
    expect(row).toEqual({ test: true, success: true, conversation_id: null });
  });

  it('after the overlap only the new secret signs', async () => {
    const current = await rotate('ownerA', w.a.tenantToolId, 0);
    receiver.setSecrets([current.secret]);
    const { body } = await testCall('ownerA', {
      tool_id: w.a.tenantToolId,
      arguments: { order_id: '7' },
    });
    expect(body).toMatchObject({ ok: true, signatures: 1 });
  });

  it('shows a failing answer in words, and refuses arguments the schema refuses', async () => {
    receiver.on('/order', { status: 503, body: { error: 'down for maintenance' } });
    const failed = await testCall('ownerA', {
      tool_id: w.a.tenantToolId,
      arguments: { order_id: '8' },
    });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({
      ok: false,
      status: 503,
      error: 'HTTP 503',
      response: { error: 'down for maintenance' },
    });
    const before = receiver.deliveries('/order').length;
    const invalid = await testCall('ownerA', {
      tool_id: w.a.tenantToolId,
      arguments: { order_id: 'abc', extra: 1 },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.code).toBe('invalid_arguments');
    expect(invalid.body.error.message).toContain('order_id: must match the pattern');
    expect(invalid.body.error.message).toContain('extra: is not an accepted argument');
    expect(receiver.deliveries('/order')).toHaveLength(before);
  });

  it('is refused to agents, operators, visitors, other tenants and strangers', async () => {
    const before = receiver.deliveries().length;
    for (const actor of ['agentA', 'ownerB', 'platformAdmin'] as const) {
      const { status, body } = await testCall(actor, {
        tool_id: w.a.tenantToolId,
        arguments: { order_id: '1' },
      });
      expect([status, body.error.code], actor).toEqual([404, 'tool_not_found']);
    }
    expect((await testCall('visitorA', { tool_id: w.a.tenantToolId, arguments: {} })).status).toBe(
      403,
    );
    expect((await testCall('none', { tool_id: w.a.tenantToolId, arguments: {} })).status).toBe(401);
    expect(receiver.deliveries()).toHaveLength(before);
  });

  it('answers bad input with a 400 in the error shape', async () => {
    for (const body of ['{', { tool_id: 'nope', arguments: {} }, { tool_id: w.a.tenantToolId }]) {
      const result = await testCall('ownerA', body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(result.body.error.code).toMatch(/^invalid_/);
    }
  });

  it('goes through the outbound guard: a private address is refused, not called', async () => {
    await db.asService((sql) =>
      sql.query(
        `insert into public.tenant_tools (tenant_id, name, webhook_url) values ($1, 'metadata', 'http://metadata.example.com/latest')`,
        [w.a.tenantId],
      ),
    );
    const guarded = createToolsApp({
      db,
      verifier: { verify: async (token) => w.claims[token as Actor] ?? null },
      fetch: createOutboundFetch({ fetch, resolve: async () => ['169.254.169.254'] }),
      limits: { perMemberPerMinute: 100, perTenantPerMinute: 100 },
      log: () => {},
    });
    const [tool] = await db.asService((sql) =>
      sql.query<{ id: string }>(`select id from public.tenant_tools where name = 'metadata'`),
    );
    const response = await guarded.request('/tools/test', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ownerA' },
      body: JSON.stringify({ tool_id: tool?.id, arguments: {} }),
    });
    const body = await response.json();
    expect(body.ok).toBe(false);
    expect(body.error).toMatch(/link-local|not a public|refused/i);
  });

  it('is rate-limited per member', async () => {
    receiver.on('/order', { status: 200, body: { ok: true } });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await testCall('adminA', { tool_id: w.a.tenantToolId, arguments: { order_id: '1' } }))
          .status,
      );
    }
    expect(statuses).toContain(429);
    expect(logged).toEqual([]);
  });
});

describe('tool_stats', () => {
  it('success rate and p50/p95 per tool, for the tenant whose log it is', async () => {
    await db.asService((sql) =>
      sql.query(
        `insert into public.tool_executions (tenant_id, tenant_tool_id, tool_name, call_id, success, duration_ms, attempts)
         select $1::uuid, $2::uuid, 'order_status', 'stat-' || g, g % 4 <> 0, g * 10, 1 from generate_series(1, 100) g
         union all
         -- Refused before sending: a failure, but no latency.
         select $1, $2, 'order_status', 'unsent-' || g, false, 0, 0 from generate_series(1, 50) g`,
        [w.a.tenantId, w.a.tenantToolId],
      ),
    );
    const stats = await as('agentA', (sql) =>
      sql.query<{
        tenant_tool_id: string;
        calls: number;
        success_rate: string;
        p50_ms: number;
        p95_ms: number;
        test_calls: number;
      }>(`select * from public.tool_stats($1, now() - interval '1 hour')`, [w.a.tenantId]),
    );
    const order = stats.find((s) => s.tenant_tool_id === w.a.tenantToolId);
    expect(order?.calls).toBeGreaterThan(100);
    expect(order?.calls).toBeGreaterThan(150);
    expect(Number(order?.success_rate)).toBeGreaterThan(0.4);
    expect(Number(order?.success_rate)).toBeLessThan(0.6);
    expect(order?.p50_ms).toBeGreaterThan(300);
    expect(order?.p95_ms).toBeGreaterThan(order?.p50_ms ?? 0);
    expect(order?.test_calls).toBeGreaterThan(0);
    // Another tenant's staff count nothing of A's.
    expect(
      await as('ownerB', (sql) =>
        sql.query(`select * from public.tool_stats($1, now() - interval '1 hour')`, [w.a.tenantId]),
      ),
    ).toEqual([]);
  });
});
