import { useEffect } from 'preact/hooks';
import { dismissNotice, loadNotices, type Notice, notices } from '../data/notices.ts';
import type { Role } from '../data/tenants.ts';
import { type MessageKey, t } from '../i18n/index.ts';

const METRIC_LABEL: Record<string, MessageKey> = {
  bot_replies_per_month: 'metricBotReplies',
  conversations_per_month: 'metricConversations',
  crawl_pages: 'metricCrawlPages',
  documents: 'metricDocuments',
  storage_mb: 'metricStorage',
  tools: 'metricTools',
  seats: 'metricSeats',
};

// Quotas whose limit changes what visitors get: the notice says so, since that is what an owner
// most needs to know about them.
const BOT_QUOTAS = new Set(['bot_replies_per_month', 'conversations_per_month']);

const text = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' ? value : '';

function describe(notice: Notice): string {
  const d = notice.data;
  const metric = String(d.metric ?? '');
  const params = {
    metric: METRIC_LABEL[metric] ? t(METRIC_LABEL[metric]) : metric,
    used: text(d.used),
    limit: text(d.limit),
    plan: text(d.plan_id),
    from: text(d.from),
    to: text(d.to),
    date: typeof d.grace_until === 'string' ? new Date(d.grace_until).toLocaleDateString() : '',
  };
  switch (notice.kind) {
    case 'quota_warning':
      return t('noticeQuotaWarning', params);
    case 'quota_reached':
      return t(BOT_QUOTAS.has(metric) ? 'noticeQuotaReachedBot' : 'noticeQuotaReached', params);
    case 'payment_failed':
      return t('noticePaymentFailed', params);
    case 'plan_downgraded':
      return t('noticePlanDowngraded', params);
    default:
      return t('noticePlanChanged', params);
  }
}

const URGENT = new Set<Notice['kind']>(['quota_reached', 'payment_failed', 'plan_downgraded']);

/** The tenant's unread billing and quota notices, above every page. */
export function Notices({ tenantId, role }: { tenantId: string; role: Role }) {
  useEffect(() => {
    notices.value = [];
    void loadNotices(tenantId);
    // Coming back to the tab is when news is worth fetching; the admin stays open for hours.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void loadNotices(tenantId);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [tenantId]);

  if (notices.value.length === 0) return null;
  // Operators read every tenant's notices but dismissing them is the tenant's own business.
  const canDismiss = role === 'owner' || role === 'admin';
  return (
    <div class="notices" data-admin="notices">
      <ul class="notice-list" aria-label={t('notices')}>
        {notices.value.map((n) => (
          <li
            key={n.id}
            class={URGENT.has(n.kind) ? 'notice urgent' : 'notice'}
            data-notice={n.kind}
          >
            <span>{describe(n)}</span>
            {canDismiss && (
              <button
                type="button"
                data-admin="dismiss-notice"
                onClick={() => void dismissNotice(n)}
              >
                {t('dismiss')}
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
