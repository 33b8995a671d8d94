import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type StackProcess, startStack } from '../support/stack.ts';

// The Auth stand-in's admin links, driven by supabase-js's auth.admin as a server would drive
// them: inviteUserByEmail and generateLink (invite, magiclink) with the service key only, every
// link printed to the stack's log for want of a mail server, and /verify honouring them once.

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(() => stack?.stop());

const options = {
  auth: { persistSession: false, autoRefreshToken: false },
  realtime: { transport: WebSocket as never },
};
const adminApi = () => createClient(stack.url, stack.keys.serviceRoleKey, options).auth.admin;
const address = (tag: string) => `${tag}-${crypto.randomUUID().slice(0, 8)}@invite.example`;

/** Opens a link as a browser would: where Auth redirects, with the fragment's parameters. */
async function open(link: string) {
  const res = await fetch(link, { redirect: 'manual' });
  const target = new URL(res.headers.get('location') ?? '');
  return { status: res.status, target, params: new URLSearchParams(target.hash.slice(1)) };
}

describe('admin links', () => {
  it('inviteUserByEmail creates an invited user and logs the link, which signs them in once', async () => {
    const email = address('invited');
    const redirectTo = `${stack.url}/admin/?accept=abc`;
    const { data, error } = await adminApi().inviteUserByEmail(email, { redirectTo });
    expect(error).toBeNull();
    expect(data.user?.email).toBe(email);
    expect(data.user?.email_confirmed_at ?? null).toBeNull();
    expect(data.user?.invited_at).toBeTruthy();
    const line = stack
      .output()
      .split('\n')
      .find((l) => l.includes(`invite link for ${email}`));
    const link = line?.match(/https?:\/\/\S+\/verify\?\S+/)?.[0];
    expect(link).toBeTruthy();

    const first = await open(link as string);
    expect(first.status).toBe(303);
    expect(first.target.searchParams.get('accept')).toBe('abc');
    expect(first.params.get('type')).toBe('invite');
    const token = first.params.get('access_token') as string;
    const { data: user } = await createClient(stack.url, stack.keys.anonKey, options).auth.getUser(
      token,
    );
    expect(user.user).toMatchObject({ email });
    expect(user.user?.email_confirmed_at).toBeTruthy();

    const again = await open(link as string);
    expect(again.params.get('access_token')).toBeNull();
    expect(again.params.get('error_code')).toBe('otp_expired');
  });

  it('generateLink answers the link; invite refuses a confirmed address, magiclink signs it in', async () => {
    const email = address('existing');
    const made = await adminApi().generateLink({ type: 'invite', email });
    expect(made.error).toBeNull();
    expect(made.data.properties?.verification_type).toBe('invite');
    await open(made.data.properties?.action_link as string);

    const refused = await adminApi().generateLink({ type: 'invite', email });
    expect(refused.error?.code).toBe('email_exists');
    expect(refused.error?.status).toBe(422);

    const magic = await adminApi().generateLink({ type: 'magiclink', email });
    expect(magic.error).toBeNull();
    expect(magic.data.properties?.verification_type).toBe('magiclink');
    expect(stack.output()).toContain(magic.data.properties?.action_link as string);
    const signedIn = await open(magic.data.properties?.action_link as string);
    expect(signedIn.params.get('type')).toBe('magiclink');
    expect(signedIn.params.get('access_token')).toBeTruthy();
    // The six-digit code works the same way, once.
    const code = await adminApi().generateLink({ type: 'magiclink', email });
    const client = createClient(stack.url, stack.keys.anonKey, options);
    const verified = await client.auth.verifyOtp({
      email,
      token: code.data.properties?.email_otp as string,
      type: 'magiclink',
    });
    expect(verified.error).toBeNull();
    expect(verified.data.user?.email).toBe(email);
  });

  it('refuses anyone without the service key, and redirects only to allowed addresses', async () => {
    const asAnon = createClient(stack.url, stack.keys.anonKey, options).auth.admin;
    const refused = await asAnon.generateLink({ type: 'invite', email: address('nope') });
    expect(refused.error?.status).toBe(403);
    expect(refused.error?.code).toBe('not_admin');
    const invite = await asAnon.inviteUserByEmail(address('nope'));
    expect(invite.error?.status).toBe(403);

    const made = await adminApi().generateLink({
      type: 'invite',
      email: address('elsewhere'),
      options: { redirectTo: 'https://evil.example/steal' },
    });
    expect(new URL(made.data.properties?.redirect_to as string).origin).not.toBe(
      'https://evil.example',
    );
  });
});
