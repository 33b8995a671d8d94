import { useEffect, useState } from 'preact/hooks';
import {
  type BillingState,
  loadBilling,
  openPortal,
  type Plan,
  startCheckout,
  type Usage,
} from '../../data/billing.ts';
import { problem } from '../../data/client.ts';
import { FunctionError } from '../../data/functions.ts';
import { locale } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { type BillingMessage, m } from './messages.ts';

// The billing page: the plan in force and the subscription's state, this month's usage against the
// plan's limits as bars, the paid plans with an upgrade through Stripe Checkout, and the Customer
// Portal for everything Stripe keeps (invoices, card, plan changes, cancellation). Both go through
// the billing function, which asks the database whether the caller is an owner or admin.

/** Stripe states in which the tenant already pays: another plan is chosen in the portal. */
const LIVE = new Set(['active', 'trialing', 'past_due', 'unpaid']);

const STATUS: Record<string, BillingMessage> = {
  active: 'statusActive',
  trialing: 'statusTrialing',
  past_due: 'statusPastDue',
  unpaid: 'statusUnpaid',
  canceled: 'statusCanceled',
  paused: 'statusPaused',
  incomplete: 'statusIncomplete',
  incomplete_expired: 'statusCanceled',
  inactive: 'statusInactive',
};

const METRICS = new Set<string>([
  'bot_replies_per_month',
  'conversations_per_month',
  'crawl_pages',
  'documents',
  'tools',
  'seats',
  'storage_mb',
  'channels',
  'retention_days',
]);
const metricLabel = (metric: string) =>
  METRICS.has(metric) ? m(metric as BillingMessage) : metric;

const number = (v: number) => new Intl.NumberFormat(locale.value).format(v);
const money = (cents: number, currency: string) =>
  new Intl.NumberFormat(locale.value, {
    style: 'currency',
    currency: currency.toUpperCase(),
    maximumFractionDigits: cents % 100 === 0 ? 0 : 2,
  }).format(cents / 100);
const date = (iso: string) =>
  new Intl.DateTimeFormat(locale.value, { dateStyle: 'long' }).format(new Date(iso));

/** A billing function's refusal, in words. */
export function billingError(error: unknown): string {
  if (error instanceof FunctionError) {
    const known: Record<string, BillingMessage> = {
      billing_not_configured: 'errorNotConfigured',
      already_subscribed: 'errorAlreadySubscribed',
      plan_not_available: 'errorPlanNotAvailable',
      stripe_error: 'errorStripe',
      forbidden: 'errorForbidden',
      unauthorized: 'errorSignIn',
      network: 'errorNetwork',
    };
    const key = known[error.code];
    if (key) return m(key);
  }
  return m('errorOther', { reason: problem(error) });
}

function UsageBars({ usage }: { usage: Usage[] }) {
  return (
    <div class="usage" data-admin="usage">
      {usage.map((u) => {
        const id = `usage-${u.metric}`;
        const level =
          u.quota !== null && u.used >= u.quota
            ? 'full'
            : u.percent !== null && u.percent >= 80
              ? 'high'
              : 'ok';
        const amount =
          u.quota === null
            ? m('unlimited', { used: number(u.used) })
            : m('usageOf', { used: number(u.used), quota: number(u.quota) });
        return (
          <div key={u.metric} data-usage={u.metric}>
            <label for={id}>
              <span>{metricLabel(u.metric)}</span>
              <span data-admin="usage-amount">
                {amount}
                {level === 'full' ? ` · ${m('usageFull')}` : ''}
              </span>
            </label>
            {u.quota !== null && (
              <progress
                id={id}
                max={Math.max(u.quota, 1)}
                value={Math.min(u.used, u.quota)}
                data-level={level}
                aria-valuetext={amount}
              />
            )}
          </div>
        );
      })}
    </div>
  );
}

function PlanCard({
  plan,
  current,
  interval,
  subscribed,
  busy,
  onChoose,
}: {
  plan: Plan;
  current: boolean;
  interval: 'month' | 'year';
  subscribed: boolean;
  busy: boolean;
  onChoose: (plan: Plan) => void;
}) {
  const paid = plan.price_cents > 0;
  const price = !paid
    ? m('free')
    : interval === 'year'
      ? m('perYear', { price: money(plan.price_yearly_cents, plan.currency) })
      : m('perMonth', { price: money(plan.price_cents, plan.currency) });
  const limits = Object.entries(plan.limits).filter(([k]) => METRICS.has(k));
  return (
    <li class="plan" data-plan={plan.id} aria-current={current ? 'true' : undefined}>
      <h3>{plan.name}</h3>
      <p>{price}</p>
      <ul>
        {limits.map(([k, v]) => (
          <li key={k}>
            {metricLabel(k)}: {number(v)}
          </li>
        ))}
      </ul>
      {current ? (
        <p class="muted">{m('current')}</p>
      ) : (
        paid && (
          <button
            type="button"
            class={subscribed ? undefined : 'primary'}
            data-admin="choose-plan"
            disabled={busy}
            onClick={() => onChoose(plan)}
          >
            {subscribed
              ? m('changeInPortal', { plan: plan.name })
              : m('upgrade', { plan: plan.name })}
          </button>
        )
      )}
    </li>
  );
}

