import { signal } from '@preact/signals';
import { must, problem, supabase } from './client.ts';
import { listen } from './realtime.ts';
import { session } from './session.ts';
import { currentMembership } from './tenants.ts';

// Staff presence in one tenant (supabase/migrations/*_presence_routing.sql): the team with each
// person's status and load, kept live by the inbox topic, and the signed-in person's own status,
// renewed by a heartbeat while the admin is open. Routing gives conversations only to people who
// are online, and counts anyone whose heartbeats stopped for 90 seconds as offline.

export type PresenceStatus = 'online' | 'away' | 'offline';

export interface Agent {
  user_id: string;
  display_name: string | null;
  role: string;
  status: PresenceStatus;
  open_conversations: number;
}

export const HEARTBEAT_MS = 30_000;

export function createPresence(tenantId: string) {
  const agents = signal<Agent[]>([]);
  const mine = signal<PresenceStatus>('offline');
  const error = signal<string | null>(null);
  const db = supabase();
  // Operators look at tenants; they do not work in them.
  const staff = currentMembership.value?.role !== 'platform';
  let disposed = false;

  async function load() {
    try {
      const rows = must(await db.rpc('tenant_agents', { p_tenant_id: tenantId })) as Agent[];
      if (disposed) return;
      agents.value = rows;
      const me = rows.find((a) => a.user_id === session.value?.user.id);
      if (me) mine.value = me.status;
      error.value = null;
    } catch (e) {
      if (!disposed) error.value = problem(e);
    }
  }

  async function set(status: PresenceStatus) {
    if (!staff) return;
    must(await db.rpc('set_agent_presence', { p_tenant_id: tenantId, p_status: status }));
    mine.value = status;
    await load();
  }

  const beat = setInterval(() => {
    if (staff && mine.value !== 'offline') void set(mine.value).catch(() => undefined);
  }, HEARTBEAT_MS);

  let reload: ReturnType<typeof setTimeout> | undefined;
  const stop = listen(
    `tenant:${tenantId}:inbox`,
    (event) => {
      // Loads move with assignments and status changes; one reload for a burst of them.
      if (event === 'presence' || event === 'conversation_updated') {
        clearTimeout(reload);
        reload = setTimeout(() => void load(), 300);
      }
    },
    () => void load(),
  );

  void load().then(() => {
    // Back in the admin while still counted as present: keep it that way.
    if (staff && mine.value !== 'offline') void set(mine.value).catch(() => undefined);
  });

  return {
    agents,
    mine,
    error,
    staff,
    async set(status: PresenceStatus) {
      try {
        await set(status);
      } catch (e) {
        error.value = problem(e);
      }
    },
    dispose() {
      disposed = true;
      clearInterval(beat);
      clearTimeout(reload);
      stop();
    },
  };
}

export type Presence = ReturnType<typeof createPresence>;
