import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createUser, userClaims } from '../support/world.ts';

// Creating a workspace through public.create_workspace, as the admin SPA calls it with
// supabase.rpc: what the caller may do, what the new tenant starts with, and the plans it can buy.

let local: LocalDatabase;
let db: Db;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
});
afterAll(() => local?.close());

const codeOf = (error: unknown) => (error as { code?: string } | null)?.code;

async function newUser(anonymous = false): Promise<JwtClaims> {
  const id = await db.asService((sql) => createUser(sql, { anonymous }));
  return userClaims(id, anonymous);
}

type Tenant = { id: string; slug: string; widget_key: string; allowed_origins: string[] };

function create(claims: JwtClaims, name: string, slug: string, website: string | null = null) {
  return db.asUser(claims, async (sql) => {
    const [row] = await sql.query<Tenant>(
      'select id, slug, widget_key, allowed_origins from public.create_workspace($1, $2, $3)',
      [name, slug, website],
    );
    if (!row) throw new Error('no workspace');
    return row;
  });
}

async function refusal(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (error) {
    return { code: codeOf(error), message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}

const slug = () => `shop-${crypto.randomUUID().slice(0, 8)}`;

describe('create_workspace', () => {
  it('makes the caller the owner of a free workspace with keys, secrets and bot settings', async () => {
    const owner = await newUser();
    const s = slug();
    const tenant = await create(
      owner,
      '  Trail Shop ',
      s.toUpperCase(),
      'https://Shop.Example/about',
    );
    expect(tenant.slug).toBe(s);
    expect(tenant.widget_key).toMatch(/^pk_[A-Za-z0-9_]{8,64}$/);
    expect(tenant.allowed_origins).toEqual(['https://shop.example']);

    // Everything the owner needs is readable as the owner, through RLS.
    const seen = await db.asUser(owner, async (sql) => ({
      tenant: await sql.query(
        'select name, plan_id, status, bot_engine, bot_config, website from public.tenants where id = $1',
        [tenant.id],
      ),
      role: await sql.query('select role from public.tenant_members where tenant_id = $1', [
        tenant.id,
      ]),
      // Secrets are not read back: the owner makes a new identity secret and sees it once.
      secret: await sql.query<{ identity_secret: string }>(
        'select public.rotate_identity_secret($1) as identity_secret',
        [tenant.id],
      ),
      subscription: await sql.query(
        'select plan_id, status, stripe_customer_id from public.subscriptions where tenant_id = $1',
        [tenant.id],
      ),
      documents: await sql.query('select id from public.documents where tenant_id = $1', [
        tenant.id,
      ]),
    }));
    expect(seen.tenant).toEqual([
      {
        name: 'Trail Shop',
        plan_id: 'free',
        status: 'active',
        bot_engine: 'ai',
        bot_config: expect.objectContaining({
          name: 'Trail Shop assistant',
          greeting: { en: expect.any(String) },
        }),
        website: 'https://Shop.Example/about',
      },
    ]);
    expect(seen.role).toEqual([{ role: 'owner' }]);
    expect(seen.secret[0]?.identity_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(seen.subscription).toEqual([
      { plan_id: 'free', status: 'active', stripe_customer_id: null },
    ]);
    expect(seen.documents).toEqual([]);
  });

  it('lets one person own several workspaces and belong to others', async () => {
    const owner = await newUser();
    const other = await newUser();
    const first = await create(owner, 'First', slug());
    const second = await create(owner, 'Second', slug());
    const theirs = await create(other, 'Theirs', slug());
    await db.asService((sql) =>
      sql.query(
        `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
        [theirs.id, owner.sub],
      ),
    );
    const mine = await db.asUser(owner, (sql) =>
      sql.query<{ id: string; role: string }>(
        'select tenant_id as id, role from public.tenant_members where user_id = auth.uid() order by role, tenant_id',
      ),
    );
    expect(new Set(mine.map((m) => `${m.id}:${m.role}`))).toEqual(
      new Set([`${first.id}:owner`, `${second.id}:owner`, `${theirs.id}:agent`]),
    );
  });

  it('refuses anonymous visitors and anon', async () => {
    const visitor = await newUser(true);
    expect(await refusal(() => create(visitor, 'Nope', slug()))).toMatchObject({ code: '42501' });
    const anon = await refusal(() =>
      db.asUser({ role: 'anon' }, (sql) =>
        sql.query(`select public.create_workspace('Nope', 'nope-anon')`),
      ),
    );
    expect(anon.code).toBe('42501');
  });

  it('validates the name, slug and website, and keeps slugs unique', async () => {
    const owner = await newUser();
    for (const bad of [
      'a',
      '-shop',
      'shop-',
      'sh--op',
      'shop_1',
      'shöp',
      'x'.repeat(64),
      'admin',
    ]) {
      expect(await refusal(() => create(owner, 'Shop', bad)), bad).toMatchObject({ code: '22023' });
    }
    expect(await refusal(() => create(owner, '   ', slug()))).toMatchObject({ code: '22023' });
    for (const bad of ['ftp://shop.example', 'javascript:alert(1)', 'https://', 'shop.example']) {
      expect(await refusal(() => create(owner, 'Shop', slug(), bad)), bad).toMatchObject({
        code: '22023',
      });
    }
    const taken = slug();
    await create(owner, 'Taken', taken);
    const other = await newUser();
    expect(await refusal(() => create(other, 'Again', taken))).toMatchObject({
      code: '23505',
      message: expect.stringContaining('taken'),
    });
  });

  it('caps how many workspaces one person owns', async () => {
    const owner = await newUser();
    for (let i = 0; i < 5; i++) await create(owner, `Shop ${i}`, slug());
    expect(await refusal(() => create(owner, 'One too many', slug()))).toMatchObject({
      code: 'P0001',
      message: expect.stringContaining('5 workspaces'),
    });
  });
});

describe('plans', () => {
  it('free, starter, pro and business carry every limit, in price order', async () => {
    const owner = await newUser();
    const plans = await db.asUser(owner, (sql) =>
      sql.query<{ id: string; limits: Record<string, number>; price_cents: number }>(
        'select id, limits, price_cents, price_yearly_cents from public.plans where active order by sort_order',
      ),
    );
    expect(plans.map((p) => p.id)).toEqual(['free', 'starter', 'pro', 'business']);
    const keys = [
      'bot_replies_per_month',
      'conversations_per_month',
      'documents',
      'storage_mb',
      'tools',
      'seats',
      'channels',
      'retention_days',
      'crawl_pages',
      'crawl_depth',
      'crawl_max_pages',
    ];
    for (const plan of plans) expect(Object.keys(plan.limits).sort()).toEqual([...keys].sort());
    const prices = plans.map((p) => p.price_cents);
    expect([...prices].sort((a, b) => a - b)).toEqual(prices);
    // Every limit grows (or stays) from one plan to the next.
    for (const key of keys) {
      const values = plans.map((p) => p.limits[key] as number);
      expect(
        [...values].sort((a, b) => a - b),
        key,
      ).toEqual(values);
    }
  });
});
