import { problem, supabase } from './client.ts';

// An invitation link leads back to the admin with ?accept=<invitation id> (and the session Auth
// started in the fragment, which auth.ts takes). Accepting is the database's call: the invitation
// must be pending, unexpired and for the signed-in address, and a seat must be free.

export type Accepted = { tenantId: string } | { problem: string };

/** Accepts the invitation once and takes it out of the address. */
export async function acceptInvitation(id: string): Promise<Accepted> {
  const url = new URL(window.location.href);
  url.searchParams.delete('accept');
  history.replaceState(history.state, '', url.toString());
  const { data, error } = await supabase().rpc('accept_invitation', { p_invitation_id: id });
  if (error) return { problem: problem(error) };
  const tenantId = (data as { tenant_id?: string } | null)?.tenant_id;
  return tenantId ? { tenantId } : { problem: 'no membership' };
}
