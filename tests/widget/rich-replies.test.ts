import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations } from '../support/axe.ts';
import { openWidget, sendMessage, waitForMessage } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Buttons and cards under a bot or agent message: a chunk fetched only when a message carries
// them, links that open http(s) pages in a new tab, postbacks sent as the visitor's message.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
}, 120_000);

const RICH = {
  buttons: [
    { label: 'Track my order', url: 'https://shop.example/track' },
    { label: 'Returns', payload: 'How do returns work?' },
  ],
  cards: [
    {
      title: 'Blue mug',
      text: '12 oz, dishwasher safe',
      image_url: 'https://cdn.example/mug.png',
      buttons: [{ label: 'Buy the mug', url: 'https://shop.example/mug' }],
    },
    {
      title: 'Green mug',
      buttons: [{ label: 'Tell me more', payload: 'Tell me about the green mug' }],
    },
  ],
};

/** A bot message with buttons and cards in the visitor's latest conversation. */
async function richReply(content: string, rich: unknown) {
  await ui.h.db.asService((sql) =>
    sql.query(
      `insert into public.messages (conversation_id, tenant_id, role, content, rich)
       select c.id, c.tenant_id, 'assistant', $2, $3::jsonb from public.conversations c
        where c.tenant_id = $1 order by c.created_at desc limit 1`,
      [tenant.id, content, rich],
    ),
  );
}

async function check(page: Page, label: string) {
  const chunks: string[] = [];
  page.on('request', (request) => {
    if (/parley-rich-[^/]+\.js$/.test(request.url())) chunks.push(request.url());
  });
  // The card's picture, from the "CDN".
  await page.route('https://cdn.example/**', (route) =>
    route.fulfill({
      contentType: 'image/svg+xml',
      body: '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><rect width="40" height="40" fill="#2563eb"/></svg>',
    }),
  );
  await openWidget(page);
  await sendMessage(page, `Show me mugs (${label})`);
  await waitForMessage(page, 'user', 'Show me mugs');
  expect(chunks, 'the chunk waits for a message that needs it').toEqual([]);

  await richReply('Here are our mugs.', RICH);
  const reply = await waitForMessage(page, 'assistant', 'Here are our mugs.', 30_000);
  const cards = reply.locator('[data-parley="card"]');
  await expect.poll(() => cards.count(), { timeout: 20_000 }).toBe(2);
  expect(chunks).toHaveLength(1);
  expect(await cards.first().locator('h3').textContent()).toBe('Blue mug');
  expect(await cards.first().locator('img').getAttribute('src')).toBe(
    'https://cdn.example/mug.png',
  );
  const links = reply.locator('[data-parley="rich-link"]');
  expect(
    await links.evaluateAll((as) =>
      as.map((a) => [a.getAttribute('href'), a.getAttribute('rel'), a.getAttribute('target')]),
    ),
  ).toEqual([
    ['https://shop.example/mug', 'noopener noreferrer', '_blank'],
    ['https://shop.example/track', 'noopener noreferrer', '_blank'],
  ]);
  expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
  await page.screenshot({ path: `/tmp/parley-rich-${label}.png` }).catch(() => {});

  // A postback is the visitor's message, as if typed.
  await reply.locator('[data-parley="rich-postback"]', { hasText: 'Returns' }).click();
  await waitForMessage(page, 'user', 'How do returns work?');
  await reply.locator('[data-parley="rich-postback"]', { hasText: 'Tell me more' }).click();
  await waitForMessage(page, 'user', 'Tell me about the green mug');
}

describe('rich replies in the widget', () => {
  it('desktop, light, English: cards and buttons render, links are safe, postbacks send', async () => {
    const { page, problems } = await ui.openShop(tenant, {}, { colorScheme: 'light' });
    await check(page, 'desktop-light-en');
    expect(problems).toEqual([]);
  }, 180_000);

  it('phone, dark, Hebrew: the same, right to left', async () => {
    const { page, problems } = await ui.openShop(
      tenant,
      { locale: 'he', lang: 'he', dir: 'rtl' },
      {
        colorScheme: 'dark',
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      },
    );
    await check(page, 'phone-dark-he');
    expect(problems).toEqual([]);
  }, 180_000);
});
