import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, JwtClaims, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createUser, userClaims } from '../support/world.ts';

// The quotas in SQL: monthly counters spent by one statement that cannot pass the limit, counts
// of what exists checked on insert, notices at 80 % and 100 %, usage readable by owners, and the
// plan's retention applied by the daily job.

let local: LocalDatabase;
let db: Db;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
});
afterAll(() => local?.close());

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

async function one<T>(sql: Sql, text: string, params: unknown[] = []): Promise<T> {
  const [row] = await sql.query<T>(text, params);
  if (!row) throw new Error(`no row from ${text}`);
  return row;
}

/** A tenant on a plan of its own with these limits, its owner and an agent. */
async function tenantWith(limits: Record<string, number>) {
  return db.asService(async (sql) => {
    const plan = `test-${crypto.randomUUID().slice(0, 8)}`;
    await sql.query('insert into public.plans (id, name, limits) values ($1, $1, $2::jsonb)', [
      plan,
      limits,
    ]);
    const { id } = await one<{ id: string }>(
      sql,
      `insert into public.tenants (name, slug, plan_id) values ($1, $1, $2) returning id`,
      [plan, plan],
    );
    const owner = await createUser(sql);
    const agent = await createUser(sql);
    await sql.query(
      `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'owner'), ($1, $3, 'agent')`,
      [id, owner, agent],
    );
    return { id, plan, owner: userClaims(owner), agent: userClaims(agent) };
  });
}

const spend = (tenant: string, metric: string, ref: string | null = null, amount = 1) =>
  db.asService(async (sql) => {
    const row = await one<{ ok: boolean }>(
      sql,
      'select private.spend_quota($1, $2, $3, $4) as ok',
      [tenant, metric, amount, ref],
    );
    return row.ok;
  });

const used = (tenant: string, metric: string) =>
  db.asService(async (sql) => {
    const [row] = await sql.query<{ used: number }>(
      `select used from public.usage_counters where tenant_id = $1 and metric = $2
          and period_start = date_trunc('month', now() at time zone 'utc')::date`,
      [tenant, metric],
    );
    return row?.used ?? 0;
  });

const notices = (tenant: string) =>
  db.asService((sql) =>
    sql.query<{ kind: string; data: Record<string, unknown> }>(
      'select kind, data from public.tenant_notices where tenant_id = $1 order by created_at, kind',
      [tenant],
    ),
  );

