import {
  createClient,
  type RealtimeChannel,
  type RealtimeChannelOptions,
  type SupabaseClient,
} from '@supabase/supabase-js';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { Db, JwtClaims } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { type StackProcess, startStack } from '../support/stack.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The local Realtime stand-in, driven by the official client exactly as the widget and the admin
// SPA drive Supabase Realtime: private topics authorized by the project's RLS policies, database
// broadcasts from the triggers, client broadcasts, presence, token refresh, REST sends, both
// serializer versions.

let stack: StackProcess;
let db: Db;
let w: World;

beforeAll(async () => {
  stack = await startStack();
  // PGlite is one Postgres session: the wire endpoint serves one connection at a time.
  db = createPostgresDb(stack.dbUrl, { max: 1 });
  w = await createWorld(db);
});

afterAll(async () => {
  await stack?.stop();
  await db?.close();
});

const clients: SupabaseClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.removeAllChannels()));
});

// --- helpers -----------------------------------------------------------------------------------

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An access token as Supabase Auth would issue it for these claims. */
function mint(claims: JwtClaims, exp = nowSeconds() + 3600) {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(stack.keys.jwtSecret));
}

interface Session {
  client: SupabaseClient;
  /** What the client's accessToken callback answers: change it, then call setAuth(). */
  auth: { token: string | null };
}

/**
 * A supabase-js client signed in as `actor` (anonymous when omitted). The token is handed over
 * through the `accessToken` option, as a custom auth setup would: supabase-js consults that
 * callback after every join, and without it a token given only to realtime.setAuth(token) is
 * replaced by the anon key, which the next rejoin (after a reconnect) would then use.
 */
async function connect(actor?: Actor, options: { vsn?: '1.0.0' | '2.0.0'; exp?: number } = {}) {
  const auth = { token: actor ? await mint(w.claims[actor], options.exp) : null };
  const client = createClient(stack.url, stack.keys.anonKey, {
    auth: { autoRefreshToken: false, persistSession: false },
    realtime: { transport: WebSocket as never, ...(options.vsn ? { vsn: options.vsn } : {}) },
    ...(auth.token ? { accessToken: async () => auth.token } : {}),
  });
  clients.push(client);
  if (auth.token) await client.realtime.setAuth(auth.token);
  return { client, auth } satisfies Session;
}

