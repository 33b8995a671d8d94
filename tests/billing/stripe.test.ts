import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { createApp as createBillingApp } from '../../functions/billing/app.ts';
import { createApp as createWebhookApp } from '../../functions/stripe-webhook/app.ts';
import {
  type FakeStripe,
  PRICES,
  SECRET_KEY,
  startFakeStripe,
  WEBHOOK_SECRET,
} from '../support/fake-stripe.ts';
import { type StackProcess, startStack } from '../support/stack.ts';
import { createUser, userClaims } from '../support/world.ts';

// Billing end to end: the billing and stripe-webhook functions on the local stack, the real stripe
// SDK inside them talking to a fake Stripe API in this process, and events signed with the SDK's
// own test-header helper.

let stripe: FakeStripe;
let stack: StackProcess;
let db: Db;

beforeAll(async () => {
  stripe = await startFakeStripe();
  stack = await startStack({
    env: {
      STRIPE_SECRET_KEY: SECRET_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_API_BASE: stripe.url,
      BILLING_GRACE_DAYS: '7',
      ...PRICES,
    },
  });
  db = createPostgresDb(stack.dbUrl, { max: 1 });
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
  await stripe?.close();
});

// Response bodies are only ever read by assertions, which check their shape.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyJson = Record<string, any>;

async function tokenFor(claims: JwtClaims) {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(stack.keys.jwtSecret));
}

interface Workspace {
  tenantId: string;
  owner: string;
  agent: string;
  outsider: string;
  ownerClaims: JwtClaims;
}

async function workspace(): Promise<Workspace> {
  const [ownerId, agentId, outsiderId] = await db.asService(async (sql) => [
    await createUser(sql),
    await createUser(sql),
    await createUser(sql),
  ]);
  const ownerClaims = userClaims(ownerId as string);
  const [tenant] = await db.asUser(ownerClaims, (sql) =>
    sql.query<{ id: string }>('select id from public.create_workspace($1, $2)', [
      'Billing shop',
      `bill-${crypto.randomUUID().slice(0, 8)}`,
    ]),
  );
  const tenantId = tenant?.id as string;
  await db.asService((sql) =>
    sql.query(
      `insert into public.tenant_members (tenant_id, user_id, role) values ($1, $2, 'agent')`,
      [tenantId, agentId],
    ),
  );
  return {
    tenantId,
    ownerClaims,
    owner: await tokenFor(ownerClaims),
    agent: await tokenFor(userClaims(agentId as string)),
    outsider: await tokenFor(userClaims(outsiderId as string)),
  };
}

