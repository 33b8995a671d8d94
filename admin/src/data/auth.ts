// The staff session against Supabase Auth (GoTrue's HTTP API), with only what the SPA does:
// password sign-in and sign-up with an emailed code, invitation links whose session arrives in the
// fragment, the person's own user, anonymous visitors for the Playground, and sign-out. The calls,
// the session JSON and the events are auth-js's, so a session that auth-js stored under the same
// key keeps working, and page code reads the same results ({data, error}).
//
// The session is refreshed ahead of its expiry by a timer, again when the tab becomes visible
// (hidden tabs' timers are throttled), and whenever it is asked for too close to expiry. Refresh
// tokens rotate: a spent one soon stops working, so one refresh at a time per tab (and, where the
// browser has Web Locks, per browser), and a tab about to refresh first looks whether another tab
// already stored a newer session. Other tabs follow through the `storage` event.

export interface User {
  id: string;
  email?: string;
  user_metadata: Record<string, unknown>;
  app_metadata: Record<string, unknown>;
  is_anonymous?: boolean;
  [field: string]: unknown;
}

export interface Session {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  /** Unix seconds. */
  expires_at: number;
  user: User;
  [field: string]: unknown;
}

export type AuthEvent =
  | 'INITIAL_SESSION'
  | 'SIGNED_IN'
  | 'SIGNED_OUT'
  | 'TOKEN_REFRESHED'
  | 'USER_UPDATED'
  | 'PASSWORD_RECOVERY';

/** An error of Auth as auth-js reports it: the server's words, its HTTP status and error code. */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
  /** Network failures and 5xx: the same request may succeed later. */
  get retryable() {
    return this.status === 0 || (this.status >= 500 && this.status <= 530);
  }
}

type Result<T> = { data: T; error: null } | { data: { [K in keyof T]: null }; error: AuthError };

export interface AuthOptions {
  /** `<project URL>/auth/v1` */
  url: string;
  /** The project's publishable (or anon) key. */
  key: string;
  /** Where the session is kept in `storage`; without one it lives in memory only. */
  storageKey?: string;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Takes a session Auth put in the address's fragment (invitation and confirmation links). */
  detectSessionInUrl?: boolean;
  fetch?: typeof fetch;
  /** Where `storage` and `visibilitychange` events arrive (the window). */
  events?: EventTarget;
  /** Web Locks (navigator.locks): one refresh at a time across the browser's tabs. */
  locks?: Locks;
}

export interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** auth-js refreshes when fewer than 90 seconds remain. */
const EXPIRY_MARGIN_S = 90;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 60_000;

const now = () => Date.now() / 1000;

/** Seconds before expiry to refresh at: auth-js's margin, or a quarter of a shorter lifetime. */
const margin = (s: Session) => Math.min(EXPIRY_MARGIN_S, Math.max(1, (s.expires_in || 3600) / 4));
const due = (s: Session) => s.expires_at - margin(s) <= now();
const expired = (s: Session) => s.expires_at <= now();

function isSession(value: unknown): value is Session {
  const s = value as Partial<Session> | null;
  return !!s && !!s.access_token && !!s.refresh_token && !!s.expires_at && !!s.user?.id;
}

/** A token response as a session; auth-js counts it only with all three fields. */
function asSession(body: Record<string, unknown>): Session | null {
  if (!body.access_token || !body.refresh_token || !body.expires_in) return null;
  const session = { ...body } as Session;
  session.expires_at ||= Math.round(now()) + Number(session.expires_in);
  return session;
}

