import { beforeAll, describe, expect, it } from 'vitest';
import { admin, createStaff, type Staff, signInToAdmin } from '../support/admin.ts';
import { axeViolations } from '../support/axe.ts';
import { inShadow, openWidget, sendMessage, widget } from '../support/browser.ts';
import { useBrowserHarness } from '../support/browser-harness.ts';
import { createTenant, type TestTenant } from '../support/chat.ts';

// Files, emoji and the emailed transcript in the widget: each a chunk fetched only when used,
// on a desktop and on a phone, light and dark, English and Hebrew, axe clean.

const ui = useBrowserHarness({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '100' } });
let tenant: TestTenant;
let agent: Staff;

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">.png';

beforeAll(async () => {
  tenant = await createTenant(ui.h, { llm: null });
  agent = await createStaff(ui.h, tenant, 'agent', 'Dana');
}, 120_000);

function chunkRequests(page: import('playwright-core').Page) {
  const seen: string[] = [];
  page.on('request', (request) => {
    const m = /parley-(attach|emoji|transcript)-[^/]+\.js$/.exec(request.url());
    if (m?.[1]) seen.push(m[1]);
  });
  return seen;
}

/** Clicks the paperclip and answers the file chooser it opens. */
async function choose(
  page: import('playwright-core').Page,
  file: { name: string; mimeType: string; buffer: Buffer },
) {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.locator('[data-parley="attach"]').click(),
  ]);
  await chooser.setFiles(file);
}

describe('attachments', () => {
  it('uploads a picked image with a preview, sends it, and staff see it in the inbox', async () => {
    const { page, problems } = await ui.openShop(
      tenant,
      {},
      { colorScheme: 'light', locale: 'en' },
    );
    const chunks = chunkRequests(page);
    await openWidget(page);
    expect(chunks).toEqual([]);
    await sendMessage(page, 'I have a photo of the damage');

    await choose(page, { name: HOSTILE_NAME, mimeType: 'image/png', buffer: PNG });
    // Uploaded, with a preview and a progress bar on the way, and sent as a message of its own.
    const pending = page.locator('[data-parley="pending"]');
    const file = page.locator('[data-parley="message"][data-role="user"] [data-parley="file"]');
    await file.first().waitFor({ timeout: 20_000 });
    expect(chunks).toContain('attach');
    expect(await pending.count()).toBe(0);
    expect(await file.first().locator('img').count()).toBe(1);
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);

    const [row] = await ui.h.db.asService((sql) =>
      sql.query<{ attachments: { name: string; type: string; path: string }[] }>(
        `select attachments from public.messages where tenant_id = $1 and jsonb_array_length(attachments) = 1
          order by created_at desc limit 1`,
        [tenant.id],
      ),
    );
    expect(row?.attachments[0]?.name).toBe(HOSTILE_NAME);
    expect(row?.attachments[0]?.type).toBe('image/png');

    // After a reload the picture comes back from Storage through a signed URL.
    await page.reload();
    await openWidget(page);
    const img = page.locator('[data-parley="message"] [data-parley="file"] img');
    await img.first().waitFor({ timeout: 20_000 });
    await expect
      .poll(() => img.first().evaluate((el) => (el as HTMLImageElement).naturalWidth), {
        timeout: 20_000,
      })
      .toBe(1);
    expect(await img.first().getAttribute('alt')).toBe(HOSTILE_NAME);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(problems).toEqual([]);

    // Staff see the file in the inbox, by name, as a link.
    const { page: staff } = await ui.newPage();
    await signInToAdmin(staff, ui.h, agent);
    await admin(staff).rows.first().click();
    const link = staff.locator('[data-admin="attachment"] a');
    await link.first().waitFor({ timeout: 20_000 });
    expect(await link.first().textContent()).toBe(HOSTILE_NAME);
    expect(await link.first().getAttribute('href')).toMatch(
      /\/storage\/v1\/object\/sign\/attachments\//,
    );
    expect(await staff.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  }, 180_000);

  it('refuses a type and explains it; takes files by drop and by paste (phone, dark, Hebrew)', async () => {
    const { page } = await ui.openShop(
      tenant,
      { locale: 'he' },
      {
        colorScheme: 'dark',
        locale: 'he',
        viewport: { width: 390, height: 844 },
        isMobile: true,
        hasTouch: true,
      },
    );
    await openWidget(page);
    await choose(page, {
      name: 'setup.exe',
      mimeType: 'application/x-msdownload',
      buffer: Buffer.from('MZ'),
    });
    const alert = page.locator('[data-parley="pending"] [role="alert"]');
    await alert.waitFor({ timeout: 20_000 });
    expect(await alert.textContent()).toContain('setup.exe');
    expect(await alert.textContent()).toContain('סוג קובץ');
    expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
    await page.locator('[data-parley="pending"] button').click();
    expect(await page.locator('[data-parley="pending"]').count()).toBe(0);

    // Drop and paste hand the same kind of File to the widget.
    await inShadow(
      page,
      (root, bytes) => {
        const file = new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' });
        const drop = new DataTransfer();
        drop.items.add(file);
        root
          .querySelector('form.composer')
          ?.dispatchEvent(
            new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }),
          );
        const paste = new DataTransfer();
        paste.items.add(new File([new Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
        root
          .querySelector('textarea')
          ?.dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: paste, bubbles: true, cancelable: true }),
          );
      },
      [...PNG],
    );
    await expect
      .poll(() => page.locator('[data-parley="message"] [data-parley="file"]').count(), {
        timeout: 20_000,
      })
      .toBe(2);
  }, 120_000);
});

