import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import type { JobRunner } from '../../functions/_shared/jobs/runner.ts';
import { createChatApp } from '../../functions/chat/app.ts';
import { chatLimits } from '../../functions/chat/limits.ts';
import { createCallbackApp } from '../../functions/n8n-callback/app.ts';
import { createWorkerApp } from '../../functions/worker/app.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// Malformed input is the caller's to fix: a 400 in the error shape, never a 500. U+0000 (which
// Postgres stores in neither text nor jsonb) is refused anywhere in a request, once, by the input
// guard every function mounts; a page URL is http(s) only; a staff account's token is not a
// visitor session; the worker runs only on a body it understood. The apps run in-process on the
// real schema, so a value that slipped through would fail in Postgres as it did before.

let local: LocalDatabase;
let db: Db;
let w: World;
let widgetKey: string;
const drains: unknown[] = [];
const logged: unknown[] = [];
const log = (message: string, error?: unknown) => logged.push([message, error]);

const runner = {
  drain: async (options: unknown) => {
    drains.push(options);
    return { processed: 0, succeeded: 0, failed: 0 };
  },
} as unknown as JobRunner;

let chat: ReturnType<typeof createChatApp>;
let worker: ReturnType<typeof createWorkerApp>;
let callback: ReturnType<typeof createCallbackApp>;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  const [tenant] = await db.asService((sql) =>
    sql.query<{ widget_key: string }>('select widget_key from public.tenants where id = $1', [
      w.a.tenantId,
    ]),
  );
  widgetKey = tenant?.widget_key as string;
  chat = createChatApp({
    db,
    // The token is the actor's name: these tests are about what follows verification.
    verifier: { verify: async (token) => w.claims[token as Actor] ?? null },
    runner,
    waitUntil: () => {},
    limits: chatLimits({}),
    log,
  });
  worker = createWorkerApp({ runner, isService: async (token) => token === 'service', log });
  callback = createCallbackApp({ db, now: () => Date.now(), log });
}, 120_000);

afterAll(async () => {
  await local?.close();
});

async function post(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  path: string,
  body: unknown,
  token = 'visitorA',
) {
  const response = await app.request(path, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      origin: 'https://shop.example',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const NUL = 'a\u0000b';

describe('U+0000 anywhere in a request is a 400', () => {
  const cases: [string, string, (w: World) => unknown][] = [
    ['chat key', '/chat/sessions', () => ({ key: `pk_${NUL}` })],
    [
      'page_url',
      '/chat/sessions',
      () => ({ key: widgetKey, page_url: `https://shop.example/${NUL}` }),
    ],
    [
      'a pre-chat field',
      '/chat/sessions',
      () => ({ key: widgetKey, new_conversation: true, prechat: { fields: { order: NUL } } }),
    ],
    [
      'a pre-chat field name',
      '/chat/sessions',
      () => ({ key: widgetKey, new_conversation: true, prechat: { fields: { [NUL]: 'x' } } }),
    ],
    [
      'the identity',
      '/chat/sessions',
      () => ({ key: widgetKey, visitor: { identifier: NUL, identityHash: 'x' } }),
    ],
    [
      'an identity attribute',
      '/chat/sessions',
      () => ({ key: widgetKey, visitor: { identifier: 'u1', attributes: { plan: NUL } } }),
    ],
    [
      'message content',
      '/chat/messages',
      (w) => ({ conversation_id: w.a.conversationId, client_msg_id: 'm1', content: NUL }),
    ],
    [
      'client_msg_id',
      '/chat/messages',
      (w) => ({ conversation_id: w.a.conversationId, client_msg_id: NUL, content: 'hi' }),
    ],
    [
      'feedback comment',
      '/chat/feedback',
      (w) => ({ conversation_id: w.a.conversationId, csat: 5, comment: NUL }),
    ],
    [
      'handoff reason',
      '/chat/handoff',
      (w) => ({ conversation_id: w.a.conversationId, reason: NUL }),
    ],
  ];
  for (const [what, path, body] of cases) {
    it(what, async () => {
      const res = await post(chat, path, body(w));
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: { code: 'invalid_request', message: expect.stringContaining('U+0000') },
      });
    });
  }

  it('in the query string', async () => {
    const res = await chat.request(`/chat/config?key=pk_a%00b`);
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_request');
  });

  it('the worker body', async () => {
    const res = await post(worker, '/worker', { kinds: [NUL] }, 'service');
    expect(res.status).toBe(400);
    expect(drains).toEqual([]);
  });

  it('a callback reply, before anything else is looked at', async () => {
    const res = await post(callback, '/n8n-callback', {
      conversation_id: w.a.conversationId,
      reply: NUL,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'invalid_request' });
  });

  it('but the escaped text "\\u0000" is just text', async () => {
    const res = await post(chat, '/chat/handoff', {
      conversation_id: w.a.conversationId,
      reason: 'typed \\u0000',
    });
    expect(res.status).toBe(200);
  });

  it('nothing reached Postgres, so nothing was logged', () => {
    expect(logged).toEqual([]);
  });
});

describe('other malformed input', () => {
  it('a page_url that is not http(s)', async () => {
    for (const page_url of ['javascript:alert(1)', 'data:text/html,hi', 'file:///etc/passwd']) {
      const res = await post(chat, '/chat/sessions', { key: widgetKey, page_url });
      expect(res.status, page_url).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_request' });
    }
    expect(
      (
        await post(chat, '/chat/sessions', {
          key: widgetKey,
          page_url: 'https://shop.example/p?q=1',
        })
      ).status,
    ).toBeLessThan(300);
  });

  it("a staff member's token on the visitor API", async () => {
    for (const actor of ['agentA', 'ownerA', 'platformAdmin'] as const) {
      const res = await post(
        chat,
        '/chat/messages',
        { conversation_id: w.a.conversationId, client_msg_id: `staff-${actor}`, content: 'hi' },
        actor,
      );
      expect(res.status, actor).toBe(403);
      expect(res.body.error, actor).toMatchObject({ code: 'visitor_session_required' });
    }
  });

  it('a worker body that is not JSON, or not an object', async () => {
    for (const body of ['{not json', '[]', 'null', '"go"']) {
      const res = await post(worker, '/worker', body, 'service');
      expect(res.status, body).toBe(400);
    }
    expect(drains).toEqual([]);
    // An empty body still means "defaults", as pg_cron's call and a bare curl send.
    expect((await post(worker, '/worker', '', 'service')).status).toBe(200);
    expect(drains).toHaveLength(1);
  });
});
