import { createClient, isAuthApiError, type SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { type StackProcess, startStack } from '../support/stack.ts';

// Sign-up to workspace on the local stack with config.toml as it is (email confirmations on):
// sign up, find the confirmation link in the stack's log, open it, sign in, create a workspace.

let stack: StackProcess;
let db: Db;

beforeAll(async () => {
  stack = await startStack();
  db = createPostgresDb(stack.dbUrl, { max: 1 });
});
afterAll(async () => {
  await db?.close();
  await stack?.stop();
});

const PASSWORD = 'correct-horse-42';

function client(): SupabaseClient {
  return createClient(stack.url, stack.keys.anonKey, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
  });
}

/** The confirmation link and code the stack logged for this address. */
async function confirmationFor(email: string) {
  const pattern = new RegExp(
    `confirm ${email.replace(/[.+]/g, '\\$&')} by opening (\\S+) \\(or with the code (\\d{6})\\)`,
  );
  for (let i = 0; i < 50; i++) {
    const match = pattern.exec(stack.output());
    if (match) return { link: match[1] as string, code: match[2] as string };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no confirmation logged for ${email}`);
}

describe('sign-up with email confirmation', () => {
  it('confirms through the logged link, then the user signs in and creates a workspace', async () => {
    const email = `owner-${crypto.randomUUID()}@example.test`;
    const redirect = `${stack.url}/admin/`;
    const signUp = await client().auth.signUp({
      email,
      password: PASSWORD,
      options: { emailRedirectTo: redirect },
    });
    expect(signUp.error).toBeNull();
    expect(signUp.data.session).toBeNull();
    expect(signUp.data.user?.email_confirmed_at).toBeUndefined();
    expect(signUp.data.user?.confirmation_sent_at).toBeTruthy();

    const early = await client().auth.signInWithPassword({ email, password: PASSWORD });
    expect(isAuthApiError(early.error)).toBe(true);
    expect(early.error).toMatchObject({ status: 400, code: 'email_not_confirmed' });

    const { link } = await confirmationFor(email);
    const url = new URL(link);
    expect(url.pathname).toBe('/auth/v1/verify');
    expect(url.searchParams.get('type')).toBe('signup');
    expect(url.searchParams.get('redirect_to')).toBe(redirect);

    // Opened from a mail: no apikey, a redirect back to the app with the session in the fragment.
    const opened = await fetch(link, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    const location = new URL(opened.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(redirect);
    const fragment = new URLSearchParams(location.hash.slice(1));
    expect(fragment.get('type')).toBe('signup');
    expect(fragment.get('token_type')).toBe('bearer');
    const claims = decodeJwt(fragment.get('access_token') ?? '') as JwtClaims;
    expect(claims).toMatchObject({ email, role: 'authenticated', is_anonymous: false });

    // The link works once.
    const again = await fetch(link, { redirect: 'manual' });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toContain('error_code=otp_expired');

    const owner = client();
    const signIn = await owner.auth.signInWithPassword({ email, password: PASSWORD });
    expect(signIn.error).toBeNull();
    expect(signIn.data.user?.email_confirmed_at).toBeTruthy();

    // Through the Data API, as the admin SPA does it.
    const slug = `ws-${crypto.randomUUID().slice(0, 8)}`;
    const created = await owner.rpc('create_workspace', {
      p_name: 'My shop',
      p_slug: slug,
      p_website: 'https://my-shop.example/',
    });
    expect(created.error).toBeNull();
    expect(created.data).toMatchObject({
      slug,
      plan_id: 'free',
      allowed_origins: ['https://my-shop.example'],
    });
    const members = await owner
      .from('tenant_members')
      .select('role')
      .eq('tenant_id', created.data?.id);
    expect(members.data).toEqual([{ role: 'owner' }]);
    // Its usage this month, and the history as CSV (a conversation the staff start counts too).
    const started = await owner.from('conversations').insert({ tenant_id: created.data?.id });
    expect(started.error).toBeNull();
    const usage = await owner.rpc('tenant_usage', { p_tenant_id: created.data?.id });
    expect(usage.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ metric: 'seats', used: 1, quota: 2 }),
        expect.objectContaining({ metric: 'bot_replies_per_month', used: 0, quota: 200 }),
      ]),
    );
    const csv = await owner.rpc('usage_history', { p_tenant_id: created.data?.id }).csv();
    expect(csv.error).toBeNull();
    const [header, row] = String(csv.data).split('\n');
    expect(header).toBe('period_start,metric,used,quota');
    expect(row).toMatch(/^\d{4}-\d{2}-01,conversations_per_month,1,100$/);
    const taken = await owner.rpc('create_workspace', { p_name: 'Again', p_slug: slug });
    expect(taken.error).toMatchObject({ code: '23505' });

    // An anonymous visitor cannot.
    const visitor = client();
    await visitor.auth.signInAnonymously();
    const refused = await visitor.rpc('create_workspace', { p_name: 'Nope', p_slug: `no-${slug}` });
    expect(refused.error).toMatchObject({ code: '42501' });
    const session = decodeJwt(signIn.data.session?.access_token ?? '') as JwtClaims;
    const [workspace] = await db.asUser(session, (sql) =>
      sql.query<{ plan_id: string }>(
        'select plan_id from public.subscriptions where tenant_id = $1',
        [created.data?.id],
      ),
    );
    expect(workspace?.plan_id).toBe('free');
  });

  it('confirms with the six-digit code through verifyOtp', async () => {
    const email = `code-${crypto.randomUUID()}@example.test`;
    expect((await client().auth.signUp({ email, password: PASSWORD })).error).toBeNull();
    const { code } = await confirmationFor(email);
    const wrong = await client().auth.verifyOtp({
      email,
      token: code === '000000' ? '111111' : '000000',
      type: 'signup',
    });
    expect(wrong.error).toMatchObject({ status: 403, code: 'otp_expired' });
    const verified = await client().auth.verifyOtp({ email, token: code, type: 'signup' });
    expect(verified.error).toBeNull();
    expect(verified.data.session?.access_token).toBeTruthy();
    expect(verified.data.user?.email_confirmed_at).toBeTruthy();
  });

  it('sends users only to allowed addresses', async () => {
    const email = `redirect-${crypto.randomUUID()}@example.test`;
    await client().auth.signUp({
      email,
      password: PASSWORD,
      options: { emailRedirectTo: 'https://evil.example/steal' },
    });
    const { link } = await confirmationFor(email);
    expect(new URL(link).searchParams.get('redirect_to')).not.toContain('evil.example');
  });
});