export function createAuth(options: AuthOptions) {
  const { url, key, storageKey } = options;
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const storage = storageKey ? (options.storage ?? globalThis.localStorage) : undefined;
  const events = storageKey
    ? (options.events ?? (globalThis as { window?: EventTarget }).window)
    : undefined;
  const locks = storageKey
    ? (options.locks ?? (globalThis.navigator?.locks as Locks | undefined))
    : undefined;

  let current: Session | null = null;
  let refreshing: Promise<Session | null> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  const listeners = new Set<(event: AuthEvent, session: Session | null) => void>();

  async function request(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = {
      apikey: key,
      Authorization: `Bearer ${token ?? key}`,
      'X-Supabase-Api-Version': '2024-01-01',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json;charset=UTF-8';
    let response: Response;
    try {
      response = await doFetch(`${url}/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (cause) {
      throw new AuthError(cause instanceof Error ? cause.message : String(cause), 0);
    }
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      // A proxy's HTML error page: the status says enough.
    }
    if (!response.ok) {
      const said = json.msg ?? json.message ?? json.error_description ?? json.error;
      const code = typeof json.code === 'string' ? json.code : json.error_code;
      throw new AuthError(
        typeof said === 'string' ? said : `Auth answered ${response.status}`,
        response.status,
        typeof code === 'string' ? code : undefined,
      );
    }
    return json;
  }

  function stored(): Session | null {
    if (!storage || !storageKey) return null;
    try {
      const value: unknown = JSON.parse(storage.getItem(storageKey) ?? 'null');
      return isSession(value) ? value : null;
    } catch {
      return null;
    }
  }

  function emit(event: AuthEvent, session: Session | null) {
    for (const listener of listeners) listener(event, session);
  }

  function schedule(delayMs: number) {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh(), Math.max(0, delayMs));
  }

  /** Makes `session` the current one (stored for the other tabs unless it came from them). */
  function adopt(session: Session, event: AuthEvent | null, persist = true) {
    current = session;
    failures = 0;
    if (persist && storage && storageKey) storage.setItem(storageKey, JSON.stringify(session));
    schedule((session.expires_at - margin(session) - now()) * 1000);
    if (event) emit(event, session);
    return session;
  }

  function drop(persist = true) {
    const had = current !== null;
    current = null;
    clearTimeout(timer);
    timer = undefined;
    if (persist && storage && storageKey) storage.removeItem(storageKey);
    if (had) emit('SIGNED_OUT', null);
  }

  /** A newer session another tab stored, if there is one. */
  function fromOtherTab(): Session | null {
    const other = stored();
    // Refresh tokens tell sessions apart: two access tokens minted in the same second are equal.
    return other && other.refresh_token !== current?.refresh_token && !due(other) ? other : null;
  }

  async function exchange(force: boolean): Promise<Session | null> {
    // Read here, not when asked: waiting for the lock, another tab's session may have come in.
    const session = current;
    if (!session) return null;
    const other = fromOtherTab();
    if (other) return adopt(other, 'TOKEN_REFRESHED', false);
    if (!force && !due(session)) {
      // A timer may fire a little early, or the wall clock may have been set back since it was
      // set: the refresh waits for its time, and is not forgotten.
      schedule((session.expires_at - margin(session) - now()) * 1000);
      return session;
    }
    try {
      const body = await request('POST', 'token?grant_type=refresh_token', {
        refresh_token: session.refresh_token,
      });
      const next = asSession(body);
      if (!next) throw new AuthError('Auth answered no session', 500);
      // Signed out meanwhile (here or in another tab): the new session is not wanted.
      if (current?.refresh_token !== session.refresh_token) return current;
      return adopt(next, 'TOKEN_REFRESHED');
    } catch (error) {
      const failure = error instanceof AuthError ? error : new AuthError(String(error), 0);
      // Another tab may have spent the same refresh token first.
      const winner = fromOtherTab();
      if (winner) return adopt(winner, 'TOKEN_REFRESHED', false);
      if (failure.retryable) {
        failures += 1;
        schedule(Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS));
        return current && !expired(current) ? current : null;
      }
      if (current?.refresh_token === session.refresh_token) drop();
      return null;
    }
  }

  /** One refresh at a time, whoever asks: the timer, a page wanting a token, a visible tab. */
  function refresh(force = false): Promise<Session | null> {
    if (!current) return Promise.resolve(null);
    refreshing ??= (
      locks ? locks.request(`${storageKey}:refresh`, () => exchange(force)) : exchange(force)
    ).finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  async function fresh(): Promise<Session | null> {
    await ready;
    if (current && due(current)) return refresh();
    return current;
  }

  /** An invitation or confirmation link's session, in the fragment as Auth's redirect puts it. */
  async function fromUrl(): Promise<boolean> {
    const location = globalThis.location;
    if (!options.detectSessionInUrl || !location?.hash) return false;
    const params = new URLSearchParams(location.hash.slice(1));
    const accessToken = params.get('access_token');
    const refreshToken = params.get('refresh_token');
    const expiresIn = Number(params.get('expires_in'));
    if (!accessToken || !refreshToken || !expiresIn) return false;
    try {
      const user = (await request('GET', 'user', undefined, accessToken)) as unknown as User;
      const session: Session = {
        access_token: accessToken,
        refresh_token: refreshToken,
        token_type: params.get('token_type') ?? 'bearer',
        expires_in: expiresIn,
        expires_at: Number(params.get('expires_at')) || Math.round(now()) + expiresIn,
        user,
      };
      // As auth-js does; the router hears the change and forgets the tokens' "route".
      location.hash = '';
      adopt(session, null);
      const type = params.get('type');
      setTimeout(() => emit(type === 'recovery' ? 'PASSWORD_RECOVERY' : 'SIGNED_IN', session), 0);
      return true;
    } catch {
      // A spent or expired link keeps whatever session the browser had.
      return false;
    }
  }

  async function initialize() {
    if (await fromUrl()) return;
    const saved = stored();
    if (!saved) {
      if (storage && storageKey && storage.getItem(storageKey) !== null) {
        storage.removeItem(storageKey);
      }
      return;
    }
    current = saved;
    if (due(saved)) await refresh();
    else adopt(saved, null, false);
  }

  const ready = initialize();

  events?.addEventListener('storage', (event) => {
    const changed = (event as StorageEvent).key;
    if (changed !== storageKey && changed !== null) return;
    const next = stored();
    if (!next) return drop(false);
    if (current && JSON.stringify(next) === JSON.stringify(current)) return;
    const event_: AuthEvent =
      current?.user.id !== next.user.id
        ? 'SIGNED_IN'
        : current.refresh_token === next.refresh_token
          ? 'USER_UPDATED'
          : 'TOKEN_REFRESHED';
    adopt(next, event_, false);
  });
  events?.addEventListener('visibilitychange', () => {
    if (globalThis.document?.visibilityState === 'hidden') return;
    void fresh();
  });

  function signedIn(body: Record<string, unknown>) {
    const session = asSession(body);
    if (session) adopt(session, 'SIGNED_IN');
    return session;
  }

  async function attempt<T extends Record<string, unknown>>(
    run: () => Promise<T>,
    empty: { [K in keyof T]: null },
  ): Promise<Result<T>> {
    try {
      return { data: await run(), error: null };
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return { data: empty, error };
    }
  }

  const noSession = () => new AuthError('Auth session missing!', 400, 'session_not_found');
  const signIn = (path: string, body: unknown) =>
    attempt(
      async () => {
        await ready;
        const session = signedIn(await request('POST', path, body));
        if (!session) throw new AuthError('Auth answered no session', 500);
        return { session, user: session.user };
      },
      { session: null, user: null },
    );

  return {
    /** The session, refreshed first when it is about to expire; null when signed out. */
    async getSession(): Promise<{ data: { session: Session | null }; error: null }> {
      return { data: { session: await fresh() }, error: null };
    },

    /** `INITIAL_SESSION` first, once the stored (or linked) session is known, then every change. */
    onAuthStateChange(listener: (event: AuthEvent, session: Session | null) => void) {
      let subscribed = true;
      void ready.then(() => {
        if (!subscribed) return;
        listeners.add(listener);
        listener('INITIAL_SESSION', current);
      });
      return {
        data: {
          subscription: {
            unsubscribe() {
              subscribed = false;
              listeners.delete(listener);
            },
          },
        },
      };
    },

    signInWithPassword(credentials: { email: string; password: string }) {
      return signIn('token?grant_type=password', { ...credentials, gotrue_meta_security: {} });
    },

    /** A visitor without an account (the Playground's). */
    signInAnonymously() {
      return signIn('signup', { data: {}, gotrue_meta_security: {} });
    },

    /** With confirmations on, Auth answers the user alone and mails a code: no session yet. */
    signUp(credentials: { email: string; password: string; data?: Record<string, unknown> }) {
      return attempt(
        async () => {
          await ready;
          const { data = {}, ...rest } = credentials;
          const body = await request('POST', 'signup', {
            ...rest,
            data,
            gotrue_meta_security: {},
          });
          const session = signedIn(body);
          return { session, user: (session?.user ?? body) as User };
        },
        { session: null, user: null },
      );
    },

    verifyOtp(params: { email: string; token: string; type: 'signup' | 'email' | 'invite' }) {
      return signIn('verify', { ...params, gotrue_meta_security: {} });
    },

    getUser() {
      return attempt(
        async () => {
          const session = await fresh();
          if (!session) throw noSession();
          return { user: (await request('GET', 'user', undefined, session.access_token)) as User };
        },
        { user: null },
      );
    },

    /** Password or user metadata; the session carries the updated user from then on. */
    updateUser(attributes: { password?: string; email?: string; data?: Record<string, unknown> }) {
      return attempt(
        async () => {
          const session = await fresh();
          if (!session) throw noSession();
          const user = (await request('PUT', 'user', attributes, session.access_token)) as User;
          if (current?.refresh_token === session.refresh_token) {
            adopt({ ...current, user }, 'USER_UPDATED');
          }
          return { user };
        },
        { user: null },
      );
    },

    refreshSession() {
      return attempt(
        async () => {
          await ready;
          const session = await refresh(true);
          if (!session) throw noSession();
          return { session, user: session.user };
        },
        { session: null, user: null },
      );
    },

    /**
     * Revokes the session server-side (every device's, as auth-js does by default) and forgets
     * it here and in the other tabs; Auth not knowing the session any more counts as signed out.
     */
    async signOut(): Promise<{ error: AuthError | null }> {
      await ready;
      const session = current;
      drop();
      if (!session) return { error: null };
      try {
        await request('POST', 'logout?scope=global', undefined, session.access_token);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        if (![401, 403, 404].includes(error.status)) return { error };
      }
      return { error: null };
    },
  };
}

export type Auth = ReturnType<typeof createAuth>;