async function until(condition: () => boolean, what = 'condition', timeoutMs = 8_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Status = { status: string; error?: Error };

/** Subscribes and records every status the callback reports. */
function watch(channel: RealtimeChannel) {
  const statuses: Status[] = [];
  channel.subscribe((status, error) => statuses.push({ status, ...(error ? { error } : {}) }));
  return statuses;
}

async function subscribed(channel: RealtimeChannel) {
  const statuses = watch(channel);
  await until(() => statuses.length > 0, `first status of ${channel.topic}`);
  expect(statuses[0]).toEqual({ status: 'SUBSCRIBED' });
  return statuses;
}

type Received = { type: string; event: string; payload: Record<string, unknown>; meta?: unknown };

function collect(channel: RealtimeChannel, event = '*') {
  const received: Received[] = [];
  channel.on('broadcast', { event }, (message) => received.push(message as Received));
  return received;
}

const privateConfig: RealtimeChannelOptions = { config: { private: true } };
const room = () => `room:${crypto.randomUUID()}`;
const conversationTopic = () => `conversation:${w.a.conversationId}`;

const insertMessage = (content: string, extra: { isPrivate?: boolean } = {}) =>
  db.asService((sql) =>
    sql.query(
      `insert into public.messages (conversation_id, tenant_id, role, content, is_private)
       values ($1, $2, $3, $4, $5) returning id`,
      [
        w.a.conversationId,
        w.a.tenantId,
        extra.isPrivate ? 'agent' : 'assistant',
        content,
        !!extra.isPrivate,
      ],
    ),
  );

// --- private topics fed by the database ---------------------------------------------------------

describe('private topics', () => {
  it('delivers message_created to the conversation’s visitor, never its private notes', async () => {
    const { client } = await connect('visitorA');
    const channel = client.channel(conversationTopic(), privateConfig);
    const received = collect(channel, 'message_created');
    await subscribed(channel);

    await insertMessage('A staff-only note', { isPrivate: true });
    const [row] = await insertMessage('Your order has shipped.');

    await until(() => received.length > 0, 'message_created');
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      type: 'broadcast',
      event: 'message_created',
      payload: {
        id: (row as { id: string }).id,
        conversation_id: w.a.conversationId,
        role: 'assistant',
        content: 'Your order has shipped.',
      },
      meta: { id: expect.any(String) },
    });
  });

  it('refuses another visitor, and anonymous callers, with Realtime’s reason', async () => {
    for (const actor of ['visitorB', undefined] as const) {
      const { client } = await connect(actor);
      const statuses = watch(client.channel(conversationTopic(), privateConfig));
      await until(() => statuses.length > 0, 'join reply');
      expect(statuses[0]?.status).toBe('CHANNEL_ERROR');
      expect(statuses[0]?.error?.message).toBe(
        `Unauthorized: You do not have permissions to read from this Channel topic: ${conversationTopic()}`,
      );
    }
    // The policy probes of every join were rolled back.
    const [leftover] = await db.asService((sql) =>
      sql.query<{ count: number }>(
        'select count(*)::int as count from realtime.messages where event is null',
      ),
    );
    expect(leftover?.count).toBe(0);
  });

  it('delivers inbox events to a tenant member: conversation_created, handoff', async () => {
    const { client } = await connect('agentA');
    const channel = client.channel(`tenant:${w.a.tenantId}:inbox`, privateConfig);
    const received = collect(channel);
    await subscribed(channel);

    const [conversation] = await db.asService((sql) =>
      sql.query<{ id: string }>(
        `insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id`,
        [w.a.tenantId, w.users.visitorA],
      ),
    );
    await db.asService((sql) =>
      sql.query(`update public.conversations set status = 'handoff' where id = $1`, [
        conversation?.id,
      ]),
    );

    await until(() => received.some((m) => m.event === 'handoff'), 'handoff');
    const created = received.find((m) => m.event === 'conversation_created');
    expect(created?.payload).toMatchObject({
      id: conversation?.id,
      tenant_id: w.a.tenantId,
      status: 'bot',
    });
    expect(received.find((m) => m.event === 'handoff')?.payload).toMatchObject({
      id: conversation?.id,
      status: 'handoff',
    });
  });

  it('answers a postgres_changes join with an error: the local stack only broadcasts', async () => {
    const { client } = await connect('visitorA');
    const channel = client
      .channel(room())
      .on('postgres_changes', { event: '*', schema: 'public', table: 'messages' }, () => {});
    const statuses = watch(channel);
    await until(() => statuses.length > 0, 'join reply');
    expect(statuses[0]?.status).toBe('CHANNEL_ERROR');
    expect(statuses[0]?.error?.message).toContain(
      'postgres_changes are not provided by the local stack',
    );
  });
});

// --- client broadcasts ---------------------------------------------------------------------------

