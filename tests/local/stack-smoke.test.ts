import { afterAll, beforeAll, expect, it } from 'vitest';
import { type StackProcess, startStack } from '../support/stack.ts';

let stack: StackProcess;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

it('serves health through the functions router', async () => {
  const res = await fetch(`${stack.url}/functions/v1/health`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ status: 'ok', database: { status: 'ok' } });
});
