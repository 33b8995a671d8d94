import { createClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type AuthEvent, createAuth, type Locks, type Session } from '../../admin/src/data/auth.ts';
import { type StackProcess, startStack } from '../support/stack.ts';

// The admin's own Auth client against the local stack's Auth: the calls the SPA makes, the session
// in localStorage in the shape auth-js keeps (a session stored by auth-js is taken over), refresh
// before expiry (access tokens last 8 seconds here), one refresh at a time, and tabs that follow
// each other through the `storage` event as browsers deliver it.

const KEY = 'parley-admin-auth';
const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 15_000, ...options });
let stack: StackProcess;

beforeAll(async () => {
  stack = await startStack({ env: { GOTRUE_JWT_EXP: '8' } });
}, 120_000);
afterAll(() => stack?.stop());
afterEach(() => {
  vi.unstubAllGlobals();
  // Workers run files one after another: a failed test must not leave the next file's clock fake.
  vi.useRealTimers();
});

/** One browser's localStorage: a write in one tab is a `storage` event in every other tab. */
function browser() {
  const items = new Map<string, string>();
  const tabs = new Set<EventTarget>();
  // The browser's Web Locks: one holder of a name at a time, across its tabs.
  let queue: Promise<unknown> = Promise.resolve();
  const locks: Locks = {
    request<T>(_name: string, callback: () => Promise<T>) {
      const run = queue.then(callback);
      queue = run.catch(() => {});
      return run;
    },
  };
  const changed = (key: string, from: EventTarget) => {
    for (const tab of tabs) {
      if (tab !== from) tab.dispatchEvent(Object.assign(new Event('storage'), { key }));
    }
  };
  const storageFor = (tab: EventTarget) => ({
    getItem: (key: string) => items.get(key) ?? null,
    setItem(key: string, value: string) {
      items.set(key, value);
      changed(key, tab);
    },
    removeItem(key: string) {
      items.delete(key);
      changed(key, tab);
    },
  });
  return {
    items,
    /** A tab of the admin: its client, what it heard, and the Auth requests it made. */
    tab() {
      const events = new EventTarget();
      tabs.add(events);
      const calls: string[] = [];
      const heard: { event: AuthEvent; session: Session | null }[] = [];
      const auth = createAuth({
        url: `${stack.url}/auth/v1`,
        key: stack.keys.anonKey,
        storageKey: KEY,
        storage: storageFor(events),
        events,
        locks,
        fetch: (input, init) => {
          calls.push(`${init?.method ?? 'GET'} ${String(input).replace(/^.*\/auth\/v1\//, '')}`);
          return fetch(input, init);
        },
      });
      auth.onAuthStateChange((event, session) => heard.push({ event, session }));
      return { auth, calls, heard, events, events_: () => heard.map((h) => h.event) };
    },
    storage: storageFor(new EventTarget()),
    stored: () => JSON.parse(items.get(KEY) ?? 'null') as Session | null,
  };
}

const address = () => `staff-${crypto.randomUUID().slice(0, 8)}@auth-client.example`;
const PASSWORD = 'staff-password-123';

/** Signs up through the client and confirms with the code the stack logged for the address. */
async function newStaff() {
  const email = address();
  const { auth } = browser().tab();
  const signedUp = await auth.signUp({ email, password: PASSWORD });
  expect(signedUp.error).toBeNull();
  // Confirmations are on: a user, no session until the code comes back.
  expect(signedUp.data.session).toBeNull();
  expect(signedUp.data.user?.email).toBe(email);
  const code = stack.output().match(new RegExp(`confirm ${email} .* the code (\\d{6})`))?.[1];
  expect(code).toBeTruthy();
  const verified = await auth.verifyOtp({ email, token: code as string, type: 'signup' });
  expect(verified.error).toBeNull();
  expect(verified.data.session?.user.email).toBe(email);
  await auth.signOut();
  return email;
}

