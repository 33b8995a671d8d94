import { createClient } from '@supabase/supabase-js';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { admin, createStaff, overflowing, type Staff, signInAt } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, runWorker, type TestTenant } from '../support/chat.ts';
import {
  deliver,
  delivery,
  type MetaNumber,
  startFakeGraph,
  status,
} from '../whatsapp/fake-meta.ts';

// The WhatsApp page in Chromium against the local stack and a fake Graph API: an owner connects a
// number (its settings then read back only as set / not set), its templates come in from the
// business account, a flow is refused with the flows function's words and then saved, and a
// broadcast to the seeded opted-in contacts is sent by the worker while its counts update on the
// page. An agent never gets the page; it stays accessible in both themes and languages, on a phone.

const ACCESS_TOKEN = 'EAAG-admin-page-token';
const APP_SECRET = 'admin-page-app-secret';
const number: MetaNumber = {
  phoneNumberId: '106540352248888',
  displayPhoneNumber: '15550788888',
  wabaId: '102290129348888',
};
const graph = await startFakeGraph(ACCESS_TOKEN);
graph.templates.push(
  {
    id: '7001',
    name: 'spring_sale',
    language: 'en_US',
    category: 'MARKETING',
    status: 'APPROVED',
    components: [{ type: 'BODY', text: 'Hi {{1}}, our spring sale starts today!' }],
  },
  {
    id: '7002',
    name: 'spring_sale',
    language: 'he',
    category: 'MARKETING',
    status: 'PENDING',
    components: [{ type: 'BODY', text: 'שלום {{1}}' }],
  },
);

// Registered before the harness so it runs after the stack, whose connections to it keep it open.
afterAll(() => graph.close());
const ui = useBrowserHarness({ env: { WHATSAPP_GRAPH_URL: graph.url } });
let tenant: TestTenant;
let owner: Staff;
let agent: Staff;
const VIP = ['972500000101', '972500000102', '972500000103', '972500000104'];

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  owner = await createStaff(ui.h, tenant, 'owner', 'Orli');
  agent = await createStaff(ui.h, tenant, 'agent', 'Avi');
  await ui.h.db.asService(async (sql) => {
    await sql.query(
      `insert into public.contacts (tenant_id, identifier, wa_id, attributes, whatsapp_opt_in_at)
       select $1, 'whatsapp:' || w, w,
              jsonb_build_object('list', 'vip', 'city', case when w = $3 then 'Eilat' else 'Haifa' end),
              now()
         from unnest($2::text[]) w`,
      [tenant.id, VIP, VIP[3]],
    );
    // Around them: one who opted out and one who never opted in; neither may be messaged.
    await sql.query(
      `insert into public.contacts (tenant_id, identifier, wa_id, attributes, whatsapp_opt_in_at, whatsapp_opted_out_at)
       values ($1, 'whatsapp:972500000201', '972500000201', '{"list": "vip"}', now() - interval '1 day', now()),
              ($1, 'whatsapp:972500000202', '972500000202', '{"list": "vip"}', null, null)`,
      [tenant.id],
    );
  });
}, 120_000);

const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 30_000, interval: 500, ...options });
const part = (page: Page, name: string) => page.locator(`[data-admin="${name}"]`);

