import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The WhatsApp connection settings are write-only for every API role (column privileges), and a
// delivery status never moves backwards whatever order Meta's webhooks arrive in.

let local: LocalDatabase;
let db: Db;
let w: World;
let connectionId: string;

const SECRET_COLUMNS = [
  'phone_number_id',
  'business_account_id',
  'access_token',
  'app_secret',
  'verify_token',
];

class Rollback extends Error {}

async function asActor<T>(actor: Actor, fn: (sql: Sql) => Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  try {
    await db.asUser(w.claims[actor], async (sql) => {
      result = { value: await fn(sql) };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  if (!result) throw new Error('no result');
  return result.value;
}

async function attempt(actor: Actor, text: string, params: unknown[]) {
  return asActor(actor, async (sql) => {
    try {
      return { rows: await sql.query<Record<string, unknown>>(text, params) };
    } catch (error) {
      return { code: (error as { code?: string }).code };
    }
  });
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  const [row] = await db.asUser(w.claims.ownerA, (sql) =>
    sql.query<{ id: string }>(
      `insert into public.whatsapp_connections
         (tenant_id, phone_number_id, business_account_id, access_token, app_secret, verify_token)
       values ($1, '1000001', '2000002', 'EAAG-token', 'app-secret', 'verify-token-1')
       returning id`,
      [w.a.tenantId],
    ),
  );
  if (!row) throw new Error('no connection');
  connectionId = row.id;
}, 60_000);
afterAll(async () => {
  await db?.close();
  await local?.close();
});

describe('connection settings', () => {
  it('owners and admins write them and read back only that they exist', async () => {
    for (const actor of ['ownerA', 'adminA'] as const) {
      const visible = await attempt(
        actor,
        'select id, tenant_id, label, enabled from public.whatsapp_connections where id = $1',
        [connectionId],
      );
      expect(visible.rows).toHaveLength(1);
      const updated = await attempt(
        actor,
        `update public.whatsapp_connections set access_token = 'EAAG-new', app_secret = 'new'
          where id = $1 returning id`,
        [connectionId],
      );
      expect(updated.rows).toHaveLength(1);
    }
  });

  it('no API role reads a setting, not even its owner, and `*` is refused', async () => {
    for (const actor of [
      'anon',
      'visitorA',
      'agentA',
      'adminA',
      'ownerA',
      'platformAdmin',
    ] as const) {
      for (const column of SECRET_COLUMNS) {
        const read = await attempt(
          actor,
          `select ${column} from public.whatsapp_connections where id = $1`,
          [connectionId],
        );
        expect(read, `${actor} reads ${column}`).toEqual({ code: '42501' });
      }
      expect(await attempt(actor, 'select * from public.whatsapp_connections', [])).toEqual({
        code: '42501',
      });
      // Not through returning either.
      const returning = await attempt(
        actor,
        `update public.whatsapp_connections set label = label where id = $1 returning access_token`,
        [connectionId],
      );
      expect(returning).toEqual({ code: '42501' });
    }
  });

  it('agents, visitors and other tenants see no connection and cannot write one', async () => {
    for (const actor of ['agentA', 'visitorA', 'ownerB'] as const) {
      const rows = await attempt(
        actor,
        'select id from public.whatsapp_connections where id = $1',
        [connectionId],
      );
      expect(rows.rows ?? []).toHaveLength(0);
      const insert = await attempt(
        actor,
        `insert into public.whatsapp_connections
           (tenant_id, phone_number_id, access_token, app_secret, verify_token)
         values ($1, '1000009', 't', 's', 'verify-token-9')`,
        [w.a.tenantId],
      );
      expect(insert).toEqual({ code: '42501' });
    }
  });

  it('the wamid and thread tables are the service’s alone', async () => {
    for (const table of ['private.whatsapp_messages', 'private.whatsapp_threads']) {
      const read = await attempt('ownerA', `select 1 from ${table}`, []);
      expect(read).toEqual({ code: '42501' });
    }
  });
});

describe('delivery status', () => {
  async function statusAfter(sequence: string[]) {
    return db.asService(async (sql) => {
      const [message] = await sql.query<{ id: string }>(
        `insert into public.messages (conversation_id, role, content, status)
         values ($1, 'assistant', 'hi', 'pending') returning id`,
        [w.a.conversationId],
      );
      const wamid = `wamid.${crypto.randomUUID()}`;
      for (const [i, status] of sequence.entries()) {
        // The send's own record comes first or last: Meta's webhook may beat the send's commit.
        await sql.query(
          `select private.apply_whatsapp_status($1, $2, $3, $4, '[]'::jsonb, now(), $5)`,
          [
            wamid,
            w.a.tenantId,
            connectionId,
            status,
            i === sequence.length - 1 ? message?.id : null,
          ],
        );
      }
      const [row] = await sql.query<{ status: string }>(
        'select status from public.messages where id = $1',
        [message?.id],
      );
      return row?.status;
    });
  }

  it('only moves forward: read is never undone by a late delivered or sent', async () => {
    expect(await statusAfter(['read', 'delivered', 'sent'])).toBe('read');
    expect(await statusAfter(['delivered', 'sent'])).toBe('delivered');
    expect(await statusAfter(['sent', 'delivered', 'read'])).toBe('read');
    expect(await statusAfter(['failed', 'sent'])).toBe('failed');
    expect(await statusAfter(['read', 'failed'])).toBe('read');
    expect(await statusAfter(['sent', 'sent', 'sent'])).toBe('sent');
  });
});
