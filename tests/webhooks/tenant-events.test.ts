import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { createJobRunner } from '../../functions/_shared/jobs/runner.ts';
import { createOutboundFetch } from '../../functions/_shared/net/outbound.ts';
import {
  createTenantWebhookHandler,
  TENANT_WEBHOOK_JOB,
} from '../../functions/_shared/webhooks/tenant-events.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// Outgoing tenant webhooks end to end: the database writes a delivery per event and endpoint, the
// job posts it through the outbound guard, signed with the endpoint's secret, and a receiver that
// verifies with the standardwebhooks package gets it. Retries and redeliveries keep the webhook-id.

let local: LocalDatabase;
let db: Db;
let w: World;
let receiver: ToolReceiver;
let endpointId: string;
const secret = `whsec_${randomBytes(32).toString('base64')}`;

const service = <T>(fn: (sql: Sql) => Promise<T>) => db.asService(fn);
const as = <T>(actor: Actor, fn: (sql: Sql) => Promise<T>) => db.asUser(w.claims[actor], fn);
const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

function runner(allowLoopback = true) {
  const fetch = createOutboundFetch({
    fetch: globalThis.fetch,
    resolve: async () => ['127.0.0.1'],
    allowLoopback,
  });
  return createJobRunner({
    db,
    workerId: 'webhooks-test',
    log: () => {},
    handlers: { [TENANT_WEBHOOK_JOB]: createTenantWebhookHandler({ db, fetch }) },
  });
}

/** Works every due delivery job, then makes the ones waiting out a backoff due. */
async function drain(allowLoopback = true) {
  const result = await runner(allowLoopback).drain({ kinds: [TENANT_WEBHOOK_JOB] });
  return result;
}

const makeRetriesDue = () =>
  service((sql) =>
    sql.query(`update public.jobs set run_at = now() where kind = $1 and status = 'queued'`, [
      TENANT_WEBHOOK_JOB,
    ]),
  );

interface Delivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  response_code: number | null;
  latency_ms: number | null;
  redeliveries: number;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
}

const deliveries = () =>
  service((sql) =>
    sql.query<Delivery>(
      `select id, event, status, attempts, response_code, latency_ms, redeliveries, payload
         from public.webhook_deliveries where endpoint_id = $1 order by created_at, event`,
      [endpointId],
    ),
  );

/** What a conversation from start to rating sends, with one message. */
const LIFECYCLE = [
  'conversation.assigned',
  'conversation.created',
  'conversation.handoff',
  'conversation.resolved',
  'csat.submitted',
  'message.created',
];

/** Verified here with the package itself, as a tenant's receiver would. */
function verifiedWithPackage(rawBody: string, headers: Record<string, unknown>): unknown {
  return new Webhook(secret).verify(rawBody, {
    'webhook-id': String(headers['webhook-id']),
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature']),
  });
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  receiver = await startToolReceiver({ secret });
  endpointId = await service(async (sql) => {
    // The world's own endpoint points nowhere; only the receiver is subscribed from here on.
    await sql.query('update public.webhook_endpoints set enabled = false');
    await sql.query(`delete from public.jobs where kind = $1`, [TENANT_WEBHOOK_JOB]);
    const [row] = await sql.query<{ id: string }>(
      `insert into public.webhook_endpoints (tenant_id, url, secret) values ($1, $2, $3) returning id`,
      [w.a.tenantId, receiver.url('/hooks'), secret],
    );
    return row?.id as string;
  });
}, 60_000);

afterAll(async () => {
  await receiver?.close();
  await local?.close();
});

beforeEach(async () => {
  receiver.on('/hooks', 200);
  await service((sql) =>
    sql.query('delete from public.webhook_deliveries where endpoint_id = $1', [endpointId]),
  );
});

