import { createClient } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import type { ChatHarness, TestTenant } from './chat.ts';

// The admin SPA under test: staff accounts made through Auth like real sign-ups, then given a
// role in a tenant; and the SPA's DOM contract (data-admin names, data-conversation rows).

export interface Staff {
  id: string;
  email: string;
  password: string;
  name: string;
}

/** Signs a new staff account up through Auth and makes it a member of the tenant. */
export async function createStaff(
  h: ChatHarness,
  tenant: TestTenant,
  role: 'owner' | 'admin' | 'agent',
  name: string,
): Promise<Staff> {
  const email = `${name.toLowerCase().replace(/\W+/g, '-')}-${crypto.randomUUID().slice(0, 8)}@staff.example`;
  const password = 'staff-password-123';
  const client = createClient(h.stack.url, h.stack.keys.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never },
  });
  const { data, error } = await client.auth.signUp({ email, password });
  if (error || !data.user) throw error ?? new Error('no user from sign-up');
  const id = data.user.id;
  await h.db.asService(async (sql) => {
    await sql.query(
      `insert into public.tenant_members (tenant_id, user_id, role, display_name) values ($1, $2, $3, $4)`,
      [tenant.id, id, role, name],
    );
    // The address is confirmed as if the link the stack logged had been followed. auth.users is
    // Auth's: the session's login role writes it, as in tests/support/world.ts.
    await sql.query(`select set_config('role', 'none', true)`);
    await sql.query('update auth.users set email_confirmed_at = now() where id = $1', [id]);
  });
  return { id, email, password, name };
}

export function admin(page: Page) {
  const part = (name: string) => page.locator(`[data-admin="${name}"]`);
  return {
    list: part('inbox-list'),
    rows: page.locator('[data-conversation]'),
    row: (conversationId: string) => page.locator(`[data-conversation="${conversationId}"]`),
    conversation: part('conversation'),
    transcript: part('transcript'),
    messages: part('message'),
    status: page.locator('[data-admin="conversation"] [data-admin="status"]'),
    takeOver: part('take-over'),
    handBack: part('hand-back'),
    resolve: part('resolve'),
    reopen: part('reopen'),
    assignee: part('assignee'),
    input: part('input'),
    send: part('send'),
    modeReply: part('mode-reply'),
    modeNote: part('mode-note'),
    search: part('search'),
    details: part('details'),
    locale: part('locale'),
    theme: part('theme'),
    tenant: part('tenant'),
    signOut: part('sign-out'),
  };
}

/** Opens the admin SPA served by the stack and signs in; waits for the inbox. */
export async function signInToAdmin(page: Page, h: ChatHarness, staff: Staff, hash = '') {
  await page.goto(`${h.stack.url}/admin/${hash}`);
  await page.locator('input[name="email"]').fill(staff.email);
  await page.locator('input[name="password"]').fill(staff.password);
  await page.locator('form button[type="submit"]').click();
  await admin(page).list.waitFor({ state: 'visible', timeout: 15_000 });
}

/** Opens the admin SPA at `hash` and signs in, without waiting for any page in particular. */
export async function signInAt(page: Page, h: ChatHarness, staff: Staff, hash: string) {
  await page.goto(`${h.stack.url}/admin/${hash}`);
  await page.locator('input[name="email"]').fill(staff.email);
  await page.locator('input[name="password"]').fill(staff.password);
  await page.locator('form button[type="submit"]').click();
}

/**
 * What of the elements matching `selector` (and inside them) reaches past the screen's edges, so a
 * test can say a page reads on a phone: it scrolls down, never sideways.
 */
export function overflowing(page: Page, selector: string) {
  return page.evaluate((root) => {
    const wide = [...document.querySelectorAll(`${root}, ${root} *`)].filter((element) => {
      const box = element.getBoundingClientRect();
      return box.width > 0 && (box.left < -1 || box.right > window.innerWidth + 1);
    });
    return wide.map((e) => `${e.tagName.toLowerCase()}.${e.className}`).slice(0, 5);
  }, selector);
}

/** The tenant's newest conversation, as the service sees it. */
export async function latestConversation(h: ChatHarness, tenant: TestTenant) {
  const rows = await h.db.asService((sql) =>
    sql.query<{ id: string; status: string; assignee_id: string | null }>(
      `select id, status, assignee_id from public.conversations where tenant_id = $1
        order by created_at desc limit 1`,
      [tenant.id],
    ),
  );
  if (!rows[0]) throw new Error('the tenant has no conversation');
  return rows[0];
}
