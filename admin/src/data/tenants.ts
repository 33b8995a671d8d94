import { computed, signal } from '@preact/signals';
import { safeStorage } from '../i18n/index.ts';
import { must, supabase } from './client.ts';

// The workspaces (tenants) the signed-in person works in, and the one they are looking at.

export type Role = 'owner' | 'admin' | 'agent' | 'platform';

export interface Membership {
  tenantId: string;
  name: string;
  role: Role;
}

export interface Member {
  user_id: string;
  role: 'owner' | 'admin' | 'agent';
  display_name: string | null;
  avatar_url: string | null;
}

export const memberships = signal<Membership[] | null>(null);
export const currentTenantId = signal<string | null>(null);
export const currentMembership = computed(
  () => memberships.value?.find((m) => m.tenantId === currentTenantId.value) ?? null,
);
/** The team of the current tenant: names for assignees and authors. */
export const team = signal<Member[]>([]);

const LAST_TENANT = 'parley-admin-tenant';

export async function loadMemberships(userId: string): Promise<Membership[]> {
  const db = supabase();
  const [rows, operator] = await Promise.all([
    db.from('tenant_members').select('tenant_id, role').eq('user_id', userId),
    db.from('platform_admins').select('user_id').eq('user_id', userId).maybeSingle(),
  ]);
  const mine = must(rows) as { tenant_id: string; role: Role }[];
  // Operators read every tenant; RLS shows them all, and members only their own.
  const tenants = must(
    await db
      .from('tenants')
      .select('id, name')
      .order('name')
      .limit(operator.data ? 500 : 100),
  ) as { id: string; name: string }[];
  const roles = new Map(mine.map((m) => [m.tenant_id, m.role]));
  const list = tenants
    .filter((t) => roles.has(t.id) || operator.data)
    .map((t) => ({ tenantId: t.id, name: t.name, role: roles.get(t.id) ?? ('platform' as Role) }));
  memberships.value = list;
  return list;
}

/** Picks the tenant to show: the one asked for, else the last used, else the first. */
export function chooseTenant(wanted: string | null): string | null {
  const list = memberships.value ?? [];
  const last = safeStorage()?.getItem(LAST_TENANT) ?? null;
  const pick =
    list.find((m) => m.tenantId === wanted) ??
    list.find((m) => m.tenantId === last) ??
    list[0] ??
    null;
  if (pick) safeStorage()?.setItem(LAST_TENANT, pick.tenantId);
  if (currentTenantId.value !== (pick?.tenantId ?? null)) {
    currentTenantId.value = pick?.tenantId ?? null;
    team.value = [];
    if (pick) void loadTeam(pick.tenantId);
  }
  return pick?.tenantId ?? null;
}

async function loadTeam(tenantId: string) {
  const { data } = await supabase()
    .from('tenant_members')
    .select('user_id, role, display_name, avatar_url')
    .eq('tenant_id', tenantId);
  if (currentTenantId.value === tenantId) team.value = (data ?? []) as Member[];
}

export function clearTenants() {
  memberships.value = null;
  currentTenantId.value = null;
  team.value = [];
}
