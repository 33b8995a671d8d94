import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

// A Stripe API stand-in at the HTTP level, for the real `stripe` SDK pointed at it
// (STRIPE_API_BASE): customers, Checkout Sessions, Customer Portal sessions and subscription
// retrieval, with Stripe's object shapes and error bodies. Tests drive the subscriptions'
// lifecycle themselves and build the events Stripe would send, signed with the SDK's own
// test-header helper.

export const WEBHOOK_SECRET = 'whsec_test_parley_0123456789abcdef';
export const SECRET_KEY = 'sk_test_parley_fake';
export const PRICES = {
  STRIPE_PRICE_STARTER_MONTHLY: 'price_starter_month',
  STRIPE_PRICE_STARTER_YEARLY: 'price_starter_year',
  STRIPE_PRICE_PRO_MONTHLY: 'price_pro_month',
  STRIPE_PRICE_PRO_YEARLY: 'price_pro_year',
  STRIPE_PRICE_BUSINESS_MONTHLY: 'price_business_month',
  STRIPE_PRICE_BUSINESS_YEARLY: 'price_business_year',
} as const;

type Json = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  params: Json;
  headers: Record<string, string | string[] | undefined>;
}

/** Stripe's form encoding (a[b][0][c]=v) back into nested objects and arrays. */
export function parseForm(body: string): Json {
  const root: Json = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Record<string, unknown> | unknown[] = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const nextIsIndex = /^\d+$/.test(parts[i + 1] ?? '');
      const slot = node as Record<string, unknown>;
      if (last) slot[part] = value;
      else {
        slot[part] ??= nextIsIndex ? [] : {};
        node = slot[part] as Record<string, unknown>;
      }
    });
  }
  return root;
}