/** A browser whose stored session is due for a refresh, as a tab that slept finds it. */
async function dueSession(revoked: boolean) {
  const email = await newStaff();
  const setup = browser();
  const signer = setup.tab();
  await signer.auth.signInWithPassword({ email, password: PASSWORD });
  const session = setup.stored() as Session;
  if (revoked) await signer.auth.signOut();
  const b = browser();
  b.items.set(KEY, JSON.stringify({ ...session, expires_at: Math.floor(Date.now() / 1000) + 1 }));
  return { session, b };
}

/** Auth's answer to a token grant: the n-th session, lasting `seconds` from the (fake) now. */
const tokenResponse = (n: number, seconds: number, user: { id: string; email: string }) =>
  Response.json({
    access_token: `access-${n}`,
    refresh_token: `refresh-${n}`,
    token_type: 'bearer',
    expires_in: seconds,
    expires_at: Math.floor(Date.now() / 1000) + seconds,
    user,
  });

describe('the admin Auth client', () => {
  it('signs in with a password, keeps the session as auth-js does, and signs out everywhere', async () => {
    const email = await newStaff();
    const b = browser();
    const tab = b.tab();
    const other = b.tab();
    await poll(() => tab.events_()).toEqual(['INITIAL_SESSION']);
    expect(tab.heard[0]?.session).toBeNull();

    const wrong = await tab.auth.signInWithPassword({ email, password: 'not-it-at-all' });
    expect(wrong.data.session).toBeNull();
    expect(wrong.error).toMatchObject({
      message: 'Invalid login credentials',
      status: 400,
      code: 'invalid_credentials',
    });

    const { data, error } = await tab.auth.signInWithPassword({ email, password: PASSWORD });
    expect(error).toBeNull();
    const session = data.session as Session;
    expect(tab.events_()).toEqual(['INITIAL_SESSION', 'SIGNED_IN']);
    const stored = b.stored();
    expect(stored).toMatchObject({
      access_token: session.access_token,
      refresh_token: session.refresh_token,
      token_type: 'bearer',
      expires_in: 8,
      expires_at: session.expires_at,
      user: { email },
    });
    // The other tab follows, as the same person.
    expect(other.events_()).toEqual(['INITIAL_SESSION', 'SIGNED_IN']);
    expect((await other.auth.getSession()).data.session?.access_token).toBe(session.access_token);

    const updated = await tab.auth.updateUser({ data: { parley_sound_alerts: true } });
    expect(updated.error).toBeNull();
    expect(tab.events_().at(-1)).toBe('USER_UPDATED');
    expect(b.stored()?.user.user_metadata.parley_sound_alerts).toBe(true);
    expect(other.events_().at(-1)).toBe('USER_UPDATED');

    expect((await tab.auth.signOut()).error).toBeNull();
    expect(tab.events_().at(-1)).toBe('SIGNED_OUT');
    expect(other.events_().at(-1)).toBe('SIGNED_OUT');
    expect(b.items.has(KEY)).toBe(false);
    expect((await other.auth.getSession()).data.session).toBeNull();
    // Revoked server-side: the refresh token no longer works.
    const spent = await fetch(`${stack.url}/auth/v1/token?grant_type=refresh_token`, {
      method: 'POST',
      headers: { apikey: stack.keys.anonKey, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh_token }),
    });
    expect(spent.status).toBe(400);
    expect((await tab.auth.updateUser({ password: 'whatever-123' })).error?.code).toBe(
      'session_not_found',
    );
  }, 60_000);

  it('takes over a session auth-js stored under the same key', async () => {
    const email = await newStaff();
    const b = browser();
    const previous = createClient(stack.url, stack.keys.anonKey, {
      auth: {
        storageKey: KEY,
        storage: b.storage,
        persistSession: true,
        autoRefreshToken: false,
        detectSessionInUrl: false,
      },
      realtime: { transport: WebSocket as never },
    });
    const { data } = await previous.auth.signInWithPassword({ email, password: PASSWORD });
    const tab = b.tab();
    await poll(() => tab.events_()).toEqual(['INITIAL_SESSION']);
    expect(tab.heard[0]?.session?.access_token).toBe(data.session?.access_token);
    const user = await tab.auth.getUser();
    expect(user.data.user?.email).toBe(email);
    await tab.auth.signOut();
  }, 60_000);

  it('refreshes before expiry in one tab, once, and the other tab takes the new session', async () => {
    const email = await newStaff();
    const b = browser();
    const tab = b.tab();
    const other = b.tab();
    const { data } = await tab.auth.signInWithPassword({ email, password: PASSWORD });
    const first = data.session as Session;
    await poll(() => b.stored()?.refresh_token, { timeout: 20_000 }).not.toBe(first.refresh_token);
    expect(b.stored()?.expires_at).toBeGreaterThan(first.expires_at);
    expect(tab.events_()).toContain('TOKEN_REFRESHED');
    await poll(() => other.events_()).toContain('TOKEN_REFRESHED');
    expect((await other.auth.getSession()).data.session?.refresh_token).toBe(
      b.stored()?.refresh_token,
    );
    // Both tabs' timers were due together; one of them spent the refresh token.
    const refreshes = [...tab.calls, ...other.calls].filter((c) => c.includes('refresh_token'));
    expect(refreshes).toHaveLength(1);
    await tab.auth.signOut();
  }, 60_000);

  it('asks Auth once for a session about to expire, however many ask at the same time', async () => {
    const { session, b } = await dueSession(false);
    const tab = b.tab();
    const sessions = await Promise.all([1, 2, 3, 4].map(() => tab.auth.getSession()));
    const tokens = new Set(sessions.map((s) => s.data.session?.refresh_token));
    expect(tokens.size).toBe(1);
    expect(tokens.has(session.refresh_token)).toBe(false);
    expect(tab.calls.filter((c) => c.includes('refresh_token'))).toHaveLength(1);
    expect(b.stored()?.refresh_token).toBe([...tokens][0]);
    await tab.auth.signOut();
  }, 60_000);

  it('signs out when Auth refuses the refresh token, and forgets the stored session', async () => {
    const { b } = await dueSession(true);
    const tab = b.tab();
    expect((await tab.auth.getSession()).data.session).toBeNull();
    expect(b.items.has(KEY)).toBe(false);
    expect(tab.events_()).toEqual(['INITIAL_SESSION']);
  }, 60_000);

  it('keeps the session through a network failure, and says so as an error with status 0', async () => {
    const auth = createAuth({
      url: 'http://127.0.0.1:9/auth/v1',
      key: 'k',
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    const { data, error } = await auth.signInWithPassword({ email: 'a@b.example', password: 'x' });
    expect(data.session).toBeNull();
    expect(error).toMatchObject({ message: 'fetch failed', status: 0 });
    expect(error?.retryable).toBe(true);
  });

  it('takes the session an invitation link put in the fragment, and clears it from the address', async () => {
    const email = await newStaff();
    const { data } = await createAuth({
      url: `${stack.url}/auth/v1`,
      key: stack.keys.anonKey,
    }).signInWithPassword({ email, password: PASSWORD });
    const session = data.session as Session;
    const location = {
      pathname: '/admin/',
      search: '?accept=abc',
      hash: `#${new URLSearchParams({
        access_token: session.access_token,
        expires_at: String(session.expires_at),
        expires_in: String(session.expires_in),
        refresh_token: session.refresh_token,
        token_type: 'bearer',
        type: 'invite',
      })}`,
    };
    vi.stubGlobal('location', location);
    const b = browser();
    const events = new EventTarget();
    const heard: AuthEvent[] = [];
    const auth = createAuth({
      url: `${stack.url}/auth/v1`,
      key: stack.keys.anonKey,
      storageKey: KEY,
      storage: b.storage,
      events,
      detectSessionInUrl: true,
    });
    auth.onAuthStateChange((event) => heard.push(event));
    expect((await auth.getSession()).data.session?.user.email).toBe(email);
    expect(location.hash).toBe('');
    expect(location.search).toBe('?accept=abc');
    expect(b.stored()?.access_token).toBe(session.access_token);
    await poll(() => heard).toEqual(['INITIAL_SESSION', 'SIGNED_IN']);
    await auth.signOut();
  }, 60_000);

  it('refreshes a session that fell due while the tab was hidden once it shows, and retries when Auth is down', async () => {
    // Auth faked here: the clock jumps past the refresh point without the timer firing, as in a
    // hidden tab, and the first refresh meets a 503.
    vi.useFakeTimers({ toFake: ['Date'] });
    const calls: string[] = [];
    let refreshes = 0;
    const user = {
      id: crypto.randomUUID(),
      email: 'a@b.example',
      user_metadata: {},
      app_metadata: {},
    };
    const token = (n: number) => tokenResponse(n, 3600, user);
    const events = new EventTarget();
    const items = new Map<string, string>();
    const auth = createAuth({
      url: 'https://project.example/auth/v1',
      key: 'publishable',
      storageKey: KEY,
      storage: {
        getItem: (k) => items.get(k) ?? null,
        setItem: (k, v) => void items.set(k, v),
        removeItem: (k) => void items.delete(k),
      },
      events,
      fetch: async (input) => {
        const path = String(input).replace(/^.*\/auth\/v1\//, '');
        calls.push(path);
        if (path === 'token?grant_type=password') return token(0);
        if (path === 'token?grant_type=refresh_token') {
          refreshes += 1;
          return refreshes === 1
            ? Response.json({ code: 'unexpected_failure', message: 'down' }, { status: 503 })
            : token(refreshes);
        }
        return new Response(null, { status: 204 });
      },
    });
    const heard: AuthEvent[] = [];
    auth.onAuthStateChange((event) => heard.push(event));
    await auth.signInWithPassword({ email: 'a@b.example', password: 'x' });
    vi.setSystemTime(Date.now() + 3550_000);
    events.dispatchEvent(new Event('visibilitychange'));
    // Auth was down: the session stays, and the refresh is tried again.
    await poll(() => heard, { timeout: 10_000 }).toContain('TOKEN_REFRESHED');
    expect(refreshes).toBe(2);
    expect(JSON.parse(items.get(KEY) ?? '{}').refresh_token).toBe('refresh-2');
    expect(heard).not.toContain('SIGNED_OUT');
    await auth.signOut();
    expect(calls.at(-1)).toBe('logout?scope=global');
    vi.useRealTimers();
  });

  it('refreshes when its timer fired before the session was due (the clock was set back)', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'] });
    const user = { id: crypto.randomUUID(), email: 'a@b.example' };
    let refreshes = 0;
    const token = (n: number) => tokenResponse(n, 40, user);
    const auth = createAuth({
      url: 'https://project.example/auth/v1',
      key: 'publishable',
      fetch: async (input) => {
        const path = String(input).replace(/^.*\/auth\/v1\//, '');
        if (path === 'token?grant_type=refresh_token') return token(++refreshes);
        return token(0);
      },
    });
    const heard: AuthEvent[] = [];
    auth.onAuthStateChange((event) => heard.push(event));
    await auth.signInWithPassword({ email: 'a@b.example', password: 'x' });
    // The refresh is set for 30 s from now (a quarter of 40 s before expiry). The wall clock
    // goes back 5 s, so when the timer fires the session is not due yet.
    vi.setSystemTime(Date.now() - 5_000);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(refreshes).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(refreshes).toBe(1);
    expect(heard).toContain('TOKEN_REFRESHED');
    expect((await auth.getSession()).data.session?.refresh_token).toBe('refresh-1');
    vi.useRealTimers();
  });

  it('keeps an anonymous visitor in memory only', async () => {
    const auth = createAuth({ url: `${stack.url}/auth/v1`, key: stack.keys.anonKey });
    const { data, error } = await auth.signInAnonymously();
    expect(error).toBeNull();
    expect(data.session?.user.is_anonymous).toBe(true);
    expect((await auth.getSession()).data.session?.access_token).toBe(data.session?.access_token);
    await auth.signOut();
    expect((await auth.getSession()).data.session).toBeNull();
  }, 60_000);
});