describe('client broadcasts', () => {
  it('relays on a public channel and acknowledges when asked', async () => {
    const [{ client: a }, { client: b }] = await Promise.all([connect(), connect()]);
    const name = room();
    const sender = a.channel(name, { config: { broadcast: { ack: true } } });
    const listener = b.channel(name);
    const received = collect(listener, 'hello');
    await Promise.all([subscribed(sender), subscribed(listener)]);

    expect(
      await sender.send({ type: 'broadcast', event: 'hello', payload: { text: 'grüße 👋' } }),
    ).toBe('ok');
    await until(() => received.length > 0, 'hello');
    expect(received[0]).toEqual({
      type: 'broadcast',
      event: 'hello',
      payload: { text: 'grüße 👋' },
    });
  });

  it('relays on a private channel between its visitor and an agent, not to its public twin', async () => {
    const [{ client: visitor }, { client: agent }, { client: outsider }] = await Promise.all([
      connect('visitorA'),
      connect('agentA'),
      connect(),
    ]);
    const sender = visitor.channel(conversationTopic(), {
      config: { private: true, broadcast: { ack: true } },
    });
    const listener = agent.channel(conversationTopic(), privateConfig);
    const publicTwin = outsider.channel(conversationTopic());
    const received = collect(listener, 'typing');
    const leaked = collect(publicTwin);
    await Promise.all([subscribed(sender), subscribed(listener), subscribed(publicTwin)]);

    expect(await sender.send({ type: 'broadcast', event: 'typing', payload: { on: true } })).toBe(
      'ok',
    );
    await until(() => received.length > 0, 'typing');
    expect(received[0]?.payload).toEqual({ on: true });
    expect(leaked).toEqual([]);
  });

  it('carries raw bytes, from send() and from httpSend(), to 2.0.0 clients', async () => {
    const [{ client: a }, { client: b }] = await Promise.all([connect(), connect()]);
    const name = room();
    const sender = a.channel(name, { config: { broadcast: { ack: true } } });
    const listener = b.channel(name);
    const received = collect(listener);
    await Promise.all([subscribed(sender), subscribed(listener)]);

    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    expect(await sender.send({ type: 'broadcast', event: 'frame', payload: bytes.buffer })).toBe(
      'ok',
    );
    expect(await sender.httpSend('upload', new Uint8Array([9, 8, 7]))).toEqual({ success: true });

    await until(() => received.length === 2, 'both binary broadcasts');
    expect(received.map((m) => m.event)).toEqual(['frame', 'upload']);
    expect([...new Uint8Array(received[0]?.payload as unknown as ArrayBuffer)]).toEqual([...bytes]);
    expect([...new Uint8Array(received[1]?.payload as unknown as ArrayBuffer)]).toEqual([9, 8, 7]);
  });

  it('leaves the sender out unless it asked for self', async () => {
    const [{ client: a }, { client: b }] = await Promise.all([connect(), connect()]);
    const name = room();
    const quiet = a.channel(name, { config: { broadcast: { ack: true, self: false } } });
    const echo = b.channel(name, { config: { broadcast: { ack: true, self: true } } });
    const quietGot = collect(quiet);
    const echoGot = collect(echo);
    await Promise.all([subscribed(quiet), subscribed(echo)]);

    // An ack is sent after the fan-out, so a self delivery would already be here.
    expect(await quiet.send({ type: 'broadcast', event: 'from-quiet', payload: {} })).toBe('ok');
    expect(await echo.send({ type: 'broadcast', event: 'from-echo', payload: {} })).toBe('ok');
    await until(() => echoGot.length === 2 && quietGot.length === 1, 'both deliveries');
    expect(quietGot.map((m) => m.event)).toEqual(['from-echo']);
    expect(echoGot.map((m) => m.event)).toEqual(['from-quiet', 'from-echo']);
  });
});

// --- presence ------------------------------------------------------------------------------------

