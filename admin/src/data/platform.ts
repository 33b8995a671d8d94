import { must, supabase } from './client.ts';

// The operators' functions (operators only; everyone else gets 42501): every tenant with its plan,
// usage and status, suspend and resume, the audited read-only view, and the audit log.

export interface PlatformTenant {
  id: string;
  name: string;
  slug: string;
  plan_id: string;
  status: 'active' | 'suspended';
  created_at: string;
  members: number;
  conversations_this_month: number;
  bot_replies_this_month: number;
  documents: number;
  last_activity_at: string | null;
  suspended_at: string | null;
}

export interface TenantView {
  tenant: {
    id: string;
    name: string;
    slug: string;
    plan_id: string;
    status: string;
    bot_engine: string;
    allowed_origins: string[];
    enforce_identity: boolean;
    created_at: string;
  };
  members: { email: string; role: string; joined_at: string }[];
  usage: { metric: string; used: number; quota: number | null }[];
  conversations: {
    id: string;
    status: string;
    channel: string;
    created_at: string;
    last_message_at: string | null;
  }[];
  documents: Record<string, number>;
}

export interface AuditEntry {
  id: number;
  actor_id: string | null;
  action: 'view' | 'suspend' | 'resume';
  tenant_id: string | null;
  detail: { what?: string; reason?: string };
  created_at: string;
}

export async function loadTenants(): Promise<PlatformTenant[]> {
  const rows = must(await supabase().rpc('platform_tenants')) as PlatformTenant[];
  // bigint columns arrive as numbers or strings depending on the driver.
  return rows.map((r) => ({
    ...r,
    members: Number(r.members),
    conversations_this_month: Number(r.conversations_this_month),
    bot_replies_this_month: Number(r.bot_replies_this_month),
    documents: Number(r.documents),
  }));
}

export async function setSuspended(tenantId: string, suspend: boolean, reason: string) {
  must(
    await supabase().rpc(suspend ? 'suspend_tenant' : 'resume_tenant', {
      p_tenant_id: tenantId,
      p_reason: reason.trim() || null,
    }),
  );
}

export async function viewTenant(tenantId: string): Promise<TenantView> {
  return must(
    await supabase().rpc('platform_view_tenant', { p_tenant_id: tenantId }),
  ) as TenantView;
}

export async function loadAudit(limit = 50): Promise<AuditEntry[]> {
  return must(
    await supabase()
      .from('platform_audit_log')
      .select('id, actor_id, action, tenant_id, detail, created_at')
      .order('id', { ascending: false })
      .limit(limit),
  ) as AuditEntry[];
}
