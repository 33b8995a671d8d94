// Remembers which webhook-ids a trigger has already let through, so a repeated delivery (Parley's
// retry of a call the workflow already received, or a captured request sent again) starts nothing.
//
// Why a Map in the process and not only workflow static data: n8n hands each execution its own
// copy of the static data and writes it back when the execution ends, so two deliveries of one id
// arriving together both read "not seen" and both pass. Here the check and the record are one
// synchronous step on a Map every execution in the process shares; JavaScript runs it without
// interruption, so within one n8n process exactly one of any number of simultaneous duplicates is
// let through. Static data is still written, so ids survive a restart of that process (as far as
// n8n has saved the execution's static data by then). What this cannot see is another process:
// n8n in queue mode with several webhook processors, or two instances behind a load balancer,
// each keep their own Map. A workflow with effects that must happen once (a booking) still keys
// them on the webhook id in its own store.

/** Twice the signature window: an older replay is already refused for its timestamp. */
export const REPLAY_TTL_MS = 10 * 60_000;
/** Beyond this many ids in the window the oldest are forgotten rather than memory growing. */
export const REPLAY_CAPACITY = 50_000;

export type RememberedIds = Record<string, number>;

export class ReplayMemory {
  readonly #scopes = new Map<string, Map<string, number>>();
  readonly #ttlMs: number;
  readonly #capacity: number;

  constructor(options: { ttlMs?: number; capacity?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? REPLAY_TTL_MS;
    this.#capacity = options.capacity ?? REPLAY_CAPACITY;
  }

  /**
   * True the first time `id` is seen in `scope` within the TTL, false for every repeat. The
   * caller acts only on true. Nothing between the lookup and the write yields, which is the point.
   */
  claim(scope: string, id: string, nowMs: number): boolean {
    const ids = this.#ids(scope);
    this.#prune(ids, nowMs);
    const until = ids.get(id);
    if (until !== undefined && until > nowMs) return false;
    ids.delete(id);
    ids.set(id, nowMs + this.#ttlMs);
    while (ids.size > this.#capacity) {
      const oldest = ids.keys().next().value;
      if (oldest === undefined) break;
      ids.delete(oldest);
    }
    return true;
  }

  /** Merges ids saved earlier (workflow static data), keeping the later expiry of each. */
  restore(scope: string, saved: unknown, nowMs: number): void {
    if (!saved || typeof saved !== 'object' || Array.isArray(saved)) return;
    const ids = this.#ids(scope);
    for (const [id, until] of Object.entries(saved as Record<string, unknown>)) {
      if (typeof until !== 'number' || !Number.isFinite(until) || until <= nowMs) continue;
      const known = ids.get(id);
      if (known === undefined || known < until) ids.set(id, until);
    }
  }

  /** The live ids of a scope, for static data. */
  snapshot(scope: string, nowMs: number): RememberedIds {
    const ids = this.#ids(scope);
    this.#prune(ids, nowMs);
    return Object.fromEntries(ids);
  }

  #ids(scope: string): Map<string, number> {
    let ids = this.#scopes.get(scope);
    if (!ids) {
      ids = new Map();
      this.#scopes.set(scope, ids);
    }
    return ids;
  }

  // Ids are kept in the order they were claimed, which with one TTL is the order they expire, so
  // pruning stops at the first live one instead of walking the whole window on every delivery.
  #prune(ids: Map<string, number>, nowMs: number): void {
    for (const [id, until] of ids) {
      if (until > nowMs) break;
      ids.delete(id);
    }
  }
}

/**
 * One per n8n process: node modules are loaded once and every execution of every workflow sees
 * this instance. Scopes keep workflows (and two triggers in one workflow) apart.
 */
export const processReplayMemory = new ReplayMemory();
