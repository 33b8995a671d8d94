import { describe, expect, it } from 'vitest';
import { toRich } from '../../widget/src/app/ui/rich.ts';
import { toRules, urlMatches } from '../../widget/src/loader/proactive.ts';
import { imageUrl } from '../../widget/src/shared/safe-url.ts';

// What the widget keeps of a rich part and of the greeting rules, whatever the server sent: the
// database checks both where they are written, and the widget checks them again where they are
// used, so a row from before a check or a tampered cache cannot put a script link on the page.

describe('toRich', () => {
  it('drops links and pictures that are not http(s), and parts without a label or title', () => {
    const shown = toRich(
      {
        buttons: [
          { label: 'Run', url: 'javascript:alert(1)' },
          { label: 'Data', url: 'data:text/html,<script>alert(1)</script>' },
          { label: 'Shop', url: 'https://shop.example/a' },
          { label: '', payload: 'empty label' },
          { label: 'Ask', payload: 'A question' },
          { label: 'Both', payload: 42 },
        ],
        cards: [
          {
            title: 'Mug',
            image_url: 'javascript:alert(1)',
            buttons: [{ label: 'x', url: 'vbscript:x' }],
          },
          { text: 'no title' },
          { title: ['not', 'text'] },
        ],
      },
      imageUrl,
    );
    expect(shown).toEqual({
      buttons: [
        { label: 'Shop', url: 'https://shop.example/a' },
        { label: 'Ask', payload: 'A question' },
      ],
      cards: [{ title: 'Mug', text: null, image: undefined, buttons: [] }],
    });
  });

  it('is nothing for what is not a rich part', () => {
    for (const value of [null, 'buttons', [], 42, { buttons: 'x' }, { cards: [{}] }]) {
      expect(toRich(value, imageUrl)).toBeNull();
    }
  });

  it('caps the number of buttons and cards', () => {
    const many = toRich(
      {
        buttons: Array(9).fill({ label: 'b', payload: 'p' }),
        cards: Array(14).fill({ title: 't', buttons: Array(5).fill({ label: 'b', payload: 'p' }) }),
      },
      imageUrl,
    );
    expect(many?.buttons).toHaveLength(5);
    expect(many?.cards).toHaveLength(10);
    expect(many?.cards[0]?.buttons).toHaveLength(3);
  });
});

describe('greeting rules', () => {
  it('keeps known triggers with bounded numbers and defaults', () => {
    const rules = toRules([
      { trigger: 'time', message: 'Hi' },
      { trigger: 'scroll', percent: 500, message: 'Still here?' },
      { trigger: 'hover', message: 'unknown trigger' },
      { trigger: 'exit', message: '' },
      { trigger: 'url', pattern: '*/pricing*', message: 'Plans?', times: 3, every_days: 7 },
      'not a rule',
    ]);
    expect(rules.map((r) => [r.trigger, r.seconds, r.percent, r.times, r.days])).toEqual([
      ['time', 10, 50, 1, 1],
      ['scroll', 10, 50, 1, 1],
      ['url', 10, 50, 3, 7],
    ]);
    expect(toRules({ trigger: 'time', message: 'Hi' })).toEqual([]);
  });

  it('matches URL patterns whole, * as the only wildcard', () => {
    expect(urlMatches('*/pricing*', 'https://shop.example/pricing?plan=pro')).toBe(true);
    expect(urlMatches('*/pricing', 'https://shop.example/pricing/extra')).toBe(false);
    expect(urlMatches('https://shop.example/a.b', 'https://shop.example/aXb')).toBe(false);
    expect(urlMatches('*(a|b)*', 'https://shop.example/a')).toBe(false);
  });
});