export default function BillingPage({ tenantId }: PageProps) {
  const [state, setState] = useState<BillingState | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [period, setPeriod] = useState<'month' | 'year'>('month');

  useEffect(() => {
    let live = true;
    loadBilling(tenantId)
      .then((s) => {
        if (!live) return;
        setState(s);
        if (s.subscription?.billing_interval) setPeriod(s.subscription.billing_interval);
      })
      .catch((e) => live && setLoadError(m('loadFailed', { reason: problem(e) })));
    return () => {
      live = false;
    };
  }, [tenantId]);

  const go = async (call: () => Promise<{ url: string }>) => {
    setBusy(true);
    setActionError(null);
    try {
      const { url } = await call();
      window.location.assign(url);
    } catch (error) {
      setActionError(billingError(error));
      setBusy(false);
    }
  };

  if (loadError) {
    return (
      <div class="billing">
        <h1>{m('title')}</h1>
        <p class="error" role="alert">
          {loadError}
        </p>
      </div>
    );
  }
  if (!state) {
    return (
      <div class="billing" aria-busy="true">
        <h1>{m('title')}</h1>
      </div>
    );
  }

  const sub = state.subscription;
  const subscribed = sub !== null && LIVE.has(sub.status) && sub.plan_id !== 'free';
  const plan = state.plans.find((p) => p.id === state.planId);
  const choose = (p: Plan) =>
    void go(() => (subscribed ? openPortal(tenantId) : startCheckout(tenantId, p.id, period)));

  return (
    <div class="billing" data-admin="billing">
      <h1>{m('title')}</h1>
      <section aria-labelledby="billing-current">
        <h2 id="billing-current">{m('currentPlan')}</h2>
        <div class="current-plan">
          <p data-admin="current-plan">{m('planIs', { plan: plan?.name ?? state.planId })}</p>
          {sub && sub.status !== 'inactive' && (
            <p data-admin="subscription-status">
              {m('status', { status: m(STATUS[sub.status] ?? 'statusInactive') })}
            </p>
          )}
        </div>
        {sub?.grace_until && LIVE.has(sub.status) && (
          <p class="error" role="alert">
            {m('grace', { date: date(sub.grace_until) })}
          </p>
        )}
        {sub?.current_period_end && LIVE.has(sub.status) && (
          <p>
            {m(sub.cancel_at_period_end ? 'ends' : 'renews', {
              date: date(sub.current_period_end),
            })}
          </p>
        )}
        {sub?.stripe_customer_id && (
          <p>
            <button
              type="button"
              data-admin="portal"
              disabled={busy}
              onClick={() => void go(() => openPortal(tenantId))}
            >
              {m('manage')}
            </button>{' '}
            <span class="muted">{m('manageHint')}</span>
          </p>
        )}
      </section>
      {actionError && (
        <p class="error" role="alert" data-admin="billing-error">
          {actionError}
        </p>
      )}
      {busy && <p aria-live="polite">{m('redirecting')}</p>}
      <section aria-labelledby="billing-usage">
        <h2 id="billing-usage">{m('usage')}</h2>
        <UsageBars usage={state.usage} />
      </section>
      <section aria-labelledby="billing-plans">
        <h2 id="billing-plans">{m('plans')}</h2>
        <fieldset>
          <legend>{m('interval')}</legend>
          <label>
            <input
              type="radio"
              name="interval"
              value="month"
              data-admin="interval-month"
              checked={period === 'month'}
              onChange={() => setPeriod('month')}
            />{' '}
            {m('monthly')}
          </label>{' '}
          <label>
            <input
              type="radio"
              name="interval"
              value="year"
              data-admin="interval-year"
              checked={period === 'year'}
              onChange={() => setPeriod('year')}
            />{' '}
            {m('yearly')}
          </label>
        </fieldset>
        <ul class="plans">
          {state.plans.map((p) => (
            <PlanCard
              key={p.id}
              plan={p}
              current={p.id === state.planId}
              interval={period}
              subscribed={subscribed}
              busy={busy}
              onChoose={choose}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}
