import { join } from 'node:path';
import { createClient, FunctionsHttpError } from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createFunctionsRouter, type FunctionsRouter } from '../../supabase/local/functions.ts';
import { createLocalKeys, type LocalKeys, secretKey } from '../../supabase/local/keys.ts';

// The router in process, over a fixture project, driven by the official client through a custom
// fetch: verify_jwt per config.toml, path handling, platform env, waitUntil and error surfaces.

const publicUrl = 'http://127.0.0.1:54321';
let database: LocalDatabase;
let keys: LocalKeys;
let router: FunctionsRouter;
const logged: string[] = [];

beforeAll(async () => {
  database = await openLocalDatabase({ seed: false, embedder: null });
  keys = await createLocalKeys();
  router = await createFunctionsRouter({
    pg: database.pg,
    db: createPgliteDb(database.pg),
    keys,
    publicUrl,
    projectDir: join(import.meta.dirname, '..', 'fixtures', 'functions-project'),
    log: (message) => logged.push(message),
  });
});
afterAll(() => database.close());

const routerFetch = (input: RequestInfo | URL, init?: RequestInit) =>
  router.fetch(new Request(input, init));

function client(accessToken?: string) {
  return createClient(publicUrl, keys.anonKey, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never },
    global: {
      fetch: routerFetch,
      ...(accessToken ? { headers: { Authorization: `Bearer ${accessToken}` } } : {}),
    },
  });
}

async function userToken(expiresIn: string | number = '1h', secret = keys.jwtSecret) {
  return new SignJWT({ role: 'authenticated', aud: 'authenticated', sub: crypto.randomUUID() })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(secretKey(secret));
}

describe('functions router', () => {
  it('passes a valid JWT through to a verify_jwt function, which sees its path without the prefix', async () => {
    const token = await userToken();
    const { data, error } = await client(token).functions.invoke('echo/orders/7', {
      body: { hello: 'world' },
    });
    expect(error).toBeNull();
    expect(data).toEqual({
      method: 'POST',
      path: '/echo/orders/7',
      authorization: `Bearer ${token}`,
      body: { hello: 'world' },
      supabaseUrl: publicUrl,
      hasServiceKey: true,
    });
  });

  it('accepts the anon key as a JWT, like Supabase (the role is not checked)', async () => {
    const { error } = await client().functions.invoke('echo/x');
    expect(error).toBeNull();
  });

  it('refuses a verify_jwt function without a token, with a bad signature or expired', async () => {
    const missing = await routerFetch(`${publicUrl}/functions/v1/echo/x`, { method: 'POST' });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ msg: 'Error: Missing authorization header' });

    const forged = await userToken('1h', 'another-secret-that-is-at-least-32-characters');
    const { error } = await client(forged).functions.invoke('echo/x');
    expect(error).toBeInstanceOf(FunctionsHttpError);
    expect((error as FunctionsHttpError).context.status).toBe(401);
    expect(await (error as FunctionsHttpError).context.json()).toEqual({ msg: 'Invalid JWT' });

    const expired = await userToken(Math.floor(Date.now() / 1000) - 60);
    const res = await client(expired).functions.invoke('echo/x');
    expect((res.error as FunctionsHttpError).context.status).toBe(401);
  });

  it('lets CORS preflights through without a token', async () => {
    const res = await routerFetch(`${publicUrl}/functions/v1/echo/x`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).not.toBe(401);
  });

  it('serves verify_jwt = false functions to anyone', async () => {
    const res = await routerFetch(`${publicUrl}/functions/v1/open`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ open: true });
  });

  it("surfaces a function's 4xx as FunctionsHttpError carrying our JSON body", async () => {
    const { data, error } = await client(await userToken()).functions.invoke('echo/teapot', {
      method: 'GET',
    });
    expect(data).toBeNull();
    expect(error).toBeInstanceOf(FunctionsHttpError);
    const response = (error as FunctionsHttpError).context as Response;
    expect(response.status).toBe(418);
    expect(await response.json()).toEqual({
      error: { code: 'teapot', message: 'short and stout' },
    });
  });

  it('answers unknown and disabled functions with 404 in the JSON error shape', async () => {
    for (const name of ['nope', 'disabled', 'n%00pe']) {
      const res = await routerFetch(`${publicUrl}/functions/v1/${name}`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({
        error: { code: 'function_not_found', message: 'Function not found' },
      });
    }
  });

  it('answers a function that fails to boot with 503 BOOT_ERROR, and keeps serving the others', async () => {
    const res = await routerFetch(`${publicUrl}/functions/v1/broken`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: 'BOOT_ERROR' });
    expect(logged).toContain('function broken failed to boot');
    expect((await routerFetch(`${publicUrl}/functions/v1/open`)).status).toBe(200);
  });

  it('keeps waitUntil work running after the response, and drain() waits for it', async () => {
    const res = await client(await userToken()).functions.invoke('echo/later');
    expect(res.error).toBeNull();
    expect(res.data).toEqual({ accepted: true });
    await router.drain();
    const rows = await database.pg.query(`select 1 from public.jobs where kind = 'echo.later'`);
    expect(rows.rows).toHaveLength(1);
  });
});
