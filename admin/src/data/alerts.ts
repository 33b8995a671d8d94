import { computed, effect, signal } from '@preact/signals';
import { supabase } from './client.ts';
import { listen } from './realtime.ts';
import { session } from './session.ts';

// Telling staff that a visitor wrote where they are not looking: the tab title carries the count
// of such messages, and a short chime plays when the person turned it on. Only conversations that
// wait for or are with a person count (the bot answers the rest). The inbox topic says when a
// conversation's count of visitor messages (conversations.unread_count, kept by a trigger) grew;
// for a conversation not seen since the page opened, its newest message says whether it was the
// visitor's.

const SOUND_SETTING = 'parley_sound_alerts';

/** The chime is the person's choice, kept with their account (Auth's user metadata). */
export const soundOn = computed(
  () =>
    (session.value?.user.user_metadata as Record<string, unknown> | undefined)?.[SOUND_SETTING] ===
    true,
);

export async function setSound(on: boolean) {
  const { data, error } = await supabase().auth.updateUser({ data: { [SOUND_SETTING]: on } });
  if (error) throw error;
  const current = session.value;
  if (current && data.user) session.value = { ...current, user: data.user };
}

let audio: AudioContext | null = null;
/** Two short tones, made on the spot: no sound file to host or to load. */
export function chime() {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [at, frequency] of [
      [0, 880],
      [0.14, 1320],
    ] as const) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, now + at);
      gain.gain.exponentialRampToValueAtTime(0.2, now + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
      tone.connect(gain).connect(audio.destination);
      tone.start(now + at);
      tone.stop(now + at + 0.2);
    }
  } catch {
    // A browser without Web Audio still shows the count in the title.
  }
}

const PEOPLE = new Set(['handoff', 'open']);
/** A visitor message older than this is not news, whatever event brought its conversation up. */
const RECENT_MS = 120_000;

export function createAlerts(tenantId: string) {
  const unseen = signal<Record<string, number>>({});
  const total = computed(() => Object.values(unseen.value).reduce((sum, n) => sum + n, 0));
  const known = new Map<string, number>();
  let viewing: string | null = null;
  const baseTitle = document.title;

  const looking = (id: string) => id === viewing && document.visibilityState === 'visible';
  function seen(id: string | null) {
    if (!id || !(id in unseen.value)) return;
    const { [id]: _, ...rest } = unseen.value;
    unseen.value = rest;
  }

  async function visitorWroteLast(id: string) {
    const { data } = await supabase()
      .from('messages')
      .select('role, created_at')
      .eq('conversation_id', id)
      .eq('is_private', false)
      .order('created_at', { ascending: false })
      .limit(1);
    const last = (data as { role: string; created_at: string }[] | null)?.[0];
    return last?.role === 'user' && Date.now() - Date.parse(last.created_at) < RECENT_MS;
  }

  async function onUpdate(payload: Record<string, unknown>) {
    const id = payload.id;
    const count = Number(payload.unread_count);
    if (typeof id !== 'string' || !Number.isFinite(count)) return;
    const before = known.get(id);
    known.set(id, Math.max(count, before ?? 0));
    if (before !== undefined && count <= before) return;
    if (!PEOPLE.has(String(payload.status)) || looking(id)) return;
    if (before === undefined && !(await visitorWroteLast(id))) return;
    if (looking(id)) return;
    unseen.value = { ...unseen.value, [id]: (unseen.value[id] ?? 0) + 1 };
    if (soundOn.value) chime();
  }

  const stopListening = listen(`tenant:${tenantId}:inbox`, (event, payload) => {
    if (event === 'conversation_updated' || event === 'handoff') void onUpdate(payload);
    else if (event === 'conversation_created' && typeof payload.id === 'string')
      known.set(payload.id, Number(payload.unread_count) || 0);
  });
  const stopTitle = effect(() => {
    const n = total.value;
    document.title = n > 0 ? `(${n}) ${baseTitle}` : baseTitle;
  });
  const onVisibility = () => {
    if (document.visibilityState === 'visible') seen(viewing);
  };
  document.addEventListener('visibilitychange', onVisibility);

  return {
    total,
    unseen,
    /** The conversation on screen now; its messages are seen. */
    view(id: string | null) {
      viewing = id;
      if (document.visibilityState === 'visible') seen(id);
    },
    dispose() {
      stopListening();
      stopTitle();
      document.removeEventListener('visibilitychange', onVisibility);
      document.title = baseTitle;
    },
  };
}
