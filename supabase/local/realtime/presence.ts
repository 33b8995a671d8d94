// Phoenix Presence for one topic: each joined channel tracks at most one meta under its presence
// key; several channels may share a key. State and diffs have Phoenix's shape, which the client's
// Presence.syncState / syncDiff consume: { key: { metas: [{ phx_ref, ...payload }] } }.

export type PresenceMeta = { phx_ref: string; phx_ref_prev?: string; [field: string]: unknown };
export type PresenceState = Record<string, { metas: PresenceMeta[] }>;
export interface PresenceDiff {
  joins: PresenceState;
  leaves: PresenceState;
}

let counter = 0;
/** Unique per process, opaque to clients, like Phoenix's refs. */
const nextRef = () => `F${Date.now().toString(36)}${(counter++).toString(36)}`;

const single = (key: string, meta: PresenceMeta): PresenceState => ({ [key]: { metas: [meta] } });

export class PresenceTopic {
  readonly #entries = new Map<object, { key: string; meta: PresenceMeta; json: string }>();

  get isEmpty() {
    return this.#entries.size === 0;
  }

  state(): PresenceState {
    const state: PresenceState = {};
    for (const { key, meta } of this.#entries.values()) {
      const entry = state[key] ?? { metas: [] };
      entry.metas.push(meta);
      state[key] = entry;
    }
    return state;
  }

  /** null when the owner already tracks exactly this payload (no diff, like Realtime). */
  track(owner: object, key: string, payload: Record<string, unknown>): PresenceDiff | null {
    const json = JSON.stringify(payload);
    const previous = this.#entries.get(owner);
    if (previous && previous.key === key && previous.json === json) return null;

    const meta: PresenceMeta = { ...payload, phx_ref: nextRef() };
    if (previous) meta.phx_ref_prev = previous.meta.phx_ref;
    this.#entries.set(owner, { key, meta, json });
    return {
      joins: single(key, meta),
      leaves: previous ? single(previous.key, previous.meta) : {},
    };
  }

  untrack(owner: object): PresenceDiff | null {
    const previous = this.#entries.get(owner);
    if (!previous) return null;
    this.#entries.delete(owner);
    return { joins: {}, leaves: single(previous.key, previous.meta) };
  }
}
