import { loadConfig } from '../config.ts';
import { must, supabase } from './client.ts';

// The team page's data: members with their addresses (public.team_members), pending invitations,
// the plan's seats; role changes and removals through the Data API under RLS; invitations through
// the team function, which asks Auth for the link once the database allowed the invitation.

export type TeamRole = 'owner' | 'admin' | 'agent';

export interface TeamMember {
  user_id: string;
  email: string;
  role: TeamRole;
  display_name: string | null;
  created_at: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: TeamRole;
  created_at: string;
  expires_at: string;
}

export interface TeamState {
  members: TeamMember[];
  invitations: Invitation[];
  /** The plan's seats; null when the plan sets no limit. */
  seats: number | null;
}

export async function loadTeamState(tenantId: string, manager: boolean): Promise<TeamState> {
  const db = supabase();
  const [members, invitations, tenant] = await Promise.all([
    db.rpc('team_members', { p_tenant_id: tenantId }),
    manager
      ? db
          .from('tenant_invitations')
          .select('id, email, role, created_at, expires_at')
          .eq('tenant_id', tenantId)
          .is('accepted_at', null)
          .gt('expires_at', new Date().toISOString())
          .order('created_at')
      : Promise.resolve({ data: [], error: null }),
    db.from('tenants').select('plan_id, plans(limits)').eq('id', tenantId).maybeSingle(),
  ]);
  const plan = must(tenant) as unknown as { plans: { limits: Record<string, unknown> } | null };
  const seats = plan.plans?.limits?.seats;
  return {
    members: must(members) as TeamMember[],
    invitations: must(invitations) as Invitation[],
    seats: typeof seats === 'number' ? seats : null,
  };
}

export async function changeRole(tenantId: string, userId: string, role: TeamRole) {
  const rows = must(
    await supabase()
      .from('tenant_members')
      .update({ role })
      .eq('tenant_id', tenantId)
      .eq('user_id', userId)
      .select('user_id'),
  ) as unknown[];
  if (rows.length === 0) throw new Error('not-allowed');
}

export async function removeMember(tenantId: string, userId: string) {
  const rows = must(
    await supabase()
      .from('tenant_members')
      .delete()
      .eq('tenant_id', tenantId)
      .eq('user_id', userId)
      .select('user_id'),
  ) as unknown[];
  if (rows.length === 0) throw new Error('not-allowed');
}

export async function withdrawInvitation(id: string) {
  must(await supabase().from('tenant_invitations').delete().eq('id', id));
}

export interface SentInvitation {
  invitation: Invitation;
  link: string;
}

/** Invites an address; answers the link to pass on. Errors carry the server's words. */
export async function sendInvitation(
  tenantId: string,
  email: string,
  role: TeamRole,
): Promise<SentInvitation> {
  const { supabaseUrl, supabaseKey } = await loadConfig();
  // Back to this admin, whatever the route: the link adds ?accept=<invitation>.
  const here = new URL(window.location.href);
  here.hash = '';
  here.search = '';
  const response = await fetch(`${supabaseUrl}/functions/v1/team/invite`, {
    method: 'POST',
    headers: {
      apikey: supabaseKey,
      Authorization: `Bearer ${await supabase().accessToken()}`,
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({ tenant_id: tenantId, email, role, redirect_to: here.toString() }),
  });
  const body = (await response.json().catch(() => null)) as
    | (SentInvitation & { error?: { message?: string } })
    | null;
  if (!response.ok || !body) {
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  return body;
}
