import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { recordDelivery } from '../../functions/_shared/webhooks/dedupe.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';

// Receiver-side dedupe of the signed webhook-id against the real migrations.

let local: LocalDatabase;
let db: Db;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
});
afterAll(async () => {
  await local?.close();
});

async function newTenant(slug: string): Promise<string> {
  const { rows } = await local.pg.query<{ id: string }>(
    `insert into public.tenants (name, slug) values ($1, $1) returning id`,
    [slug],
  );
  return (rows[0] as { id: string }).id;
}

const receipts = (id: string) =>
  local.pg
    .query<{ n: number }>(
      'select count(*)::int as n from public.webhook_receipts where delivery_id = $1',
      [id],
    )
    .then((r) => r.rows[0]?.n);

describe('recordDelivery', () => {
  it('is true the first time a webhook-id arrives and false for every replay', async () => {
    // Senders choose their ids: n8n's are not UUIDs.
    const id = `msg_${crypto.randomUUID().slice(0, 12)}`;
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', null))).toBe(true);
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', null))).toBe(false);
    expect(await receipts(id)).toBe(1);
  });

  it('one tenant cannot use up an id another tenant will send', async () => {
    const a = await newTenant('dedupe-a');
    const b = await newTenant('dedupe-b');
    const id = 'msg_predictable_1';
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', a))).toBe(true);
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', b))).toBe(true);
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', b))).toBe(false);
    expect(await db.asService((sql) => recordDelivery(sql, id, 'other-endpoint', b))).toBe(true);
  });

  it('rolls back with the work it guards, so the sender retry is processed', async () => {
    const id = crypto.randomUUID();
    await expect(
      db.asService(async (sql) => {
        expect(await recordDelivery(sql, id, 'n8n-callback', null)).toBe(true);
        throw new Error('the action failed');
      }),
    ).rejects.toThrow('the action failed');
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', null))).toBe(true);
  });

  it('keeps the tenant, and goes when the tenant is deleted', async () => {
    const tenantId = await newTenant('dedupe-tenant');
    const id = crypto.randomUUID();
    expect(await db.asService((sql) => recordDelivery(sql, id, 'n8n-callback', tenantId))).toBe(
      true,
    );
    const { rows } = await local.pg.query(
      'select source, tenant_id from public.webhook_receipts where delivery_id = $1',
      [id],
    );
    expect(rows).toEqual([{ source: 'n8n-callback', tenant_id: tenantId }]);
    await local.pg.query('delete from public.tenants where id = $1', [tenantId]);
    expect(await receipts(id)).toBe(0);
  });
});

describe('webhook_receipts', () => {
  const visitor = {
    sub: '00000000-0000-4000-8000-00000000abcd',
    role: 'authenticated',
    is_anonymous: true,
  };

  it('is closed to the API roles: no rows, no writes, no function', async () => {
    await db.asService((sql) => recordDelivery(sql, crypto.randomUUID(), 'n8n-callback', null));
    for (const claims of [{ role: 'anon' }, visitor]) {
      await expect(
        db.asUser(claims, (sql) => sql.query('select * from public.webhook_receipts')),
      ).rejects.toThrow(/permission denied/);
      await expect(
        db.asUser(claims, (sql) =>
          sql.query('insert into public.webhook_receipts (delivery_id, source) values ($1, $2)', [
            crypto.randomUUID(),
            'forged',
          ]),
        ),
      ).rejects.toThrow(/permission denied/);
      await expect(
        db.asUser(claims, (sql) => recordDelivery(sql, crypto.randomUUID(), 'forged', null)),
      ).rejects.toThrow(/permission denied/);
    }
  });

  it('has RLS on', async () => {
    const { rows } = await local.pg.query<{ relrowsecurity: boolean }>(
      `select relrowsecurity from pg_class where oid = 'public.webhook_receipts'::regclass`,
    );
    expect(rows).toEqual([{ relrowsecurity: true }]);
  });

  it('prune_webhook_receipts deletes receipts older than a day, hourly through pg_cron', async () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const old = crypto.randomUUID();
    const recent = crypto.randomUUID();
    await local.pg.query(
      `insert into public.webhook_receipts (delivery_id, source, received_at) values
         ($1, 'test', $3::timestamptz - interval '25 hours'),
         ($2, 'test', $3::timestamptz - interval '23 hours')`,
      [old, recent, now],
    );
    const [pruned] = await db.asService((sql) =>
      sql.query<{ n: number }>('select private.prune_webhook_receipts($1) as n', [now]),
    );
    expect(pruned?.n).toBeGreaterThanOrEqual(1);
    expect(await receipts(old)).toBe(0);
    expect(await receipts(recent)).toBe(1);

    const { rows } = await local.pg.query(
      `select schedule, command, active from cron.job where jobname = 'parley-webhook-receipts'`,
    );
    expect(rows).toEqual([
      { schedule: '23 * * * *', command: 'select private.prune_webhook_receipts()', active: true },
    ]);
  });
});
