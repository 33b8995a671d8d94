import { describe, expect, it } from 'vitest';
import { originAllowed } from '../../functions/chat/tenant.ts';

describe('allowed origins', () => {
  const cases: [string[], string | null, boolean][] = [
    [[], 'https://anything.example', true],
    [['https://shop.example'], 'https://shop.example', true],
    [['https://shop.example/'], 'https://shop.example', true],
    [['https://shop.example'], 'http://shop.example', false],
    [['https://shop.example'], 'https://shop.example:8443', false],
    [['https://shop.example'], 'https://evil-shop.example', false],
    [['https://shop.example'], 'https://shop.example.evil.test', false],
    [['https://*.shop.example'], 'https://eu.shop.example', true],
    [['https://*.shop.example'], 'https://shop.example', false],
    [['https://*.shop.example'], 'https://evilshop.example', false],
    [['http://localhost:*'], 'http://localhost:5173', true],
    [['http://localhost:*'], 'http://localhost', true],
    [['http://localhost:*'], 'http://localhost.evil.test:80', false],
    [['http://127.0.0.1:54321'], 'http://127.0.0.1:54322', false],
    [['https://shop.example'], null, false],
    [['https://shop.example'], 'null', false],
    [['not a url'], 'https://shop.example', false],
  ];
  it.each(cases)('%j allows %s: %s', (allowed, origin, expected) => {
    expect(originAllowed(allowed, origin)).toBe(expected);
  });
});
