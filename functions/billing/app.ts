import { Hono } from 'hono';
import type Stripe from 'stripe';
import { z } from 'zod';
import { bearerToken, type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import {
  type BillingConfig,
  billingConfig,
  createStripe,
  PAID_PLANS,
  priceFor,
} from '../_shared/billing/config.ts';
import type { Db, JwtClaims, Sql } from '../_shared/db/port.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// Stripe Checkout and the Customer Portal for a tenant's owners and admins. Whether the caller may
// is asked of the database as the caller (RLS on tenant_members), never decided from the body;
// only the Stripe customer id is written as the service, because members cannot write billing.

export interface BillingDeps {
  db: Db;
  verifier: ClaimsVerifier;
  config: BillingConfig;
  stripe: Stripe | null;
  log: (message: string, error?: unknown) => void;
}

type Env = { Variables: { user: JwtClaims & { sub: string } } };

const tenantId = z.string().uuid();
const intervals = { month: 'month', monthly: 'month', year: 'year', yearly: 'year' } as const;

const checkoutSchema = z.object({
  plan: z.enum(PAID_PLANS),
  interval: z.enum(['month', 'year', 'monthly', 'yearly']).default('month'),
  tenant_id: tenantId.optional(),
});
const portalSchema = z.object({ tenant_id: tenantId.optional() });

/** Stripe statuses under which the tenant already pays: plan changes go through the portal. */
const LIVE = new Set(['active', 'trialing', 'past_due', 'unpaid']);

function stripeFailure(error: unknown): never {
  const type = (error as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && type.startsWith('Stripe')) {
    throw new HttpError(502, 'stripe_error', 'Stripe could not complete the request; try again.');
  }
  throw error;
}

export function createBillingApp(deps: BillingDeps) {
  const { db, config } = deps;
  const app = new Hono<Env>();
  app.use('*', publicCors());
  app.use('*', guardInput(4096));

  app.use('/billing/*', async (c, next) => {
    const token = bearerToken(c.req.raw);
    const claims = token ? await deps.verifier.verify(token) : null;
    if (claims?.role !== 'authenticated' || typeof claims.sub !== 'string') {
      throw new HttpError(401, 'unauthorized', 'Sign in to manage billing.');
    }
    if (claims.is_anonymous === true) {
      throw new HttpError(403, 'forbidden', 'Visitors cannot manage billing.');
    }
    c.set('user', claims as JwtClaims & { sub: string });
    await next();
  });

  function stripeOrUnavailable(): Stripe {
    if (!deps.stripe) {
      throw new HttpError(
        503,
        'billing_not_configured',
        'Billing is not configured on this platform; the free plan is available.',
      );
    }
    return deps.stripe;
  }

  /** The tenant named in the body or the x-tenant-id header, if the caller owns or administers it. */
  async function tenantOf(user: JwtClaims, bodyTenant: string | undefined, header?: string) {
    const parsed = tenantId.safeParse(bodyTenant ?? header);
    if (!parsed.success) {
      throw new HttpError(
        400,
        'invalid_request',
        'tenant_id (body or x-tenant-id header) must be a UUID.',
      );
    }
    const [row] = await db.asUser(user, (sql) =>
      sql.query<{ role: string; name: string }>(
        `select m.role, t.name from public.tenant_members m join public.tenants t on t.id = m.tenant_id
          where m.tenant_id = $1 and m.user_id = auth.uid()`,
        [parsed.data],
      ),
    );
    if (!row || (row.role !== 'owner' && row.role !== 'admin')) {
      throw new HttpError(
        403,
        'forbidden',
        "Only the workspace's owners and admins manage billing.",
      );
    }
    return { id: parsed.data, name: row.name };
  }

  /** The tenant's Stripe customer, created once; concurrent callers end up with the same one. */
  async function customerOf(stripe: Stripe, tenant: { id: string; name: string }, user: JwtClaims) {
    const [existing] = await db.asService((sql) =>
      sql.query<{ stripe_customer_id: string | null }>(
        'select stripe_customer_id from public.subscriptions where tenant_id = $1',
        [tenant.id],
      ),
    );
    if (existing?.stripe_customer_id) return existing.stripe_customer_id;
    const customer = await stripe.customers
      .create(
        {
          name: tenant.name,
          ...(typeof user.email === 'string' && user.email ? { email: user.email } : {}),
          metadata: { tenant_id: tenant.id },
        },
        // Two first clicks on "Upgrade" create one customer.
        { idempotencyKey: `parley-customer-${tenant.id}` },
      )
      .catch(stripeFailure);
    const [stored] = await db.asService((sql: Sql) =>
      sql.query<{ stripe_customer_id: string }>(
        `insert into public.subscriptions (tenant_id, stripe_customer_id) values ($1, $2)
         on conflict (tenant_id) do update
           set stripe_customer_id = coalesce(subscriptions.stripe_customer_id, excluded.stripe_customer_id)
         returning stripe_customer_id`,
        [tenant.id, customer.id],
      ),
    );
    return stored?.stripe_customer_id ?? customer.id;
  }

  app.post('/billing/checkout', async (c) => {
    const body = await jsonBody(c, checkoutSchema);
    const user = c.get('user');
    // Who may ask is decided before whether billing is set up: an agent learns nothing more.
    const tenant = await tenantOf(user, body.tenant_id, c.req.header('x-tenant-id'));
    const stripe = stripeOrUnavailable();
    const interval = intervals[body.interval];
    const price = priceFor(config, body.plan, interval);
    if (!price) {
      throw new HttpError(
        400,
        'plan_not_available',
        `The ${body.plan} plan is not offered ${interval === 'month' ? 'monthly' : 'yearly'}.`,
      );
    }
    const [current] = await db.asService((sql) =>
      sql.query<{ status: string; stripe_subscription_id: string | null }>(
        'select status, stripe_subscription_id from public.subscriptions where tenant_id = $1',
        [tenant.id],
      ),
    );
    if (current?.stripe_subscription_id && LIVE.has(current.status)) {
      throw new HttpError(
        409,
        'already_subscribed',
        'This workspace already has a subscription: change or cancel it in the billing portal.',
      );
    }
    const customer = await customerOf(stripe, tenant, user);
    const session = await stripe.checkout.sessions
      .create({
        mode: 'subscription',
        customer,
        client_reference_id: tenant.id,
        line_items: [{ price, quantity: 1 }],
        automatic_tax: { enabled: true },
        // Automatic tax needs the customer's address; Checkout collects it onto the customer.
        customer_update: { address: 'auto', name: 'auto' },
        allow_promotion_codes: true,
        subscription_data: { metadata: { tenant_id: tenant.id, plan: body.plan } },
        metadata: { tenant_id: tenant.id, plan: body.plan },
        success_url: `${config.returnUrl}${config.returnUrl.includes('?') ? '&' : '?'}checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${config.returnUrl}${config.returnUrl.includes('?') ? '&' : '?'}checkout=canceled`,
      })
      .catch(stripeFailure);
    if (!session.url) throw new HttpError(502, 'stripe_error', 'Stripe returned no Checkout URL.');
    return c.json({ url: session.url, id: session.id });
  });

  app.post('/billing/portal', async (c) => {
    // The portal needs nothing but the tenant, which may come as a header with no body at all.
    const body = (await c.req.text()).trim() === '' ? {} : await jsonBody(c, portalSchema);
    const user = c.get('user');
    const tenant = await tenantOf(user, body.tenant_id, c.req.header('x-tenant-id'));
    const stripe = stripeOrUnavailable();
    const customer = await customerOf(stripe, tenant, user);
    const session = await stripe.billingPortal.sessions
      .create({ customer, return_url: config.returnUrl })
      .catch(stripeFailure);
    return c.json({ url: session.url });
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  const config = billingConfig(context.env);
  return createBillingApp({
    db: context.db,
    verifier: createClaimsVerifier(context.env),
    config,
    stripe: createStripe(config),
    log: context.log,
  });
}
