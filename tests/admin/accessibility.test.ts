import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// axe-core finds no violations in the admin SPA — the sign-in page, and the inbox with a
// conversation open (transcript with a bot reply and its sources, an agent reply with buttons and
// a card, an internal note, the visitor's details, the composer in both modes and with its buttons
// and card editor) — in light and dark, English and right-to-left Hebrew.

const ui = useBrowserHarness();
let tenant: TestTenant;
let agent: Staff;
let conversationId: string;

beforeAll(async () => {
  tenant = await createTenant(ui.h);
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
  await createStaff(ui.h, tenant, 'owner', 'Olive');
  conversationId = await ui.h.db.asService(async (sql) => {
    const [contact] = await sql.query<{ id: string }>(
      `insert into public.contacts (tenant_id, identifier, name, email, attributes)
       values ($1, 'cust-7', 'Noa Levi', 'noa@example.test', '{"plan": "gold"}') returning id`,
      [tenant.id],
    );
    const [c] = await sql.query<{ id: string }>(
      `insert into public.conversations (tenant_id, contact_id, identity_verified, status, locale, page_url, prechat)
       values ($1, $2, true, 'handoff', 'en', 'https://shop.example/boots', '{"name": "Noa", "fields": {"order": "A-1001"}}')
       returning id`,
      [tenant.id, contact?.id],
    );
    const id = c?.id as string;
    await sql.query(
      `insert into public.messages (conversation_id, role, content, sources, author_id, is_private, created_at) values
         ($1, 'user', 'Where is my order A-1001?', '[]', null, false, now() - interval '4 minutes'),
         ($1, 'assistant', 'It ships **tomorrow**. See [shipping](https://shop.example/shipping).',
          '[{"title": "Shipping", "url": "https://shop.example/shipping"}]', null, false, now() - interval '3 minutes'),
         ($1, 'agent', 'Hi, I am Dana.', '[]', $2, false, now() - interval '2 minutes'),
         ($1, 'agent', 'VIP customer', '[]', $2, true, now() - interval '1 minute')`,
      [id, agent.id],
    );
    // What the agent sent with buttons and a card, as the transcript shows it.
    await sql.query(
      `update public.messages set rich = $2::jsonb where conversation_id = $1 and content = 'Hi, I am Dana.'`,
      [
        id,
        {
          buttons: [{ label: 'Track it', url: 'https://shop.example/track' }],
          cards: [
            { title: 'Boots', text: 'Size 42', buttons: [{ label: 'More', payload: 'More' }] },
          ],
        },
      ],
    );
    return id;
  });
}, 120_000);

const axe = (page: Page) => axeViolations(page, { mustCheck: ['button-name', 'color-contrast'] });

const CASES = [
  { name: 'en, light', theme: 'light', locale: 'en' },
  { name: 'en, dark', theme: 'dark', locale: 'en' },
  { name: 'he, light', theme: 'light', locale: 'he' },
  { name: 'he, dark', theme: 'dark', locale: 'he' },
] as const;

// The stack, two browsers and everyone else's tests share two cores: give the UI time.
const poll = <T>(fn: () => T | Promise<T>, options: { timeout?: number } = {}) =>
  expect.poll(fn, { timeout: 10_000, ...options });

describe('accessibility (axe-core)', () => {
  for (const c of CASES) {
    it(`no violations: ${c.name}`, async () => {
      const { page } = await ui.newPage({ colorScheme: c.theme });
      await page.goto(`${ui.h.stack.url}/admin/`);
      const a = admin(page);
      await a.locale.selectOption(c.locale);
      await a.theme.selectOption(c.theme);
      await poll(() => page.evaluate(() => document.documentElement.dir)).toBe(
        c.locale === 'he' ? 'rtl' : 'ltr',
      );
      expect(await axe(page), 'sign-in').toEqual([]);

      await signInToAdmin(page, ui.h, agent, `#/${tenant.id}/inbox/${conversationId}`);
      await poll(() => a.messages.count()).toBe(4);
      await a.details.waitFor({ state: 'visible' });
      await poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(c.theme);
      expect(await axe(page), 'inbox, reply mode').toEqual([]);

      // The buttons-and-card composer, with a button and a card open.
      await page.locator('[data-admin="rich-toggle"]').click();
      const rich = page.locator('[data-admin="rich-composer"]');
      await rich.locator('[data-admin="rich-add-card"]').click();
      await rich.locator('[data-admin="rich-add-button"]').first().click();
      await rich.locator('[data-admin="rich-card"]').waitFor({ state: 'visible' });
      expect(await axe(page), 'inbox, buttons and card composer').toEqual([]);

      await a.modeNote.click();
      await page.locator('[data-admin="sources"] summary').click();
      expect(await axe(page), 'inbox, note mode, sources open').toEqual([]);
    });
  }
});
