import { readFile } from 'node:fs/promises';
import { createClient } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { admin, createStaff, overflowing, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// The analytics page on a tenant in Tokyo with three conversations over its yesterday and today
// (Tokyo days): the tiles, chart texts and tables show the SQL aggregates, worked out by hand
// below; the history filters and exports every matching row as CSV with formulas defused; agents
// and other tenants are refused by the database, whatever the UI does.

const ui = useBrowserHarness();
let tenant: TestTenant;
let other: TestTenant;
let owner: Staff;
let agent: Staff;
let otherOwner: Staff;
let yesterday: string;
let today: string;

const ZONE = 'Asia/Tokyo';
const FORMULA = '=HYPERLINK("https://evil.example","boots")';

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  other = await createTenant(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Olive');
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
  otherOwner = await createStaff(ui.h, other, 'owner', 'Oscar');
  await ui.h.db.asService(async (sql) => {
    await sql.query('update public.tenants set time_zone = $2 where id = $1', [tenant.id, ZONE]);
    const [days] = await sql.query<{ today: string; yesterday: string }>(
      `select to_char((now() at time zone $1)::date, 'YYYY-MM-DD') as today,
              to_char((now() at time zone $1)::date - 1, 'YYYY-MM-DD') as yesterday`,
      [ZONE],
    );
    today = days?.today as string;
    yesterday = days?.yesterday as string;
    // Past activity, not live traffic: no trigger runs (no reply jobs for these visitor
    // messages, no broadcasts); the counters the triggers keep are set at the end.
    await sql.query(`select set_config('role', 'none', true)`);
    await sql.query(`select set_config('session_replication_role', 'replica', true)`);
    // Times are hours after the start of a Tokyo day.
    const at = (day: string, hours: number) =>
      new Date(new Date(`${day}T00:00:00+09:00`).getTime() + hours * 3_600_000);
    const conversation = async (
      start: Date,
      rest: { handoff?: Date; csat?: number; status?: string; assignee?: string },
    ) => {
      const [c] = await sql.query<{ id: string }>(
        `insert into public.conversations (tenant_id, created_at, handoff_at, csat, assignee_id, status)
         values ($1, $2, $3, $4, $5, $6) returning id`,
        [
          tenant.id,
          start,
          rest.handoff ?? null,
          rest.csat ?? null,
          rest.assignee ?? null,
          rest.status ?? 'bot',
        ],
      );
      return c?.id as string;
    };
    const message = (
      conversationId: string,
      role: string,
      content: string,
      createdAt: Date,
      tokens: [number, number, number] = [0, 0, 0],
    ) =>
      sql.query(
        `insert into public.messages (conversation_id, tenant_id, role, content, created_at, tokens_in, tokens_out, cost_usd)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [conversationId, tenant.id, role, content, createdAt, ...tokens],
      );
    const tool = (conversationId: string, success: boolean, createdAt: Date) =>
      sql.query(
        `insert into public.tool_executions (tenant_id, conversation_id, tool_name, call_id, success, created_at)
         values ($1, $2, 'order_status', $3, $4, $5)`,
        [tenant.id, conversationId, crypto.randomUUID(), success, createdAt],
      );

    // Yesterday 01:00: the bot alone, with a tool that worked; rated 4.
    const a = await conversation(at(yesterday, 1), { csat: 4 });
    await message(a, 'user', FORMULA, at(yesterday, 1));
    await tool(a, true, at(yesterday, 1.01));
    await message(a, 'assistant', 'They ship today.', at(yesterday, 1.02), [120, 30, 0.0125]);
    // Yesterday 02:00: the bot, a failed tool, then a person two minutes after the handoff; rated 2.
    const b = await conversation(at(yesterday, 2), {
      handoff: at(yesterday, 2.1),
      csat: 2,
      status: 'open',
      assignee: agent.id,
    });
    await message(b, 'user', 'my parcel never arrived', at(yesterday, 2));
    await tool(b, false, at(yesterday, 2.01));
    await message(b, 'assistant', 'Let me find someone.', at(yesterday, 2.02), [80, 20, 0.0075]);
    await message(b, 'agent', 'I am on it.', new Date(at(yesterday, 2.1).getTime() + 120_000));
    // Today 00:30 in Tokyo (still yesterday in UTC): the bot alone.
    const c = await conversation(at(today, 0.5), {});
    await message(c, 'user', 'size chart?', at(today, 0.5));
    await message(c, 'assistant', 'Here it is.', at(today, 0.51));
    await sql.query(
      `update public.conversations c set message_count = m.n, last_message_at = m.last
         from (select conversation_id, count(*)::int as n, max(created_at) as last
                 from public.messages where tenant_id = $1 group by conversation_id) m
        where m.conversation_id = c.id`,
      [tenant.id],
    );
    await sql.query(`select set_config('session_replication_role', 'origin', true)`);
    // The analytics roll-up, which its triggers would have kept.
    await sql.query('select private.analytics_rebuild($1)', [tenant.id]);
  });
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, timeout = 20_000) => expect.poll(fn, { timeout });

async function openAnalytics(page: Page, staff: Staff) {
  await signInToAdmin(page, ui.h, staff);
  await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/analytics`);
  await page.locator('[data-admin="analytics-tiles"]').waitFor({ timeout: 30_000 });
}

const tile = (page: Page, id: string) =>
  page.locator(`[data-tile="${id}"] dd`).textContent({ timeout: 10_000 });

describe('analytics page', () => {
  it('shows the real aggregates in tiles, chart texts and tables, in the tenant’s days', async () => {
    const { page } = await ui.newPage();
    await openAnalytics(page, owner);
    expect(await page.locator('.analytics').textContent()).toContain('Asia/Tokyo');
    await poll(() => tile(page, 'conversations')).toBe('3');
    expect(await tile(page, 'deflection')).toBe('66.7%');
    expect(await tile(page, 'handoff')).toBe('33.3%');
    expect(await tile(page, 'csat')).toBe('3 from 2 ratings');
    expect(await tile(page, 'tokens')).toBe('250');
    expect(await tile(page, 'cost')).toBe('$0.02');
    expect(await tile(page, 'tools')).toBe('50% of 2 calls');

    // Per assignee: Dana's one conversation, answered two minutes after the handoff, rated 2.
    expect(await page.locator(`[data-agent="${agent.id}"] th`).textContent()).toBe('Dana');
    expect(await page.locator(`[data-agent="${agent.id}"] td`).allTextContents()).toEqual([
      '1',
      '2m',
      '0',
      '—',
      '2 from 1 ratings',
    ]);

    // Eight uPlot charts drawn on canvas, each with its numbers as text and as a table.
    await poll(() => page.locator('[data-chart] .chart-canvas canvas').count()).toBe(8);
    const chart = (id: string) => page.locator(`[data-chart="${id}"]`);
    expect(await chart('conversations').locator('figcaption').textContent()).toContain('Total: 3.');
    expect(await chart('first-response').locator('figcaption').textContent()).toContain('2m');
    await chart('conversations').locator('summary').click();
    const row = (id: string, day: string) =>
      chart(id).locator(`tr[data-day="${day}"] td`).allTextContents();
    expect(await row('conversations', yesterday)).toEqual(['2', '1']);
    expect(await row('conversations', today)).toEqual(['1', '1']);
    await chart('messages').locator('summary').click();
    expect(await row('messages', yesterday)).toEqual(['2', '2', '1']);
    await chart('tools').locator('summary').click();
    expect(await row('tools', yesterday)).toEqual(['50%']);
    expect(await row('tools', today)).toEqual(['—']);
    await chart('first-response').locator('summary').click();
    expect(await row('first-response', yesterday)).toEqual(['2m', '2m']);

    expect(await axeViolations(page, { mustCheck: ['color-contrast'] }), 'en, light').toEqual([]);
    const a = admin(page);
    await a.locale.selectOption('he');
    await a.theme.selectOption('dark');
    await poll(() => page.locator('.analytics h1').textContent()).toBe('ניתוח נתונים');
    expect(await axeViolations(page, { mustCheck: ['color-contrast'] }), 'he, dark').toEqual([]);
  }, 180_000);

  it('reads on a phone: charts, figures and filters fit, only the history table scrolls sideways', async () => {
    const { page } = await ui.newPage({ viewport: { width: 390, height: 844 } });
    await openAnalytics(page, owner);
    await poll(() => page.locator('[data-chart] .chart-canvas canvas').count()).toBe(8);
    for (const part of ['.range', '.tiles', '.charts', '.history-filters', '.history-bar']) {
      expect(await overflowing(page, part), part).toEqual([]);
    }
    const sideways = await page.evaluate(() => {
      const root = document.querySelector('.analytics') as HTMLElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(sideways).toBeLessThanOrEqual(1);
  }, 120_000);

  it('filters the history and exports every matching row with formulas defused', async () => {
    const { page } = await ui.newPage();
    await openAnalytics(page, owner);
    const rows = page.locator('[data-history]');
    await poll(() => rows.count()).toBe(3);
    await page.locator('[data-admin="history-rating"]').selectOption('rated');
    await page.locator('[data-admin="history-apply"]').click();
    await poll(() => rows.count()).toBe(2);
    await page.locator('[data-admin="history-query"]').fill('parcel');
    await page.locator('[data-admin="history-apply"]').click();
    await poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Dana');

    await page.locator('[data-admin="history-query"]').fill('');
    await page.locator('[data-admin="history-rating"]').selectOption('');
    await page.locator('[data-admin="history-apply"]').click();
    await poll(() => rows.count()).toBe(3);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 20_000 }),
      page.locator('[data-admin="history-export"]').click(),
    ]);
    const csv = (await readFile(await download.path(), 'utf8')).replace(/^\ufeff/, '');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]?.startsWith('id,started_at,status,channel')).toBe(true);
    expect(lines).toHaveLength(4);
    // The visitor's formula is text: an apostrophe first, quotes doubled inside a quoted cell.
    expect(csv).toContain(`"'=HYPERLINK(""https://evil.example"",""boots"")"`);
    expect(csv).not.toMatch(/,=HYPERLINK/);
    await poll(() => page.locator('[data-admin="history-export-state"]').textContent()).toBe(
      'Exported 3 conversations.',
    );
  }, 180_000);

  it('is not offered to an agent, and the database refuses agents and other tenants', async () => {
    const { page } = await ui.newPage();
    await signInToAdmin(page, ui.h, agent);
    expect(await page.locator(`nav a[href$="/analytics"]`).count()).toBe(0);
    await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/analytics`);
    await poll(() => page.locator('main .empty').textContent()).toBeTruthy();
    expect(await page.locator('[data-admin="analytics"]').count()).toBe(0);

    // Through the Data API directly, as the agent and as another tenant's owner.
    for (const staff of [agent, otherOwner]) {
      const client = createClient(ui.h.stack.url, ui.h.stack.keys.anonKey, {
        auth: { persistSession: false, autoRefreshToken: false },
        realtime: { transport: WebSocket as never },
      });
      const { error: signInError } = await client.auth.signInWithPassword({
        email: staff.email,
        password: staff.password,
      });
      expect(signInError).toBeNull();
      const range = { p_tenant_id: tenant.id, p_from: yesterday, p_to: today };
      const daily = await client.rpc('analytics_daily', range);
      expect(daily.error?.code, staff.name).toBe('42501');
      const history = await client.rpc('conversation_history', { p_tenant_id: tenant.id });
      expect(history.error?.code, staff.name).toBe('42501');
      const support = await client.rpc('conversation_metrics_daily', range);
      expect(support.error?.code, staff.name).toBe('42501');
      // Nor may they move the tenant's days.
      const moved = await client
        .from('tenants')
        .update({ time_zone: 'Asia/Kolkata' }, { count: 'exact' })
        .eq('id', tenant.id);
      expect(moved.error !== null || moved.count === 0, staff.name).toBe(true);
      await client.auth.signOut();
    }
    const [row] = await ui.h.db.asService((sql) =>
      sql.query<{ time_zone: string }>('select time_zone from public.tenants where id = $1', [
        tenant.id,
      ]),
    );
    expect(row?.time_zone).toBe(ZONE);
  }, 120_000);

  it('lets an owner pick the time zone from every zone the browser knows, and saves it', async () => {
    const { page } = await ui.newPage();
    await openAnalytics(page, owner);
    const select = page.locator('[data-admin="time-zone"]');
    expect(await select.inputValue()).toBe(ZONE);
    const offered = await select.locator('option').count();
    const known = await page.evaluate(() => Intl.supportedValuesOf('timeZone').length);
    expect(offered).toBeGreaterThanOrEqual(known);
    expect(await axeViolations(page)).toEqual([]);
    // A half-hour zone: its days start inside a UTC hour, read row by row. Chromium's ICU may
    // list it under its older name, which Postgres knows as well.
    const india = await page.evaluate(
      () =>
        Intl.supportedValuesOf('timeZone').find(
          (z) => z === 'Asia/Kolkata' || z === 'Asia/Calcutta',
        ) ?? '',
    );
    expect(india).not.toBe('');
    await select.selectOption(india);
    await page.locator('[data-admin="time-zone-save"]').click();
    await poll(() => page.locator('[data-admin="time-zone-status"]').textContent()).toContain(
      india,
    );
    const zoneOf = async () => {
      const [row] = await ui.h.db.asService((sql) =>
        sql.query<{ time_zone: string }>('select time_zone from public.tenants where id = $1', [
          tenant.id,
        ]),
      );
      return row?.time_zone;
    };
    expect(await zoneOf()).toBe(india);
    await poll(() => page.locator('[data-admin="analytics-error"]').count()).toBe(0);
    await page.reload();
    await page.locator('[data-admin="analytics-tiles"]').waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-admin="time-zone"]').inputValue()).toBe(india);
    // Back to the tenant's zone, through the page again.
    await page.locator('[data-admin="time-zone"]').selectOption(ZONE);
    await page.locator('[data-admin="time-zone-save"]').click();
    await poll(zoneOf).toBe(ZONE);
  }, 120_000);
});
