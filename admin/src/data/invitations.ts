import { signal } from '@preact/signals';
import { problem, supabase } from './client.ts';

// An invitation link leads back to the admin with ?accept=<invitation id> (and the session Auth
// started in the fragment, which auth-js takes). Accepting is the database's call: the invitation
// must be pending, unexpired and for the signed-in address, and a seat must be free.

export const invitationProblem = signal<string | null>(null);

/** Accepts the invitation the address names, once; the tenant joined, or null. */
export async function acceptInvitationFromUrl(): Promise<string | null> {
  const url = new URL(window.location.href);
  const id = url.searchParams.get('accept');
  if (!id) return null;
  url.searchParams.delete('accept');
  history.replaceState(history.state, '', url.toString());
  const { data, error } = await supabase().rpc('accept_invitation', { p_invitation_id: id });
  if (error) {
    invitationProblem.value = problem(error);
    return null;
  }
  return (data as { tenant_id?: string } | null)?.tenant_id ?? null;
}
