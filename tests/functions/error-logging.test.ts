import { PGlite } from '@electric-sql/pglite';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onError } from '../../functions/_shared/http/errors.ts';

// An unexpected error is logged for the operator, but a Postgres error carries the statement's
// parameters (a visitor's message, an identity) and often values in its message and detail: only
// its code and which statement failed may reach the logs.

let pg: PGlite;
beforeAll(async () => {
  pg = new PGlite();
  await pg.query('create table messages (id int primary key, content text not null)');
  await pg.query(`insert into messages values (1, 'first')`);
});
afterAll(() => pg?.close());

const SECRET = 'my card is 4111 1111 1111 1111';

async function logged(error: unknown) {
  const lines: unknown[] = [];
  const app = new Hono();
  app.get('/', () => {
    throw error;
  });
  app.onError(onError((message, detail) => lines.push([message, detail])));
  const response = await app.request('/');
  expect(response.status).toBe(500);
  expect(await response.json()).toEqual({
    error: { code: 'internal_error', message: expect.any(String) },
  });
  return lines;
}

const caught = (run: () => Promise<unknown>) =>
  run().then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (error: unknown) => error,
  );

describe('a Postgres error in the logs', () => {
  it('keeps the code and the statement, not the values (PGlite)', async () => {
    const error = await caught(() =>
      pg.query('insert into messages (id, content) values ($1::int, $2)', [SECRET, SECRET]),
    );
    const lines = await logged(error);
    expect(lines).toEqual([
      [
        'unhandled error',
        { name: 'PostgresError', code: '22P02', statement: 'insert into messages' },
      ],
    ]);
    expect(JSON.stringify(lines)).not.toContain('4111');
  });

  it('keeps the code and the statement, not the values (a unique violation)', async () => {
    const error = await caught(() =>
      pg.query(`with x as (select 1) insert into messages (id, content) values (1, $1)`, [SECRET]),
    );
    expect((error as { detail?: string }).detail).toContain('(id)=(1)');
    const lines = await logged(error);
    expect(lines[0]).toEqual([
      'unhandled error',
      { name: 'PostgresError', code: '23505', statement: 'insert into messages' },
    ]);
  });

  it('in postgres.js’s shape too', async () => {
    const error = Object.assign(new Error(`value "${SECRET}" too long`), {
      name: 'PostgresError',
      severity: 'ERROR',
      code: '22001',
      detail: SECRET,
      query: 'select id from public.tenants where widget_key = $1',
      parameters: [SECRET],
    });
    const lines = await logged(error);
    expect(lines).toEqual([
      [
        'unhandled error',
        { name: 'PostgresError', code: '22001', statement: 'select … from public.tenants' },
      ],
    ]);
  });

  it('other errors are logged as they are', async () => {
    const error = new TypeError('x is not a function');
    expect(await logged(error)).toEqual([['unhandled error', error]]);
  });
});