async function billing(path: string, token: string, body?: unknown, headers = {}) {
  const res = await fetch(`${stack.url}/functions/v1/billing/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      apikey: stack.keys.anonKey,
      'content-type': 'application/json',
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as AnyJson };
}

async function deliver(event: AnyJson, sign = (payload: string) => stripe.sign(payload)) {
  const payload = JSON.stringify(event);
  const res = await fetch(`${stack.url}/functions/v1/stripe-webhook`, {
    method: 'POST',
    headers: { 'stripe-signature': sign(payload), 'content-type': 'application/json' },
    body: payload,
  });
  return { status: res.status, body: (await res.json()) as AnyJson };
}

async function state(tenantId: string) {
  const [row] = await db.asService((sql) =>
    sql.query<{
      plan: string;
      paid_plan: string;
      status: string;
      subscription: string | null;
      interval: string | null;
      in_grace: boolean;
    }>(
      `select t.plan_id as plan, s.plan_id as paid_plan, s.status, s.stripe_subscription_id as subscription,
              s.billing_interval as interval, s.grace_until is not null as in_grace
         from public.tenants t join public.subscriptions s on s.tenant_id = t.id where t.id = $1`,
      [tenantId],
    ),
  );
  return row;
}

async function notices(tenantId: string) {
  const rows = await db.asService((sql) =>
    sql.query<{ kind: string }>(
      'select kind from public.tenant_notices where tenant_id = $1 order by created_at, kind',
      [tenantId],
    ),
  );
  return rows.map((r) => r.kind);
}

/** Checkout through the billing function, then the subscription Stripe would create for it. */
async function subscribe(w: Workspace, price: string) {
  const plan = /^price_([a-z]+)_/.exec(price)?.[1];
  const interval = price.endsWith('year') ? 'year' : 'month';
  const checkout = await billing('checkout', w.owner, { plan, interval, tenant_id: w.tenantId });
  expect(checkout.status).toBe(200);
  const [row] = await db.asService((sql) =>
    sql.query<{ stripe_customer_id: string }>(
      'select stripe_customer_id from public.subscriptions where tenant_id = $1',
      [w.tenantId],
    ),
  );
  return stripe.createSubscription({
    customer: row?.stripe_customer_id as string,
    price,
    tenantId: w.tenantId,
  });
}

describe('checkout and portal', () => {
  it('creates the customer once and a subscription Checkout Session with tax and promotion codes', async () => {
    const w = await workspace();
    const first = await billing('checkout', w.owner, {
      plan: 'pro',
      interval: 'year',
      tenant_id: w.tenantId,
    });
    expect(first.status).toBe(200);
    expect(first.body.url).toMatch(/^https:\/\/checkout\.stripe\.com\/c\/pay\/cs_test_/);

    const session = stripe.requests.filter((r) => r.path === '/v1/checkout/sessions').at(-1);
    const customer = stripe.requests.filter((r) => r.path === '/v1/customers').at(-1);
    expect(customer?.params.metadata).toEqual({ tenant_id: w.tenantId });
    expect(session?.params).toMatchObject({
      mode: 'subscription',
      client_reference_id: w.tenantId,
      line_items: [{ price: PRICES.STRIPE_PRICE_PRO_YEARLY, quantity: '1' }],
      automatic_tax: { enabled: 'true' },
      allow_promotion_codes: 'true',
      subscription_data: { metadata: { tenant_id: w.tenantId, plan: 'pro' } },
    });
    expect(String(session?.params.success_url)).toContain('checkout=success');

    // A second attempt (the tenant in a header this time) reuses the customer.
    const customersBefore = stripe.customers.size;
    const second = await billing(
      'checkout',
      w.owner,
      { plan: 'starter', interval: 'monthly' },
      { 'x-tenant-id': w.tenantId },
    );
    expect(second.status).toBe(200);
    expect(stripe.customers.size).toBe(customersBefore);
    expect(
      stripe.requests.filter((r) => r.path === '/v1/checkout/sessions').at(-1)?.params,
    ).toMatchObject({
      customer: session?.params.customer,
      line_items: [{ price: PRICES.STRIPE_PRICE_STARTER_MONTHLY }],
    });

    const portal = await billing('portal', w.owner, { tenant_id: w.tenantId });
    expect(portal.status).toBe(200);
    expect(portal.body.url).toMatch(/^https:\/\/billing\.stripe\.com\/p\/session\//);
    const portalHeaderOnly = await billing('portal', w.owner, undefined, {
      'x-tenant-id': w.tenantId,
    });
    expect(portalHeaderOnly.status).toBe(200);
  });

  it('is for owners and admins only, and validates its input', async () => {
    const w = await workspace();
    const asAgent = await billing('checkout', w.agent, { plan: 'pro', tenant_id: w.tenantId });
    expect(asAgent).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const asOutsider = await billing('portal', w.outsider, { tenant_id: w.tenantId });
    expect(asOutsider).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    const visitor = await tokenFor(userClaims(crypto.randomUUID(), true));
    expect((await billing('portal', visitor, { tenant_id: w.tenantId })).status).toBe(403);

    for (const body of [
      { plan: 'free', tenant_id: w.tenantId },
      { plan: 'platinum', tenant_id: w.tenantId },
      { plan: 'pro', interval: 'weekly', tenant_id: w.tenantId },
      { plan: 'pro' },
      { plan: 'pro', tenant_id: 'not-a-uuid' },
    ]) {
      const res = await billing('checkout', w.owner, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const broken = await fetch(`${stack.url}/functions/v1/billing/checkout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.owner}`, apikey: stack.keys.anonKey },
      body: '{"plan":',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as AnyJson).error.code).toBe('invalid_json');
    expect(stripe.requests.some((r) => r.params.client_reference_id === w.tenantId)).toBe(false);
  });
});

describe('the Stripe webhook', () => {
  it('checkout completed → the plan is active; a second checkout is sent to the portal', async () => {
    const w = await workspace();
    const subscription = await subscribe(w, PRICES.STRIPE_PRICE_PRO_MONTHLY);
    const completed = await deliver(
      stripe.event(
        'checkout.session.completed',
        stripe.checkoutCompleted(subscription, w.tenantId),
      ),
    );
    expect(completed.status).toBe(200);
    expect(await state(w.tenantId)).toEqual({
      plan: 'pro',
      paid_plan: 'pro',
      status: 'active',
      subscription: subscription.id,
      interval: 'month',
      in_grace: false,
    });
    expect(await notices(w.tenantId)).toEqual(['plan_changed']);
    const again = await billing('checkout', w.owner, { plan: 'business', tenant_id: w.tenantId });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'already_subscribed' } } });
  });

  it('follows upgrades, downgrades and cancellation', async () => {
    const w = await workspace();
    const sub = await subscribe(w, PRICES.STRIPE_PRICE_STARTER_MONTHLY);
    await deliver(stripe.event('customer.subscription.created', sub));
    expect((await state(w.tenantId))?.plan).toBe('starter');

    const up = stripe.updateSubscription(sub.id as string, {
      price: PRICES.STRIPE_PRICE_BUSINESS_YEARLY,
    });
    await deliver(stripe.event('customer.subscription.updated', up));
    expect(await state(w.tenantId)).toMatchObject({ plan: 'business', interval: 'year' });

    const down = stripe.updateSubscription(sub.id as string, {
      price: PRICES.STRIPE_PRICE_PRO_MONTHLY,
    });
    await deliver(stripe.event('customer.subscription.updated', down));
    expect(await state(w.tenantId)).toMatchObject({ plan: 'pro', interval: 'month' });

    // Cancelling at the period's end keeps the plan until Stripe ends the subscription.
    const ending = stripe.updateSubscription(sub.id as string, { cancel_at_period_end: true });
    await deliver(stripe.event('customer.subscription.updated', ending));
    expect((await state(w.tenantId))?.plan).toBe('pro');
    const ended = stripe.updateSubscription(sub.id as string, { status: 'canceled' });
    await deliver(stripe.event('customer.subscription.deleted', ended));
    expect(await state(w.tenantId)).toMatchObject({ plan: 'free', status: 'canceled' });
    expect(await notices(w.tenantId)).toContain('plan_downgraded');

    // A paused subscription pays for nothing; resumed, it does again.
    const sub2 = await subscribe(w, PRICES.STRIPE_PRICE_PRO_MONTHLY);
    await deliver(stripe.event('customer.subscription.created', sub2));
    expect((await state(w.tenantId))?.plan).toBe('pro');
    await deliver(
      stripe.event(
        'customer.subscription.paused',
        stripe.updateSubscription(sub2.id as string, { status: 'paused' }),
      ),
    );
    expect((await state(w.tenantId))?.plan).toBe('free');
    await deliver(
      stripe.event(
        'customer.subscription.resumed',
        stripe.updateSubscription(sub2.id as string, { status: 'active' }),
      ),
    );
    expect((await state(w.tenantId))?.plan).toBe('pro');
  });

  it('payment failed → past due with a grace period → free; a later payment restores the plan', async () => {
    const w = await workspace();
    const sub = await subscribe(w, PRICES.STRIPE_PRICE_PRO_MONTHLY);
    await deliver(stripe.event('customer.subscription.created', sub));

    const failing = stripe.updateSubscription(sub.id as string, { status: 'past_due' });
    await deliver(stripe.event('invoice.payment_failed', stripe.invoice(failing, false)));
    expect(await state(w.tenantId)).toMatchObject({
      plan: 'pro',
      status: 'past_due',
      in_grace: true,
    });
    expect(await notices(w.tenantId)).toContain('payment_failed');
    const [grace] = await db.asService((sql) =>
      sql.query<{ days: number }>(
        `select round(extract(epoch from grace_until - now()) / 86400) as days from public.subscriptions where tenant_id = $1`,
        [w.tenantId],
      ),
    );
    expect(Number(grace?.days)).toBe(7);

    // Another report of the same failure does not extend the grace period.
    await deliver(stripe.event('customer.subscription.updated', failing));
    expect((await notices(w.tenantId)).filter((kind) => kind === 'payment_failed')).toHaveLength(1);

    // pg_cron's job, run as if a week had passed.
    const [before] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        `select private.expire_billing_grace(now() + interval '6 days') as n`,
      ),
    );
    expect(before?.n).toBe(0);
    const [after] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        `select private.expire_billing_grace(now() + interval '8 days') as n`,
      ),
    );
    expect(after?.n).toBe(1);
    expect(await state(w.tenantId)).toMatchObject({ plan: 'free', status: 'past_due' });
    expect((await notices(w.tenantId)).at(-1)).toBe('plan_downgraded');

    const paid = stripe.updateSubscription(sub.id as string, { status: 'active' });
    await deliver(stripe.event('invoice.paid', stripe.invoice(paid, true)));
    expect(await state(w.tenantId)).toMatchObject({
      plan: 'pro',
      status: 'active',
      in_grace: false,
    });
  });

  it('records each event once: a repeat is acknowledged and not applied again', async () => {
    const w = await workspace();
    const sub = await subscribe(w, PRICES.STRIPE_PRICE_PRO_MONTHLY);
    const event = stripe.event('customer.subscription.created', sub);
    expect((await deliver(event)).body).toMatchObject({ received: true });
    expect((await deliver(event)).body).toEqual({ received: true, duplicate: true });
    const [row] = await db.asService((sql) =>
      sql.query<{ n: number; processed: boolean }>(
        'select count(*)::int as n, bool_and(processed_at is not null) as processed from public.stripe_events where id = $1',
        [event.id],
      ),
    );
    expect(row).toEqual({ n: 1, processed: true });
  });

  it('refuses forged signatures, stale timestamps and unsigned requests, recording nothing', async () => {
    const w = await workspace();
    const sub = await subscribe(w, PRICES.STRIPE_PRICE_BUSINESS_MONTHLY);
    const event = stripe.event('customer.subscription.created', sub);
    const forged = await deliver(event, (payload) =>
      stripe.sign(payload, { secret: 'whsec_not_the_right_one' }),
    );
    expect(forged).toMatchObject({ status: 400, body: { error: { code: 'signature_invalid' } } });
    const stale = await deliver(event, (payload) =>
      stripe.sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
    );
    expect(stale).toMatchObject({ status: 400, body: { error: { code: 'signature_invalid' } } });
    const tampered = await deliver(event, (payload) =>
      stripe.sign(payload.replace('"active"', '"trialing"')),
    );
    expect(tampered.status).toBe(400);
    const unsigned = await fetch(`${stack.url}/functions/v1/stripe-webhook`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as AnyJson).error.code).toBe('signature_missing');
    const [row] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from public.stripe_events where id = $1',
        [event.id],
      ),
    );
    expect(row?.n).toBe(0);
    expect((await state(w.tenantId))?.plan).toBe('free');
  });
});

describe('order independence', () => {
  /**
   * A subscription's life as Stripe reports it, one event per step with the object as it was then:
   * starter → pro → a failed payment → paid → business yearly (→ cancelled).
   */
  async function lifecycle(w: Workspace, cancel: boolean) {
    const events: AnyJson[] = [];
    const sub = await subscribe(w, PRICES.STRIPE_PRICE_STARTER_MONTHLY);
    const id = sub.id as string;
    let t = Math.floor(Date.now() / 1000) - 100;
    events.push(
      stripe.event('checkout.session.completed', stripe.checkoutCompleted(sub, w.tenantId), t++),
    );
    events.push(stripe.event('customer.subscription.created', sub, t++));
    events.push(stripe.event('invoice.paid', stripe.invoice(sub, true), t++));
    const pro = stripe.updateSubscription(id, { price: PRICES.STRIPE_PRICE_PRO_MONTHLY });
    events.push(stripe.event('customer.subscription.updated', pro, t++));
    const failing = stripe.updateSubscription(id, { status: 'past_due' });
    events.push(stripe.event('invoice.payment_failed', stripe.invoice(failing, false), t++));
    events.push(stripe.event('customer.subscription.updated', failing, t++));
    const paid = stripe.updateSubscription(id, { status: 'active' });
    events.push(stripe.event('invoice.paid', stripe.invoice(paid, true), t++));
    const business = stripe.updateSubscription(id, { price: PRICES.STRIPE_PRICE_BUSINESS_YEARLY });
    events.push(stripe.event('customer.subscription.updated', business, t++));
    if (cancel) {
      const ended = stripe.updateSubscription(id, { status: 'canceled' });
      events.push(stripe.event('customer.subscription.deleted', ended, t++));
    }
    return events;
  }

  function shuffled<T>(items: T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  const orders: [string, (events: AnyJson[]) => AnyJson[]][] = [
    ['in order', (e) => e],
    ['every event twice', (e) => e.flatMap((x) => [x, x])],
    ['in reverse order', (e) => [...e].reverse()],
    ['shuffled', (e) => shuffled(e)],
    ['shuffled, every event twice', (e) => shuffled(e.flatMap((x) => [x, x]))],
  ];

  for (const cancel of [false, true]) {
    it(`ends in Stripe's state (${cancel ? 'cancelled' : 'business yearly'}) whatever the delivery order`, async () => {
      const finals: unknown[] = [];
      for (const [name, order] of orders) {
        const w = await workspace();
        const events = await lifecycle(w, cancel);
        for (const event of order(events)) {
          const res = await deliver(event);
          expect(res.status, `${name}: ${event.type}`).toBe(200);
        }
        finals.push({ name, ...(await state(w.tenantId)), subscription: undefined });
      }
      const expected = cancel
        ? {
            plan: 'free',
            paid_plan: 'business',
            status: 'canceled',
            interval: 'year',
            in_grace: false,
          }
        : {
            plan: 'business',
            paid_plan: 'business',
            status: 'active',
            interval: 'year',
            in_grace: false,
          };
      for (const final of finals)
        expect(final).toEqual({
          ...expected,
          name: (final as AnyJson).name,
          subscription: undefined,
        });
    }, 120_000);
  }
});