describe('presence', () => {
  it('syncs tracked clients, gives late joiners the state, and reports leaves', async () => {
    const [{ client: a }, { client: b }, { client: c }] = await Promise.all([
      connect(),
      connect(),
      connect(),
    ]);
    const name = room();
    const alice = a.channel(name, { config: { presence: { key: 'alice' } } });
    const bob = b.channel(name, { config: { presence: { key: 'bob' } } });
    const leaves: string[] = [];
    alice.on('presence', { event: 'leave' }, ({ key }) => leaves.push(key));
    bob.on('presence', { event: 'sync' }, () => {});
    await Promise.all([subscribed(alice), subscribed(bob)]);

    expect(await alice.track({ name: 'Alice' })).toBe('ok');
    expect(await bob.track({ name: 'Bob' })).toBe('ok');
    const keys = (channel: RealtimeChannel) => Object.keys(channel.presenceState()).sort();
    await until(() => keys(alice).length === 2 && keys(bob).length === 2, 'presence sync');
    expect(alice.presenceState().bob?.[0]).toMatchObject({
      name: 'Bob',
      presence_ref: expect.any(String),
    });

    const carol = c.channel(name, { config: { presence: { key: 'carol' } } });
    carol.on('presence', { event: 'sync' }, () => {});
    await subscribed(carol);
    await until(() => keys(carol).join() === 'alice,bob', 'presence_state for a late joiner');

    await b.removeChannel(bob);
    await until(() => leaves.includes('bob'), 'leave of bob');
    expect(keys(alice)).toEqual(['alice']);
    await until(() => keys(carol).join() === 'alice', 'leave seen by carol');

    // A socket that goes away takes its presences with it.
    expect(await carol.track({ name: 'Carol' })).toBe('ok');
    await until(() => keys(alice).join() === 'alice,carol', 'carol tracked');
    await c.realtime.disconnect();
    await until(() => leaves.includes('carol'), 'leave of carol');
    expect(keys(alice)).toEqual(['alice']);
  });

  it('lets a private channel’s audience track, with an updated meta on re-track', async () => {
    const [{ client: visitor }, { client: agent }] = await Promise.all([
      connect('visitorA'),
      connect('agentA'),
    ]);
    const v = visitor.channel(conversationTopic(), {
      config: { private: true, presence: { key: 'visitor' } },
    });
    const g = agent.channel(conversationTopic(), {
      config: { private: true, presence: { key: 'agent' } },
    });
    g.on('presence', { event: 'sync' }, () => {});
    await Promise.all([subscribed(v), subscribed(g)]);

    expect(await v.track({ typing: false })).toBe('ok');
    expect(await v.track({ typing: true })).toBe('ok');
    await until(
      () => g.presenceState<{ typing: boolean }>().visitor?.[0]?.typing === true,
      'updated presence',
    );
    expect(g.presenceState().visitor).toHaveLength(1);
  });
});

// --- connection life -----------------------------------------------------------------------------

describe('connection', () => {
  it('rejoins after a dropped socket and keeps receiving', async () => {
    const { client } = await connect('visitorA');
    const channel = client.channel(conversationTopic(), privateConfig);
    const received = collect(channel, 'message_created');
    const statuses = await subscribed(channel);

    const phoenix = (
      client.realtime as unknown as { socketAdapter: { getSocket(): { conn: WebSocket } } }
    ).socketAdapter.getSocket();
    phoenix.conn.terminate();
    await until(() => statuses.some((s) => s.status === 'CHANNEL_ERROR'), 'the drop');
    await until(() => statuses.filter((s) => s.status === 'SUBSCRIBED').length === 2, 'the rejoin');

    await insertMessage('Back online.');
    await until(
      () => received.some((m) => m.payload.content === 'Back online.'),
      'delivery after rejoin',
    );
  });

  it('closes a channel whose refreshed token belongs to a user without access', async () => {
    const { client, auth } = await connect('visitorA');
    const channel = client.channel(conversationTopic(), privateConfig);
    const system: unknown[] = [];
    channel.on('system', {}, (message) => system.push(message));
    const statuses = await subscribed(channel);

    // Another token of the same user is fine.
    auth.token = await mint(w.claims.visitorA, nowSeconds() + 7200);
    await client.realtime.setAuth();
    auth.token = await mint(w.claims.visitorB);
    await client.realtime.setAuth();

    await until(() => statuses.some((s) => s.status === 'CLOSED'), 'channel closed');
    expect(system).toEqual([
      {
        extension: 'system',
        status: 'error',
        message: `You do not have permissions to read from this Channel topic: ${conversationTopic()}`,
        channel: conversationTopic(),
      },
    ]);
  });

  it('closes a channel when its token expires', async () => {
    const { client } = await connect('agentA', { exp: nowSeconds() + 2 });
    const channel = client.channel(`tenant:${w.a.tenantId}:inbox`, privateConfig);
    const system: { message?: string }[] = [];
    channel.on('system', {}, (message) => system.push(message));
    const statuses = await subscribed(channel);

    await until(() => statuses.some((s) => s.status === 'CLOSED'), 'expiry', 6_000);
    expect(system[0]?.message).toMatch(/^Token has expired \d+ seconds ago$/);
  });

  it('speaks the 1.0.0 serializer to a client that asks for it', async () => {
    const [{ client: old }, { client: current }] = await Promise.all([
      connect('visitorA', { vsn: '1.0.0' }),
      connect('agentA'),
    ]);
    const v1 = old.channel(conversationTopic(), {
      config: { private: true, broadcast: { ack: true } },
    });
    const v2 = current.channel(conversationTopic(), {
      config: { private: true, broadcast: { ack: true } },
    });
    const v1Got = collect(v1);
    const v2Got = collect(v2);
    await Promise.all([subscribed(v1), subscribed(v2)]);

    expect(await v2.send({ type: 'broadcast', event: 'to-v1', payload: { n: 1 } })).toBe('ok');
    expect(await v1.send({ type: 'broadcast', event: 'to-v2', payload: { n: 2 } })).toBe('ok');
    await insertMessage('For both serializers.');
    await until(
      () => v1Got.some((m) => m.event === 'message_created'),
      'database broadcast on 1.0.0',
    );
    expect(v1Got.find((m) => m.event === 'to-v1')?.payload).toEqual({ n: 1 });
    await until(() => v2Got.some((m) => m.event === 'to-v2'), 'broadcast from 1.0.0');
  });

  it('answers heartbeats and refuses a socket whose apikey does not verify', async () => {
    const base = `${stack.url.replace('http', 'ws')}/realtime/v1/websocket`;
    const good = new WebSocket(`${base}?apikey=${stack.keys.anonKey}&vsn=2.0.0`);
    const reply = await new Promise<unknown>((resolve, reject) => {
      good.once('open', () => good.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}])));
      good.once('message', (data) => resolve(JSON.parse(String(data))));
      good.once('error', reject);
    });
    good.close();
    expect(reply).toEqual([null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);

    const forged = await mint({ role: 'anon' }).then((t) => `${t.slice(0, -4)}AAAA`);
    const bad = new WebSocket(`${base}?apikey=${forged}&vsn=2.0.0`);
    const code = await new Promise<number>((resolve) => bad.once('close', (c) => resolve(c)));
    expect(code).toBe(1008);
  });
});

