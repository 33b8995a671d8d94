import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { inShadow } from './browser.ts';

// The XSS corpus and what to look for after rendering it in the widget: every browser test that
// puts hostile text somewhere the widget shows (messages, sources, buttons, cards, file names)
// checks the same way that none of it became markup or ran.

export const PWN = 'window.__pwned=1';

/** Every payload tries to set window.__pwned or open a dialog. */
export const PAYLOADS: string[] = [
  `<script>${PWN}</script>`,
  `<img src=x onerror="${PWN}">`,
  `<img src="x" onerror='alert(1)'>hello`,
  `<svg onload="${PWN}"><circle r="5"/></svg>`,
  `<svg><script>${PWN}</script></svg>`,
  `<math><mtext><table><mglyph><style><img src=x onerror="${PWN}">`,
  `<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>`,
  `<iframe src="javascript:parent.__pwned=1"></iframe>`,
  `<details open ontoggle="${PWN}">x</details>`,
  `<a href="javascript:${PWN}">click me</a>`,
  `<div onmouseover="${PWN}" style="position:fixed;inset:0">hover</div>`,
  `<object data="javascript:${PWN}"></object><embed src="javascript:${PWN}">`,
  `<form><button formaction="javascript:${PWN}">go</button></form>`,
  `<base href="javascript:/"><a href="x">rel</a>`,
  `<style>@import "javascript:${PWN}"; *{display:none}</style>`,
  `"><img src=x onerror="${PWN}">`,
  `'><svg/onload=${PWN}>`,
  `</textarea><img src=x onerror="${PWN}">`,
  `[click](javascript:${PWN})`,
  `[click](JaVaScRiPt:${PWN})`,
  `[click](  javascript:${PWN})`,
  `[click](java&#x09;script:${PWN})`,
  `[click](&#106;avascript:${PWN})`,
  `[click](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZD0xPC9zY3JpcHQ+)`,
  `[click](vbscript:msgbox(1))`,
  `<javascript:${PWN}>`,
  `[ok](https://shop.example/a" onmouseover="${PWN}) and [t](https://shop.example/b "title\\" onclick=\\"${PWN}")`,
  `![x](x" onerror="${PWN})`,
  `![x](javascript:${PWN})`,
  `[x][1]\n\n[1]: javascript:${PWN}`,
  `&lt;img src=x onerror="${PWN}"&gt; &#60;script&#62;${PWN}&#60;/script&#62;`,
  `**bold** <b onclick="${PWN}">b</b> \`<script>${PWN}</script>\``,
  `{{constructor.constructor('${PWN}')()}} \${${PWN}}`,
];

export interface Findings {
  pwned: unknown;
  dangerous: string[];
  handlers: string[];
  links: { href: string | null; rel: string }[];
}

/** Everything in the widget that would mean a payload became markup. */
export async function inspect(page: Page): Promise<Findings> {
  const pwned = await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned);
  const found = await inShadow(page, (root) => {
    const dangerous = [
      ...root.querySelectorAll('script, iframe, object, embed, frame, frameset, base, meta'),
      ...root.querySelectorAll(
        '[data-parley="content"] :is(img, svg, math, style, link, form, input, textarea, button, video, audio, source, details, marquee)',
      ),
    ].map((e) => e.outerHTML.slice(0, 120));
    const handlers: string[] = [];
    for (const element of root.querySelectorAll('*')) {
      for (const attribute of element.attributes) {
        if (/^on/i.test(attribute.name) || /^formaction$/i.test(attribute.name)) {
          handlers.push(`${element.tagName} ${attribute.name}=${attribute.value.slice(0, 60)}`);
        }
      }
    }
    const links = [...root.querySelectorAll('a')].map((a) => ({
      href: a.getAttribute('href'),
      rel: a.getAttribute('rel') ?? '',
    }));
    return { dangerous, handlers, links };
  });
  return { pwned, ...found };
}

export function expectClean(findings: Findings, dialogs: string[]) {
  expect(findings.pwned, 'window.__pwned was set').toBeUndefined();
  expect(dialogs, 'a dialog opened').toEqual([]);
  expect(findings.dangerous, 'markup from a payload became elements').toEqual([]);
  expect(findings.handlers, 'event-handler attributes in the widget').toEqual([]);
  for (const link of findings.links) {
    if (link.href === null) continue; // an anchor without href goes nowhere
    expect(link.href, 'link target').toMatch(/^(https?:|mailto:)/i);
    expect(link.rel, `rel of ${link.href}`).toContain('noopener');
  }
}
