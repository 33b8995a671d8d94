import Stripe from 'stripe';

// Billing settings from the functions' environment. Stripe price ids are configuration, one per
// paid plan and interval, so the same database serves a test and a live Stripe account:
//   STRIPE_PRICE_STARTER_MONTHLY, STRIPE_PRICE_STARTER_YEARLY, STRIPE_PRICE_PRO_MONTHLY, …

export const PAID_PLANS = ['starter', 'pro', 'business'] as const;
export type PaidPlan = (typeof PAID_PLANS)[number];
export type Interval = 'month' | 'year';

export interface BillingConfig {
  /** STRIPE_SECRET_KEY; without it checkout and portal answer 503 billing_not_configured. */
  secretKey: string | null;
  /** STRIPE_WEBHOOK_SECRET (whsec_…); without it the webhook answers 503. */
  webhookSecret: string | null;
  /** STRIPE_API_BASE: another Stripe API address (a mock or proxy); Stripe's own when unset. */
  apiBase: { protocol: 'http' | 'https'; host: string; port: number } | null;
  /** Price id → plan and interval. */
  prices: Map<string, { plan: PaidPlan; interval: Interval }>;
  /** BILLING_GRACE_DAYS: how long a failing payment keeps the paid plan (7). */
  graceDays: number;
  /** BILLING_RETURN_URL: where Checkout and the portal send the customer back. */
  returnUrl: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function apiBase(value: string | undefined): BillingConfig['apiBase'] {
  if (!value) return null;
  const url = new URL(value);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return {
    protocol,
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
  };
}

export function billingConfig(env: Env): BillingConfig {
  const prices = new Map<string, { plan: PaidPlan; interval: Interval }>();
  for (const plan of PAID_PLANS) {
    for (const [suffix, interval] of [
      ['MONTHLY', 'month'],
      ['YEARLY', 'year'],
    ] as const) {
      const id = env[`STRIPE_PRICE_${plan.toUpperCase()}_${suffix}`]?.trim();
      if (id) prices.set(id, { plan, interval });
    }
  }
  const grace = Number(env.BILLING_GRACE_DAYS ?? '7');
  const site = env.SITE_URL ?? env.SUPABASE_URL ?? 'http://127.0.0.1:54321';
  return {
    secretKey: env.STRIPE_SECRET_KEY?.trim() || null,
    webhookSecret: env.STRIPE_WEBHOOK_SECRET?.trim() || null,
    apiBase: apiBase(env.STRIPE_API_BASE),
    prices,
    graceDays: Number.isFinite(grace) && grace >= 0 ? grace : 7,
    returnUrl: env.BILLING_RETURN_URL ?? `${site.replace(/\/+$/, '')}/admin/#/billing`,
  };
}

export function priceFor(config: BillingConfig, plan: PaidPlan, interval: Interval) {
  for (const [id, price] of config.prices) {
    if (price.plan === plan && price.interval === interval) return id;
  }
  return null;
}

/** A Stripe client on fetch and Web Crypto, so the same code runs on Deno, Node and the edge. */
export function createStripe(config: BillingConfig, fetchFn: typeof fetch = fetch): Stripe | null {
  if (!config.secretKey) return null;
  return new Stripe(config.secretKey, {
    httpClient: Stripe.createFetchHttpClient(fetchFn),
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    ...(config.apiBase ?? {}),
  });
}

export const webCrypto = () => Stripe.createSubtleCryptoProvider();