// --- REST broadcasts -----------------------------------------------------------------------------

describe('REST broadcast', () => {
  it('httpSend answers 202 and reaches private subscribers only with write access', async () => {
    const [{ client: visitor }, { client: agent }, { client: stranger }] = await Promise.all([
      connect('visitorA'),
      connect('agentA'),
      connect('visitorB'),
    ]);
    const listener = visitor.channel(conversationTopic(), privateConfig);
    const received = collect(listener);
    await subscribed(listener);

    const refused = stranger.channel(conversationTopic(), privateConfig);
    expect(await refused.httpSend('intrusion', { x: 1 })).toEqual({ success: true });
    const allowed = agent.channel(conversationTopic(), privateConfig);
    expect(await allowed.httpSend('agent_typing', { typing: true })).toEqual({ success: true });

    // The service role bypasses the policies, as it does on Supabase.
    const service = await fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        apikey: stack.keys.anonKey,
        authorization: `Bearer ${stack.keys.serviceRoleKey}`,
      },
      body: JSON.stringify({
        messages: [
          {
            topic: conversationTopic(),
            event: 'from_service',
            payload: { ok: true },
            private: true,
          },
        ],
      }),
    });
    expect(service.status).toBe(202);

    await until(() => received.length === 2, 'agent_typing and from_service');
    expect(received).toEqual([
      { type: 'broadcast', event: 'agent_typing', payload: { typing: true } },
      { type: 'broadcast', event: 'from_service', payload: { ok: true } },
    ]);
  });

  it('serves the batch endpoint (the send() fallback) on public channels, and CORS preflight', async () => {
    const [{ client: a }, { client: b }] = await Promise.all([connect(), connect()]);
    const name = room();
    const listener = b.channel(name);
    const received = collect(listener, 'ping');
    await subscribed(listener);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      expect(
        await a.channel(name).send({ type: 'broadcast', event: 'ping', payload: { n: 1 } }),
      ).toBe('ok');
    } finally {
      warn.mockRestore();
    }
    await until(() => received.length > 0, 'ping');
    expect(received[0]?.payload).toEqual({ n: 1 });

    const preflight = await fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-headers': 'apikey, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');

    const unauthenticated = await fetch(`${stack.url}/realtime/v1/api/broadcast`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', apikey: 'not-a-key' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(unauthenticated.status).toBe(401);
  });
});
