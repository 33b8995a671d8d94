import { describe, expect, it } from 'vitest';
import { pageOrigin, widgetLoadThrottle } from '../../functions/chat/tenant.ts';

// The origin recorded for onboarding's live check: the Origin header of the widget's cross-origin
// config request, else the Referer's origin (a page on the API's own origin sends no Origin on a
// GET); never anything but an http(s) origin.

describe('the page origin of a widget load', () => {
  it.each([
    ['https://shop.example', undefined, 'https://shop.example'],
    ['https://shop.example', 'https://other.example/page', 'https://shop.example'],
    [undefined, 'https://shop.example/products/boots?x=1', 'https://shop.example'],
    ['null', 'http://localhost:5173/', 'http://localhost:5173'],
    [undefined, undefined, null],
    ['null', undefined, null],
    ['file:///etc/passwd', undefined, null],
    ['chrome-extension://abc', 'javascript:alert(1)', null],
    ['not a url', 'https://shop.example:8443/x', 'https://shop.example:8443'],
    [`https://${'a'.repeat(2100)}.example`, undefined, null],
  ] as const)('Origin %s, Referer %s → %s', (origin, referer, expected) => {
    expect(pageOrigin(origin, referer)).toBe(expected);
  });
});

describe('recording widget loads', () => {
  it('records each tenant and origin once per 30 seconds, and again after', () => {
    const record = widgetLoadThrottle();
    expect(record('t1', 'https://shop.example', 0)).toBe(true);
    expect(record('t1', 'https://shop.example', 29_999)).toBe(false);
    expect(record('t1', 'https://other.example', 1_000)).toBe(true);
    expect(record('t2', 'https://shop.example', 1_000)).toBe(true);
    expect(record('t1', 'https://shop.example', 30_001)).toBe(true);
  });

  it('forgets everything rather than growing past its bound', () => {
    const record = widgetLoadThrottle(30_000, 2);
    expect(record('t', 'https://a.example', 0)).toBe(true);
    expect(record('t', 'https://b.example', 0)).toBe(true);
    expect(record('t', 'https://c.example', 0)).toBe(true);
    expect(record('t', 'https://a.example', 1)).toBe(true);
  });
});
