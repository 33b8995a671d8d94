import { Hono } from 'hono';
import type Stripe from 'stripe';
import {
  type BillingConfig,
  billingConfig,
  createStripe,
  webCrypto,
} from '../_shared/billing/config.ts';
import type { Db, Sql } from '../_shared/db/port.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput } from '../_shared/http/validation.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// Stripe's webhook. The signature is checked with the SDK over the raw body; each event id is
// acted on once. An event is only a hint: the subscription it concerns is read back from Stripe's
// API while the tenant's billing row is locked, and that current state is what is stored, so
// repeated, late and reordered deliveries all end where Stripe is.

export interface StripeWebhookDeps {
  db: Db;
  config: BillingConfig;
  stripe: Stripe | null;
  log: (message: string, error?: unknown) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const SUBSCRIPTION_EVENTS = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.paused',
  'customer.subscription.resumed',
]);

const idOf = (value: unknown): string | null =>
  typeof value === 'string'
    ? value
    : value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string'
      ? (value as { id: string }).id
      : null;

/** The subscription an invoice belongs to, where the current and the older API versions put it. */
function invoiceSubscription(invoice: Record<string, unknown>): string | null {
  const parent = invoice.parent as
    | { subscription_details?: { subscription?: unknown } | null }
    | null
    | undefined;
  return idOf(parent?.subscription_details?.subscription) ?? idOf(invoice.subscription);
}