describe('the WhatsApp page', () => {
  it('connect a number → templates → a flow (refused, then saved) → a broadcast and its counts', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, owner, `#/${tenant.id}/whatsapp`);
    await part(page, 'wa-add-connection').click({ timeout: 30_000 });

    // A new number needs its settings; the form says which are missing, in words.
    const form = part(page, 'wa-connection-form');
    await form.locator('input[name="label"]').fill('Main line');
    await part(page, 'wa-connection-save').click();
    await poll(() => part(page, 'wa-form-error').textContent()).toContain('Access token');
    await form.locator('input[name="phone_number_id"]').fill(number.phoneNumberId);
    await form.locator('input[name="business_account_id"]').fill(number.wabaId);
    await form.locator('input[name="access_token"]').fill(ACCESS_TOKEN);
    await form.locator('input[name="app_secret"]').fill(APP_SECRET);
    await form.locator('input[name="verify_token"]').fill('admin-page-verify');
    await part(page, 'wa-connection-save').click();

    const card = page.locator('[data-connection]');
    await card.waitFor({ state: 'visible', timeout: 30_000 });
    const connectionId = (await card.getAttribute('data-connection')) as string;
    expect(await part(page, 'wa-webhook-url').inputValue()).toBe(
      `${ui.h.stack.url}/functions/v1/whatsapp/${connectionId}`,
    );
    expect(await card.locator('[data-set="true"]').count()).toBe(5);
    // Write-only: nothing of the secrets reaches the page.
    expect(await page.content()).not.toContain(ACCESS_TOKEN);
    expect(await page.content()).not.toContain(APP_SECRET);

    // The webhook URL answers Meta's handshake with the verify token just set.
    const handshake = await fetch(
      `${ui.h.stack.url}/functions/v1/whatsapp/${connectionId}?hub.mode=subscribe&hub.verify_token=admin-page-verify&hub.challenge=4242`,
    );
    expect(await handshake.text()).toBe('4242');

    // Templates: read from the business account by the worker, on demand too.
    await part(page, 'wa-sync').click();
    await poll(
      async () => {
        await runWorker(ui.h);
        await part(page, 'wa-templates-refresh').click();
        return page.locator('[data-template="spring_sale"]').count();
      },
      { timeout: 90_000 },
    ).toBe(2);
    expect(
      await page.locator('[data-template="spring_sale"][data-status="APPROVED"]').textContent(),
    ).toContain('en_US');

    // A flow pointing at a step that does not exist is refused with the function's words.
    await part(page, 'wa-new-flow').click();
    const flowText = part(page, 'wa-flow-form').locator('textarea[name="flow"]');
    await flowText.fill('{"name": "Broken"');
    await part(page, 'wa-flow-save').click();
    await poll(() => part(page, 'wa-flow-error').textContent()).toContain('not valid JSON');
    const flow = {
      name: 'Finnegans',
      triggers: ['finnegans', 'menu'],
      steps: [
        { id: 'start', type: 'ask', text: 'Book a table?', buttons: ['Yes'], next: 'nowhere' },
      ],
    };
    await flowText.fill(JSON.stringify(flow));
    await part(page, 'wa-flow-save').click();
    await poll(() => part(page, 'wa-flow-error').textContent()).toContain(
      'no step with id nowhere',
    );
    expect(
      await ui.h.db.asService((sql) =>
        sql.query('select 1 from public.bot_flows where tenant_id = $1', [tenant.id]),
      ),
    ).toHaveLength(0);
    flow.steps.push({ id: 'nowhere', type: 'handoff', text: 'A host will confirm.' } as never);
    await flowText.fill(JSON.stringify(flow));
    await part(page, 'wa-flow-save').click();
    const row = page.locator('[data-flow="Finnegans"]');
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await row.getAttribute('data-enabled')).toBe('true');
    expect(await row.textContent()).toContain('finnegans, menu');
    await row.locator('[data-admin="wa-flow-toggle"]').click();
    await poll(() => row.getAttribute('data-enabled')).toBe('false');

    // Edited as JSON again (PUT): the new trigger counts, and the flow stays off.
    await row.locator('button').first().click();
    const edited = JSON.parse(await flowText.inputValue());
    expect(edited).toMatchObject({ name: 'Finnegans', enabled: false });
    edited.triggers.push('carta');
    await flowText.fill(JSON.stringify(edited));
    await part(page, 'wa-flow-save').click();
    await poll(() => row.textContent()).toContain('finnegans, menu, carta');
    expect(await row.getAttribute('data-enabled')).toBe('false');

    // A broadcast of the approved template to the VIP segment.
    await part(page, 'wa-new-broadcast').click();
    const bform = part(page, 'wa-broadcast-form');
    await bform.locator('input[name="name"]').fill('Spring VIP');
    expect(await bform.locator('select[name="template"] option').count()).toBe(1);
    await part(page, 'wa-broadcast-create').click();
    await poll(() => part(page, 'wa-broadcast-error').textContent()).toContain('Variable 1');
    await bform.locator('input[name="variable-1"]').fill('friend');
    await bform.locator('input[name="segment_key-1"]').fill('list');
    await bform.locator('input[name="segment_value-1"]').fill('vip');
    await part(page, 'wa-broadcast-create').click();
    const card2 = page.locator('[data-broadcast="Spring VIP"]');
    await card2.waitFor({ state: 'visible', timeout: 30_000 });
    const count = (key: string) => card2.locator(`[data-count="${key}"] dd`).textContent();
    expect(await count('total')).toBe('4');

    // The worker sends; the page's counts follow without a reload.
    await poll(
      async () => {
        await ui.h.db.asService((sql) =>
          sql.query(
            `update public.jobs set run_at = now() where kind = 'whatsapp_broadcast' and status = 'queued'`,
          ),
        );
        await runWorker(ui.h);
        return card2.getAttribute('data-status');
      },
      { timeout: 120_000 },
    ).toBe('completed');
    await poll(() => count('sent')).toBe('4');
    const sent = graph.sent.filter((s) => s.body.type === 'template' && s.wamid);
    expect(sent.map((s) => s.body.to).sort()).toEqual(VIP);

    // Meta reports one delivered and one read: the summary shows it.
    const [first, second] = sent;
    const webhook = `${ui.h.stack.url}/functions/v1/whatsapp/${connectionId}`;
    for (const [s, value] of [
      [first, 'delivered'],
      [second, 'read'],
    ] as const) {
      const res = await deliver(
        webhook,
        APP_SECRET,
        delivery(number, status(s?.wamid as string, s?.body.to as string, value)),
      );
      expect(res.status).toBe(200);
    }
    await page.reload();
    await card2.waitFor({ state: 'visible', timeout: 30_000 });
    await poll(() => count('delivered')).toBe('1');
    expect(await count('read')).toBe('1');
    expect(await count('sent')).toBe('2');
    expect(await count('skipped')).toBe('0');

    // A broadcast for tomorrow to the VIPs in Haifa (two conditions, both must hold) that starts
    // the flow; it waits, and is paused and resumed from the page. Only a switched-on flow opening
    // with a question is offered.
    await part(page, 'wa-new-broadcast').click();
    await bform.locator('input[name="name"]').fill('Tomorrow');
    await bform.locator('input[name="variable-1"]').fill('friend');
    expect(await bform.locator('select[name="flow"] option').count()).toBe(1);
    await part(page, 'wa-add-condition').click();
    await part(page, 'wa-add-condition').click();
    await bform.locator('input[name="segment_key-1"]').fill('list');
    await bform.locator('input[name="segment_value-1"]').fill('vip');
    await bform.locator('input[name="segment_key-2"]').fill('city');
    await bform.locator('input[name="segment_value-2"]').fill('Haifa');
    await bform.locator('input[name="segment_key-3"]').fill('unused');
    await bform.locator('[data-condition="3"] [data-admin="wa-remove-condition"]').click();
    expect(await bform.locator('[data-condition]').count()).toBe(2);
    await part(page, 'wa-broadcast-form').locator('button', { hasText: 'Cancel' }).click();
    await row.locator('[data-admin="wa-flow-toggle"]').click();
    await poll(() => row.getAttribute('data-enabled')).toBe('true');
    await part(page, 'wa-new-broadcast').click();
    await bform.locator('input[name="name"]').fill('Tomorrow');
    await bform.locator('input[name="variable-1"]').fill('friend');
    await part(page, 'wa-add-condition').click();
    await bform.locator('input[name="segment_key-1"]').fill('list');
    await bform.locator('input[name="segment_value-1"]').fill('vip');
    await bform.locator('input[name="segment_key-2"]').fill('city');
    await bform.locator('input[name="segment_value-2"]').fill('Haifa');
    await poll(() => bform.locator('select[name="flow"] option').count()).toBe(2);
    await bform.locator('select[name="flow"]').selectOption({ label: 'Finnegans' });
    const tomorrow = new Date(Date.now() + 86_400_000);
    const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000);
    await bform.locator('input[name="scheduled_at"]').fill(local.toISOString().slice(0, 16));
    await part(page, 'wa-broadcast-create').click();
    const later = page.locator('[data-broadcast="Tomorrow"]');
    await poll(() => later.getAttribute('data-status')).toBe('scheduled');
    await later.locator('[data-admin="wa-pause"]').click();
    await poll(() => later.getAttribute('data-status')).toBe('paused');
    await later.locator('[data-admin="wa-resume"]').click();
    await poll(() => later.getAttribute('data-status')).toBe('scheduled');
    expect(await later.locator('[data-count="total"] dd').textContent()).toBe('3');
    const [stored] = await ui.h.db.asService((sql) =>
      sql.query<{ segment: unknown; flow: string }>(
        `select b.segment, f.name as flow from public.whatsapp_broadcasts b
           join public.bot_flows f on f.id = b.flow_id where b.name = 'Tomorrow'`,
      ),
    );
    expect(stored).toEqual({
      segment: { attributes: { list: 'vip', city: 'Haifa' } },
      flow: 'Finnegans',
    });
    expect(graph.sent.filter((x) => x.body.type === 'template')).toHaveLength(4);

    const violations = await axeViolations(page, { mustCheck: ['button-name', 'label'] });
    expect(violations).toEqual([]);
    // The refused flow is the only failed request the page made.
    expect(
      ui.problems.filter(
        (p) => !p.includes('favicon') && !(p.includes('400') && p.includes('/functions/v1/flows')),
      ),
    ).toEqual([]);
  }, 300_000);

  it('in Hebrew and dark mode, and on a phone, the page stays accessible and fits', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page } = await ui.newPage({ colorScheme, viewport: { width: 390, height: 844 } });
      await signInAt(page, ui.h, owner, `#/${tenant.id}/whatsapp`);
      await part(page, 'wa-new-flow').waitFor({ state: 'visible', timeout: 30_000 });
      await admin(page).theme.selectOption(colorScheme);
      for (const locale of ['en', 'he'] as const) {
        await admin(page).locale.selectOption(locale);
        await poll(() => page.evaluate(() => document.documentElement.dir)).toBe(
          locale === 'he' ? 'rtl' : 'ltr',
        );
        await part(page, 'wa-new-flow').click();
        await part(page, 'wa-flow-form').waitFor({ state: 'visible' });
        expect(
          await axeViolations(page, { mustCheck: ['label', 'color-contrast', 'button-name'] }),
          `${colorScheme} ${locale}`,
        ).toEqual([]);
        expect(await overflowing(page, '.whatsapp')).toEqual([]);
        await part(page, 'wa-flow-form').locator('button[type="button"]').click();
        // The broadcast form with two segment conditions and the flow choice.
        await part(page, 'wa-new-broadcast').click();
        await part(page, 'wa-add-condition').click();
        await part(page, 'wa-broadcast-form').locator('select[name="flow"]').waitFor();
        expect(
          await axeViolations(page, { mustCheck: ['label', 'color-contrast', 'button-name'] }),
          `${colorScheme} ${locale} broadcast form`,
        ).toEqual([]);
        expect(await overflowing(page, '.whatsapp')).toEqual([]);
        await part(page, 'wa-broadcast-form').locator('.actions button[type="button"]').click();
      }
    }
  }, 180_000);

  it('an operator reads the page but is offered no change', async () => {
    const elsewhere = await createTenant(ui.h);
    const operator = await createStaff(ui.h, elsewhere, 'owner', 'Oscar');
    await ui.h.db.asService((sql) =>
      sql.query('insert into public.platform_admins (user_id) values ($1)', [operator.id]),
    );
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, operator, `#/${tenant.id}/whatsapp`);
    await page.locator('[data-connection]').first().waitFor({ state: 'visible', timeout: 30_000 });
    await page.locator('[data-broadcast="Spring VIP"]').waitFor({ state: 'visible' });
    expect(await page.locator('[data-flow="Finnegans"]').count()).toBe(1);
    for (const action of [
      'wa-add-connection',
      'wa-sync',
      'wa-new-flow',
      'wa-flow-toggle',
      'wa-new-broadcast',
      'wa-pause',
      'wa-resume',
      'wa-delete-connection',
    ])
      expect(await part(page, action).count(), action).toBe(0);
    expect(await page.locator('.whatsapp').textContent()).toContain('read-only');
  }, 120_000);

  it('an agent has no WhatsApp page', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, agent, `#/${tenant.id}/inbox`);
    await admin(page).list.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await page.locator(`a[href="#/${tenant.id}/whatsapp"]`).count()).toBe(0);
    await page.goto(`${ui.h.stack.url}/admin/#/${tenant.id}/whatsapp`);
    await page.waitForTimeout(1500);
    expect(await page.locator('.whatsapp').count()).toBe(0);
    expect(await page.content()).not.toContain('/functions/v1/whatsapp/');
  }, 120_000);

  it('neither an agent nor another workspace learns the settings or syncs templates', async () => {
    const other = await createTenant(ui.h);
    const otherOwner = await createStaff(ui.h, other, 'owner', 'Oded');
    const [connection] = await ui.h.db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into public.whatsapp_connections
           (tenant_id, phone_number_id, business_account_id, access_token, app_secret, verify_token)
         values ($1, '106540352249999', '102290129349999', 'EAAG-x', 'secret-x', 'verify-xx')
         returning id`,
        [tenant.id],
      ),
    );
    const signedIn = async (staff: Staff) => {
      const client = createClient(ui.h.stack.url, ui.h.stack.keys.anonKey, {
        auth: { persistSession: false, autoRefreshToken: false },
        realtime: { transport: WebSocket as never },
      });
      const { error } = await client.auth.signInWithPassword(staff);
      if (error) throw error;
      return client;
    };
    const jobs = () =>
      ui.h.db.asService((sql) =>
        sql.query(
          `select 1 from public.jobs where kind = 'whatsapp_templates_sync' and status = 'queued'
             and payload ->> 'connection_id' = $1`,
          [connection?.id],
        ),
      );
    const before = (await jobs()).length;
    for (const staff of [agent, otherOwner]) {
      const client = await signedIn(staff);
      const settings = await client.rpc('whatsapp_connection_settings', { p_tenant_id: tenant.id });
      expect(settings.data ?? []).toEqual([]);
      const sync = await client.rpc('sync_whatsapp_templates', { p_connection_id: connection?.id });
      expect(sync.error?.code).toBe('42501');
    }
    expect((await jobs()).length).toBe(before);
    // The owner learns which are set, never what they are.
    const mine = await (await signedIn(owner)).rpc('whatsapp_connection_settings', {
      p_tenant_id: tenant.id,
    });
    const row = (mine.data as Record<string, unknown>[]).find(
      (r) => r.connection_id === connection?.id,
    );
    expect(row).toEqual({
      connection_id: connection?.id,
      phone_number_id: true,
      business_account_id: true,
      access_token: true,
      app_secret: true,
      verify_token: true,
    });
    expect(JSON.stringify(mine.data)).not.toContain('secret-x');
  }, 120_000);

  it('an owner disconnects a number after confirming: its URL is refused, the other stays', async () => {
    const { page } = await ui.newPage();
    await signInAt(page, ui.h, owner, `#/${tenant.id}/whatsapp`);
    const cards = page.locator('[data-connection]');
    await poll(() => cards.count()).toBe(2);
    const ids = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-connection')));
    const [keep, drop] = ids as string[];
    const target = page.locator(`[data-connection="${drop}"]`);
    // Dismissed: nothing happens.
    page.once('dialog', (d) => void d.dismiss());
    await target.locator('[data-admin="wa-delete-connection"]').click();
    await page.waitForTimeout(500);
    expect(await cards.count()).toBe(2);
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await target.locator('[data-admin="wa-delete-connection"]').click();
    await poll(() => cards.count()).toBe(1);
    expect(asked).toContain('conversations stay');
    expect(await cards.first().getAttribute('data-connection')).toBe(keep);
    expect(
      await ui.h.db.asService((sql) =>
        sql.query('select 1 from public.whatsapp_connections where id = $1', [drop]),
      ),
    ).toHaveLength(0);
    const refused = await fetch(
      `${ui.h.stack.url}/functions/v1/whatsapp/${drop}?hub.mode=subscribe&hub.verify_token=verify-xx&hub.challenge=1`,
    );
    expect(refused.status).toBe(403);
    const still = await fetch(
      `${ui.h.stack.url}/functions/v1/whatsapp/${keep}?hub.mode=subscribe&hub.verify_token=admin-page-verify&hub.challenge=5`,
    );
    expect(await still.text()).toBe('5');
    expect(await axeViolations(page, { mustCheck: ['button-name'] })).toEqual([]);
  }, 120_000);
});
