import { randomUUID } from 'node:crypto';
import {
  type AuthError,
  createClient,
  isAuthApiError,
  isAuthSessionMissingError,
  isAuthWeakPasswordError,
  type SupabaseClient,
} from '@supabase/supabase-js';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { type StackProcess, startStack } from '../support/stack.ts';

// The Auth stand-in, driven by the official client as the widget and the admin SPA drive it.
// `stack` refuses reused refresh tokens at once (reuse interval 0); `locked` runs the config.toml
// interval with sign-ups and anonymous sign-ins switched off.

let stack: StackProcess;
let locked: StackProcess;
let db: Db | undefined;

beforeAll(async () => {
  [stack, locked] = await Promise.all([
    // Sessions straight from sign-up: the confirmation link is tested in tests/billing.
    startStack({
      env: {
        GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL: '0',
        GOTRUE_MAILER_AUTOCONFIRM: 'true',
      },
    }),
    startStack({
      env: { GOTRUE_DISABLE_SIGNUP: 'true', GOTRUE_EXTERNAL_ANONYMOUS_USERS_ENABLED: 'false' },
    }),
  ]);
});

afterAll(async () => {
  await db?.close();
  await Promise.all([stack?.stop(), locked?.stop()]);
});

const OWNER = { email: 'owner@trailhead.example', password: 'parley-demo-1' };
const OWNER_ID = 'a0000000-0000-4000-8000-000000000001';
const PASSWORD = 'correct-horse-42';

function client(target: StackProcess = stack, key = target.keys.anonKey): SupabaseClient {
  return createClient(target.url, key, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
  });
}

const newEmail = () => `user-${randomUUID()}@example.test`;

async function signUp(email = newEmail(), password = PASSWORD, data: object = {}) {
  const supabase = client();
  const { data: result, error } = await supabase.auth.signUp({
    email,
    password,
    options: { data },
  });
  expect(error).toBeNull();
  if (!result.session || !result.user) throw new Error('sign-up returned no session');
  return { supabase, email, session: result.session, user: result.user };
}

async function signInAgain(email: string, password = PASSWORD) {
  const { data, error } = await client().auth.signInWithPassword({ email, password });
  expect(error).toBeNull();
  if (!data.session) throw new Error('sign-in returned no session');
  return data.session;
}

function expectApiError(error: AuthError | null, status: number, code: string) {
  expect(
    isAuthApiError(error),
    `expected AuthApiError, got ${error?.name}: ${error?.message}`,
  ).toBe(true);
  expect(error).toMatchObject({ status, code });
}

function database(): Db {
  db ??= createPostgresDb(stack.dbUrl, { max: 1 });
  return db;
}

