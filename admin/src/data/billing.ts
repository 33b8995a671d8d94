import { must, supabase } from './client.ts';
import { callFunction } from './functions.ts';

// The billing page's reads and the two billing function calls (docs/billing.md). The plan in force
// is tenants.plan_id; what is paid for and its state is the tenant's subscriptions row, which RLS
// shows to owners, admins and operators; usage against the plan's limits is public.tenant_usage.

export interface Plan {
  id: string;
  name: string;
  limits: Record<string, number>;
  price_cents: number;
  price_yearly_cents: number;
  currency: string;
  sort_order: number;
}

export interface Subscription {
  plan_id: string;
  status: string;
  billing_interval: 'month' | 'year' | null;
  current_period_end: string | null;
  cancel_at_period_end: boolean;
  grace_until: string | null;
  stripe_customer_id: string | null;
}

export interface Usage {
  metric: string;
  used: number;
  quota: number | null;
  percent: number | null;
}

export interface BillingState {
  planId: string;
  plans: Plan[];
  subscription: Subscription | null;
  usage: Usage[];
}

export async function loadBilling(tenantId: string): Promise<BillingState> {
  const db = supabase();
  const [tenant, plans, subscription, usage] = await Promise.all([
    db.from('tenants').select('plan_id').eq('id', tenantId).single(),
    db
      .from('plans')
      .select('id, name, limits, price_cents, price_yearly_cents, currency, sort_order, active')
      .order('sort_order'),
    db
      .from('subscriptions')
      .select(
        'plan_id, status, billing_interval, current_period_end, cancel_at_period_end, grace_until, stripe_customer_id',
      )
      .eq('tenant_id', tenantId)
      .maybeSingle(),
    db.rpc('tenant_usage', { p_tenant_id: tenantId }),
  ]);
  return {
    planId: (must(tenant) as { plan_id: string }).plan_id,
    // Retired plans are dropped here rather than by an `active=eq.true` filter, which the local
    // stack's Data API cannot yet bind to a boolean column.
    plans: (must(plans) as (Plan & { active: boolean })[]).filter((p) => p.active),
    subscription: must(subscription) as Subscription | null,
    usage: (must(usage) as Usage[]).map((u) => ({
      metric: u.metric,
      used: Number(u.used),
      quota: u.quota === null ? null : Number(u.quota),
      percent: u.percent === null ? null : Number(u.percent),
    })),
  };
}

/** A Stripe Checkout Session for a paid plan; the caller goes there to pay. */
export function startCheckout(tenantId: string, plan: string, interval: 'month' | 'year') {
  return callFunction<{ url: string; id: string }>('billing/checkout', {
    tenant_id: tenantId,
    plan,
    interval,
  });
}

/** A Stripe Customer Portal session: invoices, card, plan changes, cancellation. */
export function openPortal(tenantId: string) {
  return callFunction<{ url: string }>('billing/portal', { tenant_id: tenantId });
}
