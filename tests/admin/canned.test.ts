import { describe, expect, it } from 'vitest';
import { expandShortcut } from '../../admin/src/data/canned.ts';

// The composer's /shortcut expansion (admin/src/data/canned.ts): Tab replaces the shortcut that
// ends at the caret with the tenant's saved reply, and nothing else.

const responses = [
  { shortcut: 'thanks', content: 'Thanks for waiting!' },
  { shortcut: 'return-policy', content: 'Unused gear can be returned within 60 days.' },
];

describe('expandShortcut', () => {
  it('replaces a shortcut at the start or after a space, keeping what follows the caret', () => {
    expect(expandShortcut('/thanks', 7, responses)).toEqual({
      text: 'Thanks for waiting!',
      caret: 19,
    });
    const text = 'Hi! /return-policy Anything else?';
    expect(expandShortcut(text, 18, responses)).toEqual({
      text: 'Hi! Unused gear can be returned within 60 days. Anything else?',
      caret: 47,
    });
  });

  it('leaves unknown shortcuts, URLs, paths and text after the caret alone', () => {
    expect(expandShortcut('/nope', 5, responses)).toBeNull();
    expect(expandShortcut('see https://shop.example/thanks', 31, responses)).toBeNull();
    expect(expandShortcut('a/thanks', 8, responses)).toBeNull();
    expect(expandShortcut('/thanks', 3, responses)).toBeNull();
    expect(expandShortcut('', 0, [])).toBeNull();
  });
});