describe('sign-up and sign-in', () => {
  it('signs up with email and password into a session with Supabase claims', async () => {
    const email = newEmail();
    const { session, user } = await signUp(email, PASSWORD, { display_name: 'Ada' });

    expect(user).toMatchObject({
      email,
      aud: 'authenticated',
      role: 'authenticated',
      is_anonymous: false,
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: { display_name: 'Ada', email, email_verified: true, sub: user.id },
    });
    expect(user.email_confirmed_at).toBeTruthy();
    expect(user.identities?.map((identity) => identity.provider)).toEqual(['email']);
    expect(session).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    expect(session.refresh_token).toMatch(/^[a-z2-7]{12}$/);

    const claims = decodeJwt(session.access_token);
    expect(claims).toMatchObject({
      iss: `${stack.url}/auth/v1`,
      sub: user.id,
      aud: 'authenticated',
      role: 'authenticated',
      email,
      phone: '',
      aal: 'aal1',
      is_anonymous: false,
      app_metadata: { provider: 'email' },
      user_metadata: { display_name: 'Ada' },
    });
    expect(claims.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.amr).toEqual([{ method: 'password', timestamp: expect.any(Number) }]);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(3600);
    expect(session.expires_at).toBe(claims.exp);
  });

  it('signs in with the password and records the sign-in', async () => {
    const { email, user } = await signUp();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { data, error } = await client().auth.signInWithPassword({
      email: email.toUpperCase(),
      password: PASSWORD,
    });
    expect(error).toBeNull();
    expect(data.user?.id).toBe(user.id);
    expect(data.session?.access_token).toBeTruthy();
    expect(Date.parse(data.user?.last_sign_in_at ?? '')).toBeGreaterThan(
      Date.parse(user.last_sign_in_at ?? ''),
    );
    // A second sign-in is a second session.
    expect(decodeJwt(data.session?.access_token ?? '').session_id).not.toBe(
      decodeJwt((await signInAgain(email)).access_token).session_id,
    );
  });

  it('refuses a wrong password and an unknown address alike', async () => {
    const { email } = await signUp();
    const wrong = await client().auth.signInWithPassword({ email, password: 'not-the-password1' });
    expectApiError(wrong.error, 400, 'invalid_credentials');
    expect(wrong.error?.message).toBe('Invalid login credentials');
    const unknown = await client().auth.signInWithPassword({
      email: newEmail(),
      password: PASSWORD,
    });
    expectApiError(unknown.error, 400, 'invalid_credentials');
  });

  it('refuses a second sign-up with the same address', async () => {
    const { email } = await signUp();
    const { data, error } = await client().auth.signUp({
      email: email.toUpperCase(),
      password: PASSWORD,
    });
    expectApiError(error, 422, 'user_already_exists');
    expect(data.session).toBeNull();
  });

  it('refuses weak passwords with the reasons', async () => {
    const short = await client().auth.signUp({ email: newEmail(), password: 'ab1' });
    expect(isAuthWeakPasswordError(short.error)).toBe(true);
    expect(short.error).toMatchObject({ status: 422, code: 'weak_password' });
    expect(isAuthWeakPasswordError(short.error) && short.error.reasons).toEqual(['length']);

    const lettersOnly = await client().auth.signUp({ email: newEmail(), password: 'abcdefghij' });
    expect(isAuthWeakPasswordError(lettersOnly.error) && lettersOnly.error.reasons).toEqual([
      'characters',
    ]);
  });

  it('signs in the seeded demo owner', async () => {
    const { data, error } = await client().auth.signInWithPassword(OWNER);
    expect(error).toBeNull();
    expect(data.user).toMatchObject({
      id: OWNER_ID,
      email: OWNER.email,
      user_metadata: { name: 'Maya Ortiz' },
    });
    expect(data.user?.identities?.[0]).toMatchObject({ provider: 'email', id: OWNER_ID });
  });

  it('signs in anonymously as an authenticated, anonymous user', async () => {
    const supabase = client();
    const { data, error } = await supabase.auth.signInAnonymously({
      options: { data: { locale: 'fr' } },
    });
    expect(error).toBeNull();
    expect(data.user).toMatchObject({
      is_anonymous: true,
      email: '',
      app_metadata: {},
      identities: [],
      user_metadata: { locale: 'fr' },
    });
    const claims = decodeJwt(data.session?.access_token ?? '');
    expect(claims).toMatchObject({ role: 'authenticated', is_anonymous: true, sub: data.user?.id });
    expect(claims.amr).toEqual([{ method: 'anonymous', timestamp: expect.any(Number) }]);

    // A password alone cannot make the visitor permanent; an email with it can.
    const passwordOnly = await supabase.auth.updateUser({ password: PASSWORD });
    expectApiError(passwordOnly.error, 422, 'validation_failed');
    const email = newEmail();
    const converted = await supabase.auth.updateUser({ email, password: PASSWORD });
    expect(converted.error).toBeNull();
    expect(converted.data.user).toMatchObject({ email, is_anonymous: false });
    const signedIn = await client().auth.signInWithPassword({ email, password: PASSWORD });
    expect(signedIn.data.user?.id).toBe(data.user?.id);
  });
});

