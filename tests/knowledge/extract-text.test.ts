import { describe, expect, it } from 'vitest';
import {
  type Block,
  blocksToText,
  extractText,
  UnsupportedMimeTypeError,
} from '../../functions/_shared/knowledge/extract-text.ts';

const headings = (blocks: Block[]) =>
  blocks.flatMap((b) => (b.kind === 'heading' ? [[b.level, b.text] as const] : []));
const texts = (blocks: Block[], role?: string) =>
  blocks.flatMap((b) => (b.kind === 'text' && (!role || b.role === role) ? [b.text] : []));

describe('extractText: HTML', () => {
  const page = `<!doctype html>
<html>
  <head>
    <title>Returns | Trailhead</title>
    <style>body { color: red }</style>
    <script>window.analytics = "tracking-code";</script>
  </head>
  <body>
    <nav><a href="/">Home</a> <a href="/shop">Shop</a></nav>
    <header><h1>Returns &amp; exchanges</h1></header>
    <main>
      <p>You can   return <strong>unused</strong>
         gear within&nbsp;60&nbsp;days &mdash; see <a href="/help/policy">the policy</a>
         or <a href="https://trailhead.example/faq">our FAQ</a> or <a href="#top">go up</a>.</p>
      <script type="application/ld+json">{"@type": "FAQPage"}</script>
      <div hidden>Internal note: not for customers</div>
      <p style="display: none">Hidden promo</p>
      <span aria-hidden="true">★★★</span>
      <noscript>Please enable JavaScript</noscript>
      <svg viewBox="0 0 10 10"><text>svg label</text><path d="M0 0"/></svg>
      <template><p>template text</p></template>
      <h2>How to return</h2>
      <ol>
        <li>Start a return from your order page<del> or call us</del>.</li>
        <li>Print the label:
          <ul>
            <li>Prepaid label, <em>$5.95</em></li>
            <li>Free when the item is faulty
              <ul><li>Deeply nested</li></ul>
            </li>
          </ul>
        </li>
        <li><p>Drop it at a UPS point.</p><p>Keep the receipt.</p></li>
      </ol>
      <h3>Fees</h3>
      <table>
        <thead><tr><th>Item</th><th>Fee</th></tr></thead>
        <tbody>
          <tr><td>Unused gear</td><td>$5.95</td></tr>
          <tr><td><p>Faulty</p></td><td>free</td></tr>
        </tbody>
      </table>
      <pre><code>RETURN-CODE   TH-10421
  line two</code></pre>
      <address>1450 Larimer Street<br>Denver, CO</address>
      <p>Caf&eacute; &#8220;quoted&#8221; &lt;tag&gt; &#x1F97E;</p>
    </main>
    <footer>© Trailhead Outfitters · <a href="/privacy">Privacy</a></footer>
  </body>
</html>`;
  const blocks = extractText(page, 'text/html; charset=utf-8', {
    baseUrl: 'https://trailhead.example/help/returns',
  });
  const all = blocksToText(blocks);

  it('drops scripts, styles, navigation, footers and hidden elements', () => {
    for (const gone of [
      'tracking-code',
      'color: red',
      'FAQPage',
      'Home',
      'Shop',
      'Internal note',
      'Hidden promo',
      '★',
      'enable JavaScript',
      'svg label',
      'template text',
      'Privacy',
      'Returns | Trailhead',
    ]) {
      expect(all).not.toContain(gone);
    }
  });

  it('keeps headings with their levels and decodes entities', () => {
    expect(headings(blocks)).toEqual([
      [1, 'Returns & exchanges'],
      [2, 'How to return'],
      [3, 'Fees'],
    ]);
    expect(all).toContain('Café “quoted” <tag> 🥾');
  });

  it('collapses whitespace and writes links as text (url)', () => {
    expect(texts(blocks, 'paragraph')[0]).toBe(
      'You can return unused gear within 60 days — see the policy (https://trailhead.example/help/policy) or our FAQ (https://trailhead.example/faq) or go up.',
    );
  });

  it('keeps nested lists as indented items, numbered where ordered', () => {
    expect(texts(blocks, 'list-item')).toEqual([
      '1. Start a return from your order page.',
      '2. Print the label:',
      '  - Prepaid label, $5.95',
      '  - Free when the item is faulty',
      '    - Deeply nested',
      '3. Drop it at a UPS point.',
      '  Keep the receipt.',
    ]);
  });

  it('reads tables as rows of cells, and keeps preformatted text and line breaks', () => {
    expect(texts(blocks, 'table-row')).toEqual([
      'Item | Fee',
      'Unused gear | $5.95',
      'Faulty | free',
    ]);
    expect(texts(blocks, 'code')).toEqual(['RETURN-CODE   TH-10421\n  line two']);
    expect(texts(blocks, 'paragraph')).toContain('1450 Larimer Street\nDenver, CO');
  });

  it('handles fragments and broken markup', () => {
    expect(blocksToText(extractText('<p>one<p>two <b>bold <i>both</b> end', 'text/html'))).toBe(
      'one\ntwo bold both end',
    );
    expect(extractText('', 'text/html')).toEqual([]);
    expect(extractText('<script>only()</script>', 'text/html')).toEqual([]);
  });
});