describe('conversation events', () => {
  it('a conversation from creation to CSAT sends each event once, signed, with its webhook-id', async () => {
    const before = receiver.deliveries('/hooks').length;
    const conversationId = await service(async (sql) => {
      const [c] = await sql.query<{ id: string }>(
        `insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id`,
        [w.a.tenantId, w.users.visitorA],
      );
      await sql.query(
        `insert into public.messages (conversation_id, role, content) values ($1, 'user', 'Where are my boots?')`,
        [c?.id],
      );
      // Internal notes never leave Parley.
      await sql.query(
        `insert into public.messages (conversation_id, role, content, is_private) values ($1, 'agent', 'VIP', true)`,
        [c?.id],
      );
      await sql.query(`update public.conversations set status = 'handoff' where id = $1`, [c?.id]);
      return c?.id as string;
    });
    await as('adminA', (sql) =>
      sql.query('select public.assign_conversation($1, $2)', [conversationId, w.users.agentA]),
    );
    await as('agentA', (sql) =>
      sql.query('select public.resolve_conversation($1)', [conversationId]),
    );
    await as('visitorA', (sql) =>
      sql.query(`select public.rate_conversation($1, 5::smallint, 'Quick and kind')`, [
        conversationId,
      ]),
    );

    await drain();
    const rows = await deliveries();
    expect(rows.map((d) => d.event).sort()).toEqual([...LIFECYCLE].sort());
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'succeeded', attempts: 1, response_code: 200 });
      expect(row.latency_ms).toBeGreaterThanOrEqual(0);
    }

    const received = receiver.deliveries('/hooks').slice(before);
    expect(received).toHaveLength(rows.length);
    for (const delivery of received) {
      expect(delivery.verified).toBe(true);
      const body = verifiedWithPackage(delivery.rawBody, delivery.headers) as Delivery['payload'];
      const row = rows.find((d) => d.id === delivery.deliveryId);
      expect(row?.event).toBe(body.type);
      expect(body.data).toEqual(row?.payload.data);
    }
    const byType = Object.fromEntries(
      received.map((d) => [
        (d.body as Delivery['payload']).type,
        (d.body as Delivery['payload']).data,
      ]),
    );
    expect(byType['message.created']).toMatchObject({
      message: { conversation_id: conversationId, role: 'user', content: 'Where are my boots?' },
    });
    expect(byType['conversation.assigned']).toMatchObject({
      conversation: { id: conversationId, assignee_id: w.users.agentA },
    });
    expect(byType['csat.submitted']).toMatchObject({
      conversation: { id: conversationId },
      rating: 5,
      comment: 'Quick and kind',
    });
    // Visitors' auth ids stay inside Parley.
    expect(JSON.stringify(byType)).not.toContain(w.users.visitorA);
  });

  it('an endpoint gets only the events it subscribed to', async () => {
    await service((sql) =>
      sql.query(`update public.webhook_endpoints set events = '{csat.submitted}' where id = $1`, [
        endpointId,
      ]),
    );
    try {
      await service(async (sql) => {
        const [c] = await sql.query<{ id: string }>(
          `insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id`,
          [w.a.tenantId, w.users.visitorA],
        );
        await sql.query(`update public.conversations set csat = 2 where id = $1`, [c?.id]);
      });
      expect((await deliveries()).map((d) => d.event)).toEqual(['csat.submitted']);
    } finally {
      await service((sql) =>
        sql.query(`update public.webhook_endpoints set events = '{*}' where id = $1`, [endpointId]),
      );
    }
  });

  it("a Playground conversation sends nothing, a visitor's beside it does", async () => {
    const before = receiver.deliveries('/hooks').length;
    const run = (playgroundBy: string | null) =>
      service(async (sql) => {
        const [c] = await sql.query<{ id: string }>(
          `insert into public.conversations (tenant_id, visitor_id, playground_by)
           values ($1, $2, $3) returning id`,
          [w.a.tenantId, w.users.visitorA, playgroundBy],
        );
        await sql.query(
          `insert into public.messages (conversation_id, role, content)
           values ($1, 'user', 'Does the bot know returns?'), ($1, 'assistant', 'It does.')`,
          [c?.id],
        );
        await sql.query(
          `update public.conversations set status = 'handoff', assignee_id = $2 where id = $1`,
          [c?.id, w.users.agentA],
        );
        await sql.query(
          `update public.conversations set status = 'resolved', csat = 4 where id = $1`,
          [c?.id],
        );
        return c?.id as string;
      });

    await run(w.users.ownerA);
    await drain();
    expect(await deliveries()).toEqual([]);
    expect(receiver.deliveries('/hooks')).toHaveLength(before);

    const real = await run(null);
    await drain();
    const rows = await deliveries();
    // The visitor's message and the bot's answer.
    expect(rows.map((d) => d.event).sort()).toEqual([...LIFECYCLE, 'message.created'].sort());
    for (const row of rows) {
      const data = row.payload.data as {
        conversation?: { id: string };
        message?: { conversation_id: string };
      };
      expect(data.conversation?.id ?? data.message?.conversation_id).toBe(real);
    }
    expect(receiver.deliveries('/hooks')).toHaveLength(before + rows.length);
  });

  it('billing notices go out through the same hook', async () => {
    await service((sql) =>
      sql.query(
        `select private.emit_tenant_event($1, 'billing.quota_warning', '{"percent": 80}')`,
        [w.a.tenantId],
      ),
    );
    await drain();
    const [row] = await deliveries();
    expect(row).toMatchObject({ event: 'billing.quota_warning', status: 'succeeded' });
    expect(row?.payload.data).toEqual({ percent: 80 });
  });
});