describe('monthly quotas', () => {
  it('spends up to the limit exactly, then refuses without spending', async () => {
    const t = await tenantWith({ bot_replies_per_month: 5 });
    for (let i = 0; i < 5; i++) expect(await spend(t.id, 'bot_replies_per_month')).toBe(true);
    expect(await used(t.id, 'bot_replies_per_month')).toBe(5);
    expect(await spend(t.id, 'bot_replies_per_month')).toBe(false);
    expect(await spend(t.id, 'bot_replies_per_month', null, 3)).toBe(false);
    expect(await used(t.id, 'bot_replies_per_month')).toBe(5);
  });

  it('spends once per ref, however often it is asked', async () => {
    const t = await tenantWith({ bot_replies_per_month: 3 });
    for (let i = 0; i < 4; i++)
      expect(await spend(t.id, 'bot_replies_per_month', 'msg-1')).toBe(true);
    expect(await used(t.id, 'bot_replies_per_month')).toBe(1);
    expect(await spend(t.id, 'bot_replies_per_month', 'msg-2')).toBe(true);
    expect(await spend(t.id, 'bot_replies_per_month', 'msg-3')).toBe(true);
    // Refused: the ref is not recorded, so it can be spent later (a new month, a bigger plan).
    expect(await spend(t.id, 'bot_replies_per_month', 'msg-4')).toBe(false);
    await db.asService((sql) =>
      sql.query(`update public.plans set limits = '{"bot_replies_per_month": 4}' where id = $1`, [
        t.plan,
      ]),
    );
    expect(await spend(t.id, 'bot_replies_per_month', 'msg-4')).toBe(true);
    expect(await used(t.id, 'bot_replies_per_month')).toBe(4);
  });

  it('50 spenders racing for the last unit: exactly one gets it', async () => {
    const t = await tenantWith({ bot_replies_per_month: 10 });
    for (let i = 0; i < 9; i++) await spend(t.id, 'bot_replies_per_month', `early-${i}`);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => spend(t.id, 'bot_replies_per_month', `race-${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await used(t.id, 'bot_replies_per_month')).toBe(10);
  });

  it('tells the owners once at 80 % and once at 100 % per quota and period', async () => {
    const t = await tenantWith({ conversations_per_month: 5 });
    for (let i = 0; i < 3; i++) await spend(t.id, 'conversations_per_month');
    expect(await notices(t.id)).toEqual([]);
    await spend(t.id, 'conversations_per_month'); // 4 of 5
    expect((await notices(t.id)).map((n) => n.kind)).toEqual(['quota_warning']);
    await spend(t.id, 'conversations_per_month'); // 5 of 5
    await spend(t.id, 'conversations_per_month'); // refused
    await spend(t.id, 'conversations_per_month'); // refused
    const all = await notices(t.id);
    expect(all.map((n) => n.kind)).toEqual(['quota_warning', 'quota_reached']);
    expect(all[1]?.data).toMatchObject({ metric: 'conversations_per_month', used: 5, limit: 5 });
    // Owners read them through RLS; agents do not.
    const asOwner = await db.asUser(t.owner, (sql) =>
      sql.query('select kind from public.tenant_notices where tenant_id = $1', [t.id]),
    );
    expect(asOwner).toHaveLength(2);
    const asAgent = await db.asUser(t.agent, (sql) =>
      sql.query('select kind from public.tenant_notices where tenant_id = $1', [t.id]),
    );
    expect(asAgent).toEqual([]);
  });

  it('counts a conversation when it starts, and lets the bot count it later if it could not', async () => {
    const t = await tenantWith({ conversations_per_month: 1, bot_replies_per_month: 10 });
    const [first, second] = await db.asService(async (sql) => {
      const visitor = await createUser(sql, { anonymous: true });
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        const row = await one<{ id: string }>(
          sql,
          'insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id',
          [t.id, visitor],
        );
        ids.push(row.id);
      }
      return ids;
    });
    expect(await used(t.id, 'conversations_per_month')).toBe(1);
    const reserve = (conversation: string) =>
      db.asService(async (sql) => {
        const row = await one<{ refusal: string | null }>(
          sql,
          'select private.reserve_bot_reply($1, $2, gen_random_uuid()) as refusal',
          [t.id, conversation],
        );
        return row.refusal;
      });
    expect(await reserve(first as string)).toBeNull();
    expect(await reserve(second as string)).toBe('conversations_per_month');
    expect(await used(t.id, 'bot_replies_per_month')).toBe(1);
    await db.asService((sql) =>
      sql.query(`update public.tenants set status = 'suspended' where id = $1`, [t.id]),
    );
    expect(await reserve(first as string)).toBe('tenant_suspended');
  });

  it('crawl pages are granted up to what is left', async () => {
    const t = await tenantWith({ crawl_pages: 10 });
    const crawl = (pages: number) =>
      db.asService(async (sql) => {
        const row = await one<{ n: number }>(sql, 'select private.spend_crawl_pages($1, $2) as n', [
          t.id,
          pages,
        ]);
        return row.n;
      });
    expect(await crawl(6)).toBe(6);
    expect(await crawl(6)).toBe(4);
    expect(await crawl(1)).toBe(0);
    expect(await used(t.id, 'crawl_pages')).toBe(10);
  });
});

describe('what may exist at once', () => {
  it('refuses the seat, tool or document past the limit when added through the API', async () => {
    const t = await tenantWith({ seats: 3, tools: 1, documents: 1 });
    const newcomer = await db.asService((sql) => createUser(sql));
    const another = await db.asService((sql) => createUser(sql));
    const asOwner = <T>(fn: (sql: Sql) => Promise<T>) => db.asUser(t.owner, fn);
    await asOwner((sql) =>
      sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
        [t.id, newcomer],
      ),
    );
    const refused = async (fn: (sql: Sql) => Promise<unknown>) => {
      try {
        await asOwner(fn);
        return null;
      } catch (error) {
        return { code: codeOf(error), message: (error as Error).message };
      }
    };
    expect(
      await refused((sql) =>
        sql.query(
          `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
          [t.id, another],
        ),
      ),
    ).toEqual({ code: 'P0001', message: 'Your plan allows 3 seats at most.' });
    await asOwner((sql) =>
      sql.query(
        `insert into public.tenant_tools (tenant_id, name, webhook_url) values ($1, 'one', 'https://n8n.example/a')`,
        [t.id],
      ),
    );
    expect(
      await refused((sql) =>
        sql.query(
          `insert into public.tenant_tools (tenant_id, name, webhook_url) values ($1, 'two', 'https://n8n.example/b')`,
          [t.id],
        ),
      ),
    ).toMatchObject({ code: 'P0001' });
    await asOwner((sql) =>
      sql.query(`insert into public.documents (tenant_id, title) values ($1, 'One')`, [t.id]),
    );
    expect(
      await refused((sql) =>
        sql.query(`insert into public.documents (tenant_id, title) values ($1, 'Two')`, [t.id]),
      ),
    ).toMatchObject({ code: 'P0001' });
    // Operators (the service role) are not capped.
    await db.asService((sql) =>
      sql.query(`insert into public.documents (tenant_id, title) values ($1, 'Imported')`, [t.id]),
    );
  });

  it('storage is checked before an upload', async () => {
    const t = await tenantWith({ storage_mb: 1 });
    const allows = (bytes: number) =>
      db.asService(async (sql) => {
        const row = await one<{ ok: boolean }>(
          sql,
          'select private.storage_quota_allows($1, $2) as ok',
          [t.id, bytes],
        );
        return row.ok;
      });
    expect(await allows(1024 * 1024)).toBe(true);
    await db.asService((sql) =>
      sql.query(`insert into public.documents (tenant_id, title, content) values ($1, 'Big', $2)`, [
        t.id,
        'x'.repeat(600 * 1024),
      ]),
    );
    expect(await allows(300 * 1024)).toBe(true);
    expect(await allows(500 * 1024)).toBe(false);
  });
});