describe('emoji and transcript', () => {
  for (const c of [
    { name: 'desktop, light, English', locale: 'en', colorScheme: 'light' as const, phone: false },
    { name: 'phone, dark, Hebrew', locale: 'he', colorScheme: 'dark' as const, phone: true },
  ]) {
    it(`picks an emoji with the keyboard and emails the transcript (${c.name})`, async () => {
      const { page, problems } = await ui.openShop(
        tenant,
        { locale: c.locale },
        {
          colorScheme: c.colorScheme,
          locale: c.locale,
          ...(c.phone
            ? { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
            : {}),
        },
      );
      const chunks = chunkRequests(page);
      await openWidget(page);
      const w = widget(page);
      await sendMessage(page, `Order 4411 please (${c.name})`);
      expect(chunks).toEqual([]);

      const toggle = page.locator('[data-parley="emoji-button"]');
      await toggle.focus();
      await page.keyboard.press('Enter');
      const picker = page.locator('[data-parley="emoji"]');
      await picker.waitFor({ timeout: 20_000 });
      expect(chunks).toEqual(['emoji']);
      expect(await toggle.getAttribute('aria-expanded')).toBe('true');
      expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
      // The first emoji has focus; one step on and Enter puts the second into the input.
      await page.keyboard.press(c.locale === 'he' ? 'ArrowLeft' : 'ArrowRight');
      await page.keyboard.press('Enter');
      expect(await w.input.inputValue()).toBe('😂');
      // The picker stays for another pick; Escape from it closes it.
      await picker.locator('button').first().focus();
      await page.keyboard.press('Escape');
      expect(await picker.count()).toBe(0);
      expect(
        await toggle.evaluate(
          (el) =>
            el.getRootNode() instanceof ShadowRoot &&
            (el.getRootNode() as ShadowRoot).activeElement === el,
        ),
      ).toBe(true);

      await page.locator('[data-parley="transcript-button"]').click();
      const form = page.locator('[data-parley="transcript"]');
      await form.waitFor({ timeout: 20_000 });
      expect(chunks).toContain('transcript');
      const address = `visitor-${c.locale}@example.com`;
      await form.locator('input').fill(address);
      expect(await axeViolations(page, { selector: '#parley-root' })).toEqual([]);
      await form.locator('button[type="submit"]').click();
      const status = page.locator('[data-parley="transcript-status"]');
      await expect.poll(() => status.textContent(), { timeout: 20_000 }).toContain(address);
      await expect
        .poll(() => ui.h.stack.output(), { timeout: 10_000 })
        .toContain(`email to ${address}`);
      const mail = ui.h.stack
        .output()
        .slice(ui.h.stack.output().lastIndexOf(`email to ${address}`));
      expect(mail).toContain('Order 4411 please');
      expect(problems).toEqual([]);
    }, 120_000);
  }
});
