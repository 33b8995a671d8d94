import { toJson } from './json.ts';
import type { KeyStore } from './storage.ts';

// The visitor's anonymous Supabase session, over plain fetch. Tabs share it through storage: a
// tab about to refresh first looks whether another tab already did, because refresh tokens
// rotate and a spent one soon stops working.

export interface Session {
  access_token: string;
  refresh_token: string;
  /** Unix seconds. */
  expires_at: number;
  user: { id: string };
}

const REFRESH_MARGIN_S = 60;

export class AuthError extends Error {}

export function createAuth(url: string, apikey: string, store: KeyStore) {
  let session: Session | null = store.get<Session>('session');
  let pending: Promise<Session> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<(session: Session) => void>();

  async function call(path: string, body: unknown): Promise<Session> {
    const response = await fetch(`${url}/auth/v1/${path}`, {
      method: 'POST',
      headers: { apikey, 'content-type': 'application/json' },
      body: toJson(body),
    });
    const json = (await response.json().catch(() => null)) as Session | null;
    if (!response.ok || !json?.access_token) {
      throw new AuthError(`auth ${path} failed with ${response.status}`);
    }
    if (!json.expires_at) json.expires_at = Math.floor(Date.now() / 1000) + 3600;
    return json;
  }

  function adopt(next: Session, persist = true) {
    session = next;
    if (persist) store.set('session', next);
    clearTimeout(timer);
    const wait = (next.expires_at - REFRESH_MARGIN_S) * 1000 - Date.now();
    timer = setTimeout(() => void refresh().catch(() => {}), Math.max(wait, 5_000));
    for (const listener of listeners) listener(next);
    return next;
  }

  const fresh = (s: Session | null) => !!s && s.expires_at - REFRESH_MARGIN_S > Date.now() / 1000;

  async function refresh(): Promise<Session> {
    pending ??= (async () => {
      const stored = store.get<Session>('session');
      if (fresh(stored) && stored?.access_token !== session?.access_token) {
        return adopt(stored as Session, false);
      }
      const current = stored ?? session;
      if (current) {
        try {
          return adopt(
            await call('token?grant_type=refresh_token', { refresh_token: current.refresh_token }),
          );
        } catch (error) {
          // Another tab may have won the race with the same token.
          const again = store.get<Session>('session');
          if (fresh(again)) return adopt(again as Session, false);
          if (!(error instanceof AuthError)) throw error;
        }
      }
      return adopt(await call('signup', {}));
    })().finally(() => {
      pending = null;
    });
    return pending;
  }

  store.watch('session', () => {
    const stored = store.get<Session>('session');
    if (stored && stored.access_token !== session?.access_token && fresh(stored)) {
      adopt(stored, false);
    }
  });

  return {
    /** A valid session, signing in anonymously the first time. */
    async session(): Promise<Session> {
      if (fresh(session)) {
        if (!timer) adopt(session as Session, false);
        return session as Session;
      }
      return refresh();
    },
    hasSession: () => session !== null,
    /** After a 401: the token was revoked or expired early. */
    refresh,
    onChange(listener: (session: Session) => void) {
      listeners.add(listener);
    },
    /** Forget the visitor entirely (their user was removed server-side). */
    reset() {
      session = null;
      clearTimeout(timer);
      timer = undefined;
      store.remove('session');
    },
    /** Revokes the session server-side too, so tokens copied from storage stop working. */
    async signOut() {
      const current = session;
      this.reset();
      if (!current) return;
      await fetch(`${url}/auth/v1/logout`, {
        method: 'POST',
        headers: { apikey, authorization: `Bearer ${current.access_token}` },
      }).catch(() => {});
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;