describe('extractText: Markdown', () => {
  const markdown = `---
title: Shipping
---
# Shipping

Orders placed **before 2 pm** ship the _same_ business day. Track it on
[the tracking page](https://trailhead.example/track "Track") or at <https://ups.example>.
Codes like \`TH_10421\` and snake_case_words stay as they are; \\*not emphasis\\*.

## Costs ##

- Standard: *free* over $75
  - otherwise $6.95
    1. nested ordered
- Express: ~~$24.95~~ $19.95

Alternative heading
-------------------

| Service | Cost |
|:--------|-----:|
| Standard | $6.95 |
| Express \\| next day | $19.95 |

> Quoted **note** with a [reference link][ups].

![Delivery van](van.png)

\`\`\`bash
curl -s https://api.example/track?id=TH-1   # comment *kept*
\`\`\`

<!-- an editor's comment -->
Caf&eacute; &amp; more<br>next line

[ups]: https://ups.example/points
`;
  const blocks = extractText(markdown, 'text/markdown');

  it('keeps headings (ATX and setext) with levels, without front matter', () => {
    expect(headings(blocks)).toEqual([
      [1, 'Shipping'],
      [2, 'Costs'],
      [2, 'Alternative heading'],
    ]);
    expect(blocksToText(blocks)).not.toContain('title:');
  });

  it('strips emphasis but keeps link URLs, code and escaped characters', () => {
    expect(texts(blocks, 'paragraph')[0]).toBe(
      'Orders placed before 2 pm ship the same business day. Track it on the tracking page (https://trailhead.example/track) or at https://ups.example. Codes like TH_10421 and snake_case_words stay as they are; *not emphasis*.',
    );
    expect(texts(blocks, 'paragraph')).toContain(
      'Quoted note with a reference link (https://ups.example/points).',
    );
  });

  it('keeps nested lists, tables and code blocks', () => {
    expect(texts(blocks, 'list-item')).toEqual([
      '- Standard: free over $75',
      '  - otherwise $6.95',
      '    1. nested ordered',
      '- Express: $19.95',
    ]);
    expect(texts(blocks, 'table-row')).toEqual([
      'Service | Cost',
      'Standard | $6.95',
      'Express | next day | $19.95',
    ]);
    expect(texts(blocks, 'code')).toEqual([
      'curl -s https://api.example/track?id=TH-1   # comment *kept*',
    ]);
  });

  it('drops images and comments, decodes entities, honours <br>', () => {
    const all = blocksToText(blocks);
    expect(all).not.toContain('van.png');
    expect(all).not.toContain('Delivery van');
    expect(all).not.toContain("editor's comment");
    expect(texts(blocks, 'paragraph')).toContain('Café & more\nnext line');
  });
});

describe('extractText: plain text and types', () => {
  it('joins wrapped lines into paragraphs and keeps list lines apart', () => {
    const blocks = extractText(
      'Our stores are open\nevery day.\n\n- Denver\n- Boulder, with\n  free parking\n\nThanks!',
      'text/plain',
    );
    expect(blocks).toEqual([
      { kind: 'text', role: 'paragraph', text: 'Our stores are open every day.' },
      { kind: 'text', role: 'list-item', text: '- Denver' },
      { kind: 'text', role: 'list-item', text: '- Boulder, with free parking' },
      { kind: 'text', role: 'paragraph', text: 'Thanks!' },
    ]);
  });

  it('refuses a type it cannot read', () => {
    expect(() => extractText('%PDF-1.7', 'application/pdf')).toThrow(UnsupportedMimeTypeError);
  });
});
