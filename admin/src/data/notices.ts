import { signal } from '@preact/signals';
import { supabase } from './client.ts';

/** What a tenant's owners are told (public.tenant_notices): quotas, failed payments, plan changes. */
export interface Notice {
  id: string;
  kind: 'quota_warning' | 'quota_reached' | 'payment_failed' | 'plan_downgraded' | 'plan_changed';
  dedupe_key: string | null;
  data: Record<string, unknown>;
  created_at: string;
}

export const notices = signal<Notice[]>([]);
let loadedFor: string | null = null;

/**
 * The tenant's unread notices, newest first. RLS shows them to owners, admins and operators only,
 * so everyone may ask: an agent simply gets none. A warning is dropped when the limit it warned of
 * has been reached since, so one quota never takes two lines.
 */
export async function loadNotices(tenantId: string): Promise<void> {
  loadedFor = tenantId;
  const { data } = await supabase()
    .from('tenant_notices')
    .select('id, kind, dedupe_key, data, created_at')
    .eq('tenant_id', tenantId)
    .is('read_at', null)
    .order('created_at', { ascending: false })
    .limit(20);
  if (loadedFor !== tenantId) return;
  const rows = (data ?? []) as Notice[];
  const reached = new Set(rows.filter((n) => n.kind === 'quota_reached').map((n) => n.dedupe_key));
  notices.value = rows.filter((n) => n.kind !== 'quota_warning' || !reached.has(n.dedupe_key));
}

/** Marks a notice read; it leaves the list at once and comes back only if the write fails. */
export async function dismissNotice(notice: Notice): Promise<boolean> {
  const before = notices.value;
  notices.value = before.filter((n) => n.id !== notice.id);
  const { data, error } = await supabase()
    .from('tenant_notices')
    .update({ read_at: new Date().toISOString() })
    .eq('id', notice.id)
    .select('id');
  if (error || !data?.length) {
    notices.value = before;
    return false;
  }
  return true;
}