describe('retries and redelivery', () => {
  const emit = () =>
    service((sql) =>
      sql.query(`select private.emit_tenant_event($1, 'conversation.resolved', '{"n": 1}')`, [
        w.a.tenantId,
      ]),
    );

  it('a 500 is retried after backoff with the same webhook-id', async () => {
    receiver.on('/hooks', [500, 200]);
    const before = receiver.deliveries('/hooks').length;
    await emit();
    await drain();
    let [row] = await deliveries();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, response_code: 500 });
    const [job] = await service((sql) =>
      sql.query<{ status: string; waits: boolean }>(
        `select status, run_at > now() as waits from public.jobs where payload->>'delivery_id' = $1`,
        [row?.id],
      ),
    );
    expect(job).toEqual({ status: 'queued', waits: true });

    await makeRetriesDue();
    await drain();
    [row] = await deliveries();
    expect(row).toMatchObject({ status: 'succeeded', attempts: 2, response_code: 200 });
    const received = receiver.deliveries('/hooks').slice(before);
    expect(received.map((d) => d.deliveryId)).toEqual([row?.id, row?.id]);
    expect(received[1]?.repeated).toBe(true);
    expect(received.every((d) => d.verified)).toBe(true);
  });

  it('owners and admins redeliver with the same webhook-id; nobody else can', async () => {
    await emit();
    await drain();
    const [row] = await deliveries();
    const before = receiver.deliveries('/hooks').length;

    for (const actor of ['agentA', 'ownerB', 'visitorA'] as const) {
      const code = await as(actor, (sql) =>
        sql.query('select public.redeliver_webhook($1)', [row?.id]),
      ).then(
        () => undefined,
        (error) => codeOf(error),
      );
      expect(code, actor).toBe('42501');
    }
    const anon = await db
      .asUser(w.claims.anon, (sql) => sql.query('select public.redeliver_webhook($1)', [row?.id]))
      .then(
        () => undefined,
        (error) => codeOf(error),
      );
    expect(anon).toBe('42501');

    await as('adminA', (sql) => sql.query('select public.redeliver_webhook($1)', [row?.id]));
    await drain();
    await as('ownerA', (sql) => sql.query('select public.redeliver_webhook($1)', [row?.id]));
    await drain();
    const [after] = await deliveries();
    expect(after).toMatchObject({ status: 'succeeded', attempts: 3, redeliveries: 2 });
    expect(
      receiver
        .deliveries('/hooks')
        .slice(before)
        .map((d) => d.deliveryId),
    ).toEqual([row?.id, row?.id]);
  });

  it('a destination the outbound guard refuses fails at once, without retries', async () => {
    await emit();
    await drain(false);
    const [row] = await deliveries();
    expect(row).toMatchObject({ status: 'failed', attempts: 1, response_code: null });
    const jobs = await service((sql) =>
      sql.query<{ status: string }>(
        `select status from public.jobs where payload->>'delivery_id' = $1`,
        [row?.id],
      ),
    );
    expect(jobs).toEqual([{ status: 'succeeded' }]);
  });
});

describe('the delivery log', () => {
  it('owners, admins and platform admins of the tenant read it; agents and other tenants do not', async () => {
    await service((sql) =>
      sql.query(`select private.emit_tenant_event($1, 'conversation.created', '{}')`, [
        w.a.tenantId,
      ]),
    );
    const visible = async (actor: Actor) =>
      (
        await as(actor, (sql) =>
          sql.query('select id from public.webhook_deliveries where endpoint_id = $1', [
            endpointId,
          ]),
        )
      ).length;
    expect(await visible('ownerA')).toBe(1);
    expect(await visible('adminA')).toBe(1);
    expect(await visible('platformAdmin')).toBe(1);
    expect(await visible('agentA')).toBe(0);
    expect(await visible('ownerB')).toBe(0);
    expect(await visible('visitorA')).toBe(0);
    const code = await as('adminA', (sql) =>
      sql.query(`update public.webhook_deliveries set status = 'succeeded'`),
    ).then(
      () => undefined,
      (error) => codeOf(error),
    );
    expect(code).toBe('42501');
  });
});
