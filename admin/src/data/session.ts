import { signal } from '@preact/signals';
import type { Session } from './auth.ts';
import { supabase } from './client.ts';

/** undefined while the stored session is being restored; null when signed out. */
export const session = signal<Session | null | undefined>(undefined);

export function watchSession() {
  const auth = supabase().auth;
  auth.getSession().then(({ data }) => {
    session.value = data.session;
  });
  auth.onAuthStateChange((_event, next) => {
    // A token refresh is the same person: only a change of user resets what depends on it.
    if (next?.user.id !== session.value?.user.id || !next) session.value = next;
  });
}

export async function signIn(email: string, password: string): Promise<boolean> {
  const { data, error } = await supabase().auth.signInWithPassword({ email, password });
  if (error || !data.session) return false;
  session.value = data.session;
  return true;
}

export async function signOut() {
  await supabase().realtime.removeAllChannels();
  await supabase().auth.signOut();
  session.value = null;
}