describe('refresh tokens', () => {
  it('rotates the refresh token on every refresh', async () => {
    const { supabase, session } = await signUp();
    const { data, error } = await supabase.auth.refreshSession({
      refresh_token: session.refresh_token,
    });
    expect(error).toBeNull();
    expect(data.session?.refresh_token).toMatch(/^[a-z2-7]{12}$/);
    expect(data.session?.refresh_token).not.toBe(session.refresh_token);
    // Within the same second the access token may come out identical: it has no unique claim.
    expect((await client().auth.getUser(data.session?.access_token)).error).toBeNull();
    expect(decodeJwt(data.session?.access_token ?? '').session_id).toBe(
      decodeJwt(session.access_token).session_id,
    );
  });

  it('refuses a used refresh token and then revokes the whole session', async () => {
    const { supabase, session } = await signUp();
    const first = session.refresh_token;
    const second = (await supabase.auth.refreshSession({ refresh_token: first })).data.session;
    if (!second) throw new Error('first refresh failed');

    // The token just replaced gets its successor back (the client may have lost the answer)…
    const retried = await supabase.auth.refreshSession({ refresh_token: first });
    expect(retried.data.session?.refresh_token).toBe(second.refresh_token);

    // …but once the chain has moved on, replaying it is refused,
    const third = (await supabase.auth.refreshSession({ refresh_token: second.refresh_token })).data
      .session;
    if (!third) throw new Error('second refresh failed');
    const replay = await supabase.auth.refreshSession({ refresh_token: first });
    expectApiError(replay.error, 400, 'refresh_token_already_used');

    // and the session's live token is revoked with it.
    const live = await supabase.auth.refreshSession({ refresh_token: third.refresh_token });
    expectApiError(live.error, 400, 'refresh_token_already_used');
  });

  it('refuses an unknown refresh token', async () => {
    const { error } = await client().auth.refreshSession({ refresh_token: 'aaaaaaaaaaaa' });
    expectApiError(error, 400, 'refresh_token_not_found');
  });
});