export function createStripeWebhookApp(deps: StripeWebhookDeps) {
  const { db, config } = deps;
  const app = new Hono();
  // Stripe's events are a few KB; the largest (invoices with many lines) stay well under this.
  app.use('*', guardInput(512 * 1024));

  /** The tenant a Stripe object is about: our metadata first, then the ids we stored. */
  async function tenantFor(
    sql: Sql,
    hints: { tenant?: unknown; customer?: string | null; subscription?: string | null },
  ): Promise<string | null> {
    if (typeof hints.tenant === 'string' && UUID.test(hints.tenant)) {
      const [row] = await sql.query<{ id: string }>('select id from public.tenants where id = $1', [
        hints.tenant,
      ]);
      if (row) return row.id;
    }
    const [row] = await sql.query<{ tenant_id: string }>(
      `select tenant_id from public.subscriptions
        where ($1::text is not null and stripe_subscription_id = $1)
           or ($2::text is not null and stripe_customer_id = $2)
        order by (stripe_subscription_id = $1) desc nulls last limit 1`,
      [hints.subscription ?? null, hints.customer ?? null],
    );
    return row?.tenant_id ?? null;
  }

  /** Stores Stripe's current state of one subscription for its tenant. */
  async function sync(
    stripe: Stripe,
    subscriptionId: string,
    hints: { tenant?: unknown; customer?: string | null },
    eventCreated: Date,
  ) {
    return db.asService(async (sql) => {
      const tenantId = await tenantFor(sql, { ...hints, subscription: subscriptionId });
      if (!tenantId) return { skipped: 'unknown_tenant' };
      // Held until commit: a concurrent delivery for this tenant reads Stripe after this one wrote.
      await sql.query(
        `insert into public.subscriptions (tenant_id) values ($1) on conflict (tenant_id) do nothing`,
        [tenantId],
      );
      await sql.query('select 1 from public.subscriptions where tenant_id = $1 for update', [
        tenantId,
      ]);
      const subscription = await stripe.subscriptions.retrieve(subscriptionId);
      const item = subscription.items.data[0];
      const priceId = item?.price.id ?? null;
      const known = priceId ? config.prices.get(priceId) : undefined;
      const metadataPlan = item?.price.metadata?.parley_plan;
      const plan =
        known?.plan ??
        (typeof metadataPlan === 'string' && ['starter', 'pro', 'business'].includes(metadataPlan)
          ? metadataPlan
          : null);
      const interval = item?.price.recurring?.interval;
      const periodEnd =
        item?.current_period_end ??
        (subscription as unknown as { current_period_end?: number }).current_period_end;
      const [result] = await sql.query<{ applied: Record<string, unknown> }>(
        `select private.apply_stripe_subscription($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                  make_interval(days => $11)) as applied`,
        [
          tenantId,
          idOf(subscription.customer),
          subscription.id,
          subscription.status,
          plan,
          priceId,
          interval === 'month' || interval === 'year' ? interval : null,
          periodEnd ? new Date(periodEnd * 1000) : null,
          subscription.cancel_at_period_end,
          eventCreated,
          config.graceDays,
        ],
      );
      return { tenant_id: tenantId, ...(result?.applied ?? {}) };
    });
  }

  async function handle(stripe: Stripe, event: Stripe.Event) {
    const created = new Date(event.created * 1000);
    const object = event.data.object as unknown as Record<string, unknown>;
    if (event.type === 'checkout.session.completed') {
      const subscription = idOf(object.subscription);
      if (object.mode !== 'subscription' || !subscription) return { skipped: 'not_a_subscription' };
      const customer = idOf(object.customer);
      const tenant = object.client_reference_id;
      if (customer && typeof tenant === 'string' && UUID.test(tenant)) {
        // Link the customer first, so events about it find the tenant whatever their order.
        await db.asService((sql) =>
          sql.query(
            `insert into public.subscriptions (tenant_id, stripe_customer_id)
             select id, $2 from public.tenants where id = $1
             on conflict (tenant_id) do update
               set stripe_customer_id = coalesce(subscriptions.stripe_customer_id, excluded.stripe_customer_id)`,
            [tenant, customer],
          ),
        );
      }
      return sync(stripe, subscription, { tenant, customer }, created);
    }
    if (SUBSCRIPTION_EVENTS.has(event.type)) {
      const metadata = (object.metadata ?? {}) as Record<string, unknown>;
      return sync(
        stripe,
        String(object.id),
        { tenant: metadata.tenant_id, customer: idOf(object.customer) },
        created,
      );
    }
    if (event.type === 'invoice.paid' || event.type === 'invoice.payment_failed') {
      const subscription = invoiceSubscription(object);
      if (!subscription) return { skipped: 'not_a_subscription' };
      return sync(stripe, subscription, { customer: idOf(object.customer) }, created);
    }
    return { skipped: 'ignored_type' };
  }

  app.post('/stripe-webhook', async (c) => {
    const stripe = deps.stripe;
    if (!stripe || !config.webhookSecret) {
      throw new HttpError(503, 'billing_not_configured', 'Billing is not configured.');
    }
    const signature = c.req.header('stripe-signature');
    if (!signature) {
      throw new HttpError(400, 'signature_missing', 'The Stripe-Signature header is missing.');
    }
    const raw = await c.req.text();
    let event: Stripe.Event;
    try {
      event = await stripe.webhooks.constructEventAsync(
        raw,
        signature,
        config.webhookSecret,
        undefined,
        webCrypto(),
      );
    } catch {
      throw new HttpError(400, 'signature_invalid', 'The Stripe signature could not be verified.');
    }
    const fresh = await db.asService(async (sql) => {
      const [row] = await sql.query<{ fresh: boolean }>(
        'select private.record_stripe_event($1, $2, $3, $4::text::jsonb) as fresh',
        [event.id, event.type, new Date(event.created * 1000), raw],
      );
      return row?.fresh ?? false;
    });
    if (!fresh) return c.json({ received: true, duplicate: true });
    let outcome: unknown;
    try {
      outcome = await handle(stripe, event);
    } catch (error) {
      // Left unprocessed: Stripe retries, and the retry is not taken for a duplicate.
      deps.log(`stripe-webhook: ${event.type} ${event.id} failed`, error);
      throw new HttpError(503, 'processing_failed', 'The event could not be applied; retry later.');
    }
    await db.asService((sql) =>
      sql.query('update public.stripe_events set processed_at = now() where id = $1', [event.id]),
    );
    return c.json({ received: true, outcome });
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  const config = billingConfig(context.env);
  return createStripeWebhookApp({
    db: context.db,
    config,
    stripe: createStripe(config),
    log: context.log,
  });
}