const now = () => Math.floor(Date.now() / 1000);
const randomId = (prefix: string) =>
  `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;

function price(id: string): Json {
  const [, plan, interval] = /^price_([a-z]+)_(month|year)$/.exec(id) ?? [];
  return {
    id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: 1_700_000_000,
    currency: 'usd',
    livemode: false,
    lookup_key: plan ? `parley_${plan}_${interval}` : null,
    metadata: {},
    nickname: null,
    product: `prod_${plan ?? 'other'}`,
    recurring: {
      interval: interval ?? 'month',
      interval_count: 1,
      meter: null,
      usage_type: 'licensed',
    },
    tax_behavior: 'exclusive',
    type: 'recurring',
    unit_amount: 4900,
    unit_amount_decimal: '4900',
  };
}

export interface FakeStripe {
  url: string;
  requests: RecordedRequest[];
  customers: Map<string, Json>;
  subscriptions: Map<string, Json>;
  /** A subscription as Checkout would have created it for this customer and price. */
  createSubscription(options: {
    customer: string;
    price: string;
    tenantId?: string;
    status?: string;
  }): Json;
  /** Changes a subscription as Stripe would (plan change, cancellation, failed payment…). */
  updateSubscription(
    id: string,
    change: { price?: string; status?: string; cancel_at_period_end?: boolean },
  ): Json;
  /** An Event object as Stripe sends it, with a copy of the object as of now. */
  event(type: string, object: Json, created?: number): Json;
  checkoutCompleted(subscription: Json, tenantId: string): Json;
  invoice(subscription: Json, paid: boolean): Json;
  /** The Stripe-Signature header for a payload, made by the SDK itself. */
  sign(payload: string, options?: { timestamp?: number; secret?: string }): string;
  close(): Promise<void>;
}

function error(status: number, type: string, message: string, code?: string) {
  return { status, body: { error: { type, message, ...(code ? { code } : {}) } } };
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const customers = new Map<string, Json>();
  const subscriptions = new Map<string, Json>();
  const idempotent = new Map<string, Json>();
  const sdk = new Stripe(SECRET_KEY);

  function subscriptionItem(subscriptionId: string, priceId: string, periodStart: number): Json {
    return {
      id: randomId('si'),
      object: 'subscription_item',
      created: periodStart,
      current_period_start: periodStart,
      current_period_end: periodStart + 30 * 86400,
      discounts: [],
      metadata: {},
      price: price(priceId),
      quantity: 1,
      subscription: subscriptionId,
      tax_rates: [],
    };
  }

  function route(method: string, path: string, params: Json, idempotencyKey: string | undefined) {
    if (method === 'POST' && path === '/v1/customers') {
      if (idempotencyKey && idempotent.has(idempotencyKey)) {
        return { status: 200, body: idempotent.get(idempotencyKey) as Json };
      }
      const customer: Json = {
        id: randomId('cus'),
        object: 'customer',
        address: null,
        balance: 0,
        created: now(),
        currency: null,
        email: params.email ?? null,
        livemode: false,
        metadata: params.metadata ?? {},
        name: params.name ?? null,
        tax_exempt: 'none',
      };
      customers.set(customer.id as string, customer);
      if (idempotencyKey) idempotent.set(idempotencyKey, customer);
      return { status: 200, body: customer };
    }
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      if (!params.customer || !customers.has(params.customer as string)) {
        return error(400, 'invalid_request_error', 'No such customer', 'resource_missing');
      }
      const id = randomId('cs_test');
      return {
        status: 200,
        body: {
          id,
          object: 'checkout.session',
          allow_promotion_codes: params.allow_promotion_codes === 'true',
          automatic_tax: {
            enabled: (params.automatic_tax as Json)?.enabled === 'true',
            status: null,
          },
          cancel_url: params.cancel_url,
          client_reference_id: params.client_reference_id ?? null,
          created: now(),
          customer: params.customer,
          expires_at: now() + 86400,
          livemode: false,
          metadata: params.metadata ?? {},
          mode: params.mode,
          payment_status: 'unpaid',
          status: 'open',
          subscription: null,
          success_url: params.success_url,
          url: `https://checkout.stripe.com/c/pay/${id}`,
        },
      };
    }
    if (method === 'POST' && path === '/v1/billing_portal/sessions') {
      if (!customers.has(params.customer as string)) {
        return error(400, 'invalid_request_error', 'No such customer', 'resource_missing');
      }
      const id = randomId('bps');
      return {
        status: 200,
        body: {
          id,
          object: 'billing_portal.session',
          configuration: 'bpc_default',
          created: now(),
          customer: params.customer,
          livemode: false,
          locale: null,
          return_url: params.return_url ?? null,
          url: `https://billing.stripe.com/p/session/test_${id}`,
        },
      };
    }
    const sub = /^\/v1\/subscriptions\/([A-Za-z0-9_]+)$/.exec(path);
    if (method === 'GET' && sub) {
      const found = subscriptions.get(sub[1] as string);
      if (!found) {
        return error(
          404,
          'invalid_request_error',
          `No such subscription: '${sub[1]}'`,
          'resource_missing',
        );
      }
      return { status: 200, body: structuredClone(found) };
    }
    return error(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
  }

  const server: Server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stripe.test');
      const params = parseForm(req.method === 'GET' ? url.search.slice(1) : raw);
      requests.push({ method: req.method ?? '', path: url.pathname, params, headers: req.headers });
      const result =
        req.headers.authorization !== `Bearer ${SECRET_KEY}`
          ? error(401, 'invalid_request_error', 'Invalid API Key provided')
          : route(
              req.method ?? '',
              url.pathname,
              params,
              req.headers['idempotency-key'] as string | undefined,
            );
      res.writeHead(result.status, {
        'content-type': 'application/json',
        'request-id': randomId('req'),
      });
      res.end(JSON.stringify(result.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    customers,
    subscriptions,
    createSubscription({ customer, price: priceId, tenantId, status = 'active' }) {
      const id = randomId('sub');
      const start = now();
      const subscription: Json = {
        id,
        object: 'subscription',
        automatic_tax: { enabled: true, liability: null },
        billing_cycle_anchor: start,
        cancel_at: null,
        cancel_at_period_end: false,
        canceled_at: null,
        collection_method: 'charge_automatically',
        created: start,
        currency: 'usd',
        customer,
        ended_at: null,
        items: {
          object: 'list',
          data: [subscriptionItem(id, priceId, start)],
          has_more: false,
          total_count: 1,
          url: `/v1/subscription_items?subscription=${id}`,
        },
        latest_invoice: randomId('in'),
        livemode: false,
        metadata: tenantId ? { tenant_id: tenantId } : {},
        pause_collection: null,
        start_date: start,
        status,
        trial_end: null,
        trial_start: null,
      };
      subscriptions.set(id, subscription);
      return structuredClone(subscription);
    },
    updateSubscription(id, change) {
      const subscription = subscriptions.get(id);
      if (!subscription) throw new Error(`no subscription ${id}`);
      if (change.price) {
        (subscription.items as { data: Json[] }).data = [subscriptionItem(id, change.price, now())];
      }
      if (change.status) {
        subscription.status = change.status;
        if (change.status === 'canceled') {
          subscription.canceled_at = now();
          subscription.ended_at = now();
        }
      }
      if (change.cancel_at_period_end !== undefined) {
        subscription.cancel_at_period_end = change.cancel_at_period_end;
      }
      return structuredClone(subscription);
    },
    event(type, object, created = now()) {
      return {
        id: randomId('evt'),
        object: 'event',
        api_version: Stripe.API_VERSION,
        created,
        data: { object: structuredClone(object) },
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        type,
      };
    },
    checkoutCompleted(subscription, tenantId) {
      return {
        id: randomId('cs_test'),
        object: 'checkout.session',
        client_reference_id: tenantId,
        customer: subscription.customer,
        mode: 'subscription',
        payment_status: 'paid',
        status: 'complete',
        subscription: subscription.id,
        metadata: { tenant_id: tenantId },
      };
    },
    invoice(subscription, paid) {
      return {
        id: randomId('in'),
        object: 'invoice',
        customer: subscription.customer,
        status: paid ? 'paid' : 'open',
        attempted: true,
        amount_due: 4900,
        amount_paid: paid ? 4900 : 0,
        parent: {
          type: 'subscription_details',
          quote_details: null,
          subscription_details: { metadata: {}, subscription: subscription.id },
        },
      };
    },
    sign(payload, options = {}) {
      return sdk.webhooks.generateTestHeaderString({
        payload,
        secret: options.secret ?? WEBHOOK_SECRET,
        ...(options.timestamp ? { timestamp: options.timestamp } : {}),
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