describe('usage reporting', () => {
  it('owners and admins read this period, every quota with its limit; agents and others do not', async () => {
    const t = await tenantWith({
      bot_replies_per_month: 10,
      conversations_per_month: 4,
      seats: 5,
      tools: 2,
      documents: 3,
      crawl_pages: 100,
    });
    await spend(t.id, 'bot_replies_per_month');
    await spend(t.id, 'bot_replies_per_month');
    const report = (claims: JwtClaims) =>
      db.asUser(claims, (sql) =>
        sql.query<{ metric: string; used: number; quota: number; percent: string | null }>(
          'select metric, used, quota, percent from public.tenant_usage($1)',
          [t.id],
        ),
      );
    expect(await report(t.owner)).toEqual([
      { metric: 'bot_replies_per_month', used: 2, quota: 10, percent: '20.0' },
      { metric: 'conversations_per_month', used: 0, quota: 4, percent: '0.0' },
      { metric: 'crawl_pages', used: 0, quota: 100, percent: '0.0' },
      { metric: 'documents', used: 0, quota: 3, percent: '0.0' },
      { metric: 'seats', used: 2, quota: 5, percent: '40.0' },
      { metric: 'tools', used: 0, quota: 2, percent: '0.0' },
    ]);
    expect(await report(t.agent)).toEqual([]);
    const stranger = userClaims(await db.asService((sql) => createUser(sql)));
    expect(await report(stranger)).toEqual([]);
    // The history view, which the Data API can serve as CSV.
    const history = await db.asUser(t.owner, (sql) =>
      sql.query('select metric, used, quota from public.usage_history($1)', [t.id]),
    );
    expect(history).toEqual([{ metric: 'bot_replies_per_month', used: 2, quota: 10 }]);
    expect(
      await db.asUser(t.agent, (sql) =>
        sql.query('select 1 from public.usage_history($1)', [t.id]),
      ),
    ).toEqual([]);
  });
});

describe('retention per plan', () => {
  it("the daily job keeps each tenant's messages for its plan's retention_days", async () => {
    const ids = await db.asService(async (sql) => {
      const out: Record<string, string> = {};
      for (const plan of ['free', 'starter', 'business']) {
        const { id: tenant } = await one<{ id: string }>(
          sql,
          `insert into public.tenants (name, slug, plan_id) values ($1, $1, $2) returning id`,
          [`keep-${plan}-${crypto.randomUUID().slice(0, 6)}`, plan],
        );
        const { id: conversation } = await one<{ id: string }>(
          sql,
          `insert into public.conversations (tenant_id, created_at) values ($1, now() - interval '400 days') returning id`,
          [tenant],
        );
        for (const days of [45, 200]) {
          const { id } = await one<{ id: string }>(
            sql,
            `insert into public.messages (conversation_id, role, content, created_at)
             values ($1, 'user', 'old', now() - make_interval(days => $2)) returning id`,
            [conversation, days],
          );
          out[`${plan}-${days}`] = id;
        }
      }
      await sql.query('select private.run_retention()');
      return out;
    });
    const kept = await db.asService((sql) =>
      sql.query<{ id: string }>('select id from public.messages where id = any($1::uuid[])', [
        Object.values(ids),
      ]),
    );
    const keptIds = new Set(kept.map((r) => r.id));
    const survived = Object.entries(ids)
      .filter(([, id]) => keptIds.has(id))
      .map(([name]) => name)
      .sort();
    // free: 30 days; starter: 60 days; business: 365 days.
    expect(survived).toEqual(['business-200', 'business-45', 'starter-45']);
  });
});