describe('the signed-in user', () => {
  it('returns the user for the access token', async () => {
    const { supabase, user, session } = await signUp();
    const { data, error } = await supabase.auth.getUser();
    expect(error).toBeNull();
    expect(data.user?.id).toBe(user.id);
    expect((await client().auth.getUser(session.access_token)).data.user?.id).toBe(user.id);
  });

  it('merges user metadata, and a null removes a key', async () => {
    const { supabase } = await signUp(newEmail(), PASSWORD, { plan: 'free', theme: 'dark' });
    const { data, error } = await supabase.auth.updateUser({
      data: { theme: null, locale: 'de' },
    });
    expect(error).toBeNull();
    expect(data.user?.user_metadata).toMatchObject({ plan: 'free', locale: 'de' });
    expect(data.user?.user_metadata).not.toHaveProperty('theme');
    expect((await supabase.auth.getUser()).data.user?.user_metadata).toMatchObject({
      plan: 'free',
      locale: 'de',
    });
  });

  it('changes the password: the old one stops working, the new one works', async () => {
    const { supabase, email } = await signUp();
    const other = await signInAgain(email);
    const same = await supabase.auth.updateUser({ password: PASSWORD });
    expectApiError(same.error, 422, 'same_password');
    const weak = await supabase.auth.updateUser({ password: 'short1' });
    expect(isAuthWeakPasswordError(weak.error)).toBe(true);

    const { error } = await supabase.auth.updateUser({ password: 'a-new-passw0rd' });
    expect(error).toBeNull();
    const old = await client().auth.signInWithPassword({ email, password: PASSWORD });
    expectApiError(old.error, 400, 'invalid_credentials');
    await signInAgain(email, 'a-new-passw0rd');
    // Other sessions end with the old password; the one that changed it lives on.
    const otherRefresh = await client().auth.refreshSession({ refresh_token: other.refresh_token });
    expectApiError(otherRefresh.error, 400, 'refresh_token_not_found');
    expect((await supabase.auth.getUser()).error).toBeNull();
  });

  it('signs out: the refresh token and the access token stop working', async () => {
    const { supabase, session } = await signUp();
    const { error } = await supabase.auth.signOut();
    expect(error).toBeNull();
    const refreshed = await client().auth.refreshSession({ refresh_token: session.refresh_token });
    expectApiError(refreshed.error, 400, 'refresh_token_not_found');
    const { error: userError } = await client().auth.getUser(session.access_token);
    expect(isAuthSessionMissingError(userError)).toBe(true);
  });

  it('signs out other sessions only with scope "others"', async () => {
    const { supabase, email, session } = await signUp();
    const elsewhere = await signInAgain(email);
    const { error } = await supabase.auth.signOut({ scope: 'others' });
    expect(error).toBeNull();
    const gone = await client().auth.refreshSession({ refresh_token: elsewhere.refresh_token });
    expectApiError(gone.error, 400, 'refresh_token_not_found');
    const kept = await client().auth.refreshSession({ refresh_token: session.refresh_token });
    expect(kept.error).toBeNull();
  });

  it('signs out only this session with scope "local"', async () => {
    const { supabase, email, session } = await signUp();
    const elsewhere = await signInAgain(email);
    const { error } = await supabase.auth.signOut({ scope: 'local' });
    expect(error).toBeNull();
    const gone = await client().auth.refreshSession({ refresh_token: session.refresh_token });
    expectApiError(gone.error, 400, 'refresh_token_not_found');
    const kept = await client().auth.refreshSession({ refresh_token: elsewhere.refresh_token });
    expect(kept.error).toBeNull();
  });

  it('refuses requests without a valid access token', async () => {
    const noToken = await fetch(`${stack.url}/auth/v1/user`, {
      headers: { apikey: stack.keys.anonKey, 'X-Supabase-Api-Version': '2024-01-01' },
    });
    expect(noToken.status).toBe(401);
    expect(await noToken.json()).toEqual({
      code: 'no_authorization',
      message: 'This endpoint requires a valid Bearer token',
    });
    const forged = await new SignJWT({ role: 'authenticated', session_id: randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(OWNER_ID)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-different-secret-of-at-least-32-chars'));
    const { error } = await client().auth.getUser(forged);
    expectApiError(error, 403, 'bad_jwt');
  });
});

describe('API keys', () => {
  it('refuses a key that is not one of the project keys', async () => {
    const { error } = await client(stack, 'not-a-key').auth.signInWithPassword(OWNER);
    expect(error).toMatchObject({ status: 401, message: 'Invalid API key' });

    const foreign = await new SignJWT({ role: 'anon', iss: 'supabase-demo' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('a-different-secret-of-at-least-32-chars'));
    const refused = await client(stack, foreign).auth.signInWithPassword(OWNER);
    expect(refused.error).toMatchObject({ status: 401, message: 'Invalid API key' });
  });

  it('wants a key on every endpoint but the public key set, in the header or the query', async () => {
    const bare = await fetch(`${stack.url}/auth/v1/settings`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ message: 'No API key found in request' });
    const viaQuery = await fetch(`${stack.url}/auth/v1/health?apikey=${stack.keys.anonKey}`);
    expect(await viaQuery.json()).toMatchObject({ name: 'GoTrue' });
    const jwks = await fetch(`${stack.url}/auth/v1/.well-known/jwks.json`);
    expect(await jwks.json()).toEqual({ keys: [] });
  });

  it('accepts the service role key', async () => {
    const { error } = await client(stack, stack.keys.serviceRoleKey).auth.signInWithPassword(OWNER);
    expect(error).toBeNull();
  });
});

describe('the wire', () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.url}/auth/v1${path}`, {
      method: 'POST',
      headers: { apikey: stack.keys.anonKey, 'content-type': 'application/json', ...headers },
      body,
    });

  it('speaks both GoTrue error shapes, chosen by the API-version header', async () => {
    const login = JSON.stringify({ email: OWNER.email, password: 'wrong-password-1' });
    const current = await post('/token?grant_type=password', login, {
      'X-Supabase-Api-Version': '2024-01-01',
    });
    expect(current.status).toBe(400);
    expect(current.headers.get('x-supabase-api-version')).toBe('2024-01-01');
    expect(current.headers.get('x-sb-error-code')).toBe('invalid_credentials');
    expect(await current.json()).toEqual({
      code: 'invalid_credentials',
      message: 'Invalid login credentials',
    });

    const legacy = await post('/token?grant_type=password', login);
    expect(legacy.headers.get('x-supabase-api-version')).toBeNull();
    expect(await legacy.json()).toEqual({
      code: 400,
      error_code: 'invalid_credentials',
      msg: 'Invalid login credentials',
    });
  });

  it('answers malformed bodies with 400, never 500', async () => {
    const cases = [
      ['/signup', 'not json'],
      ['/signup', '[1, 2]'],
      ['/signup', JSON.stringify({ email: 42, password: PASSWORD })],
      ['/signup', JSON.stringify({ email: 'a\u0000@example.test', password: PASSWORD })],
      ['/signup', JSON.stringify({ email: 'no-at-sign', password: PASSWORD })],
      ['/signup', JSON.stringify({ email: newEmail() })],
      ['/token?grant_type=password', JSON.stringify({ email: { $ne: null } })],
      ['/token?grant_type=refresh_token', JSON.stringify({ refresh_token: ['x'] })],
      ['/token?grant_type=magic', '{}'],
      // Valid JSON, but not storable in Postgres as it stands.
      ['/signup', '{"data": {"note": "\\ud800"}}'],
      ['/signup', `{"data": ${'{"a": '.repeat(100)}1${'}'.repeat(100)}}`],
    ] as const;
    for (const [path, body] of cases) {
      const response = await post(path, body);
      expect(response.status, `${path} ${body}`).toBe(400);
      await response.body?.cancel();
    }
  });

  it('answers CORS preflights and exposes the headers auth-js reads', async () => {
    const preflight = await fetch(`${stack.url}/auth/v1/token?grant_type=password`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'apikey, authorization, content-type, x-supabase-api-version',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-headers')).toContain(
      'x-supabase-api-version',
    );
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');

    const failed = await post('/token?grant_type=password', '{}');
    expect(failed.headers.get('access-control-allow-origin')).toBe('*');
    expect(failed.headers.get('access-control-expose-headers')).toMatch(/x-supabase-api-version/i);
    await failed.body?.cancel();
  });

  it('reports its settings from config.toml', async () => {
    const response = await fetch(`${stack.url}/auth/v1/settings`, {
      headers: { apikey: stack.keys.anonKey },
    });
    expect(await response.json()).toMatchObject({
      external: { email: true, anonymous_users: true, phone: false },
      disable_signup: false,
      mailer_autoconfirm: true,
    });
  });
});

describe('access tokens in the database', () => {
  const asUser = (claims: JwtClaims, text: string) =>
    database().asUser(claims, (sql) => sql.query<Record<string, unknown>>(text));

  it('passes auth.uid() into RLS: the owner reads its tenant, a visitor reads none', async () => {
    const owner = decodeJwt(
      await signInAgain(OWNER.email, OWNER.password).then((s) => s.access_token),
    );
    expect(
      await asUser(owner as JwtClaims, 'select auth.uid() as uid, auth.role() as role'),
    ).toEqual([{ uid: OWNER_ID, role: 'authenticated' }]);
    expect(await asUser(owner as JwtClaims, 'select slug from public.tenants')).toEqual([
      { slug: 'trailhead' },
    ]);

    const { data } = await client().auth.signInAnonymously();
    const visitor = decodeJwt(data.session?.access_token ?? '') as JwtClaims;
    expect(await asUser(visitor, 'select auth.uid() as uid')).toEqual([{ uid: data.user?.id }]);
    expect(await asUser(visitor, 'select slug from public.tenants')).toEqual([]);
  });

  it('stores users, sessions and refresh tokens in the auth schema', async () => {
    const { user, session } = await signUp();
    const sessionId = decodeJwt(session.access_token).session_id;
    // The auth schema belongs to Auth, not to the API roles: read it as the database owner.
    const rows = await database().asService(async (sql) => {
      await sql.query('set local role postgres');
      return sql.query(
        `select u.email, u.encrypted_password like '$2a$10$%' as bcrypt, u.last_sign_in_at is not null as signed_in,
                s.aal::text as aal, rt.token, rt.revoked
           from auth.users u join auth.sessions s on s.user_id = u.id
           join auth.refresh_tokens rt on rt.session_id = s.id
          where u.id = $1 and s.id = $2`,
        [user.id, sessionId],
      );
    });
    expect(rows).toEqual([
      {
        email: user.email,
        bcrypt: true,
        signed_in: true,
        aal: 'aal1',
        token: session.refresh_token,
        revoked: false,
      },
    ]);
  });
});

describe('with sign-ups switched off', () => {
  it('refuses anonymous sign-ins and new users', async () => {
    const anonymous = await client(locked).auth.signInAnonymously();
    expectApiError(anonymous.error, 422, 'anonymous_provider_disabled');
    const signup = await client(locked).auth.signUp({ email: newEmail(), password: PASSWORD });
    expectApiError(signup.error, 422, 'signup_disabled');
  });

  it('lets a replaced refresh token be reused within the reuse interval', async () => {
    const supabase = client(locked);
    const { data } = await supabase.auth.signInWithPassword(OWNER);
    const first = data.session?.refresh_token ?? '';
    const second = (await supabase.auth.refreshSession({ refresh_token: first })).data.session;
    await supabase.auth.refreshSession({ refresh_token: second?.refresh_token ?? '' });
    // Two refreshes later, the first token is still inside config.toml's 10 seconds.
    const late = await supabase.auth.refreshSession({ refresh_token: first });
    expect(late.error).toBeNull();
    expect(late.data.session?.refresh_token).not.toBe(first);
  });
});
