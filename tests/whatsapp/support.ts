import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { ChatHarness } from '../support/chat.ts';

// What the WhatsApp tests share besides the fake Meta: waiting for the queue's work, and staff
// signed in with the official client.

/** Polls until the probe gives something, or fails naming what never came. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  ms = 120_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A supabase-js client signed in as a member of staff. */
export async function signedIn(
  h: ChatHarness,
  staff: { email: string; password: string },
): Promise<SupabaseClient> {
  const client = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { error } = await client.auth.signInWithPassword(staff);
  if (error) throw error;
  return client;
}