describe('without Stripe keys', () => {
  it('checkout, portal and the webhook answer 503 billing_not_configured', async () => {
    const w = await workspace();
    const context = {
      env: { JWT_SECRET: stack.keys.jwtSecret },
      db,
      waitUntil: () => {},
      log: () => {},
    };
    const app = createBillingApp(context);
    for (const path of ['checkout', 'portal']) {
      const res = await app.fetch(
        new Request(`http://functions.test/billing/${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${w.owner}`, 'content-type': 'application/json' },
          body: JSON.stringify({ plan: 'pro', tenant_id: w.tenantId }),
        }),
      );
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({
        error: { code: 'billing_not_configured', message: expect.any(String) },
      });
      // An agent is refused as such, configured or not.
      const agent = await app.fetch(
        new Request(`http://functions.test/billing/${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${w.agent}`, 'content-type': 'application/json' },
          body: JSON.stringify({ plan: 'pro', tenant_id: w.tenantId }),
        }),
      );
      expect(agent.status).toBe(403);
    }
    const webhook = await createWebhookApp(context).fetch(
      new Request('http://functions.test/stripe-webhook', {
        method: 'POST',
        headers: { 'stripe-signature': 't=1,v1=00' },
        body: '{}',
      }),
    );
    expect(webhook.status).toBe(503);
    // The free plan keeps working: the workspace is on it.
    expect((await state(w.tenantId))?.plan).toBe('free');
  });
});
