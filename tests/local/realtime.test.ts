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
  stack = await startStack({ env: { CHAT_VISITOR_TYPING_PER_MINUTE: '5' } });
  // PGlite is one Postgres session: the wire endpoint serves one connection at a time.
  db = createPostgresDb(stack.dbUrl, { max: 1 });
  w = await createWorld(db);
  // Parley's own topics are receive-only for clients. To exercise the stand-in's handling of
  // private channels that a client may send on, this test project adds such a topic family:
  // every signed-in user receives, only staff (non-anonymous) users send and track.
  await db.asService(async (sql) => {
    await sql.query(`select set_config('role', 'none', true)`);
    await sql.query(`create policy test_rooms_receive on realtime.messages for select to authenticated
      using (realtime.messages.topic = (select realtime.topic())
        and realtime.messages.topic like 'staff-room:%')`);
    await sql.query(`create policy test_rooms_send on realtime.messages for insert to authenticated
      with check (realtime.messages.topic = (select realtime.topic())
        and realtime.messages.topic like 'staff-room:%'
        and (select auth.jwt() ->> 'is_anonymous') = 'false')`);
  });
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
/** A private topic of this test project's own policies: staff send, any signed-in user receives. */
const staffRoom = () => `staff-room:${crypto.randomUUID()}`;
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

  it('delivers a message too large to travel in its notification, in order with small ones', async () => {
    const { client } = await connect('visitorA');
    const channel = client.channel(conversationTopic(), privateConfig);
    const received = collect(channel, 'message_created');
    await subscribed(channel);

    // Over NOTIFY's 8,000 bytes (10,200, with two-byte letters), so the row is read by its id.
    const large = 'Lieferübersicht '.repeat(600).trim();
    await insertMessage('Before.');
    await insertMessage(large);
    await insertMessage('After.');

    await until(() => received.length >= 3, 'three messages');
    expect(received.map((m) => m.payload.content)).toEqual(['Before.', large, 'After.']);
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

  it('relays on a private channel whose policies let the sender write, not to its public twin', async () => {
    const [{ client: agent }, { client: visitor }, { client: outsider }] = await Promise.all([
      connect('agentA'),
      connect('visitorA'),
      connect(),
    ]);
    const topic = staffRoom();
    const sender = agent.channel(topic, {
      config: { private: true, broadcast: { ack: true } },
    });
    const listener = visitor.channel(topic, privateConfig);
    const publicTwin = outsider.channel(topic);
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

  it('lets a private channel’s writers track, with an updated meta on re-track', async () => {
    const [{ client: agent }, { client: admin }] = await Promise.all([
      connect('agentA'),
      connect('adminA'),
    ]);
    const topic = staffRoom();
    const a = agent.channel(topic, {
      config: { private: true, presence: { key: 'agent' } },
    });
    const b = admin.channel(topic, {
      config: { private: true, presence: { key: 'admin' } },
    });
    b.on('presence', { event: 'sync' }, () => {});
    await Promise.all([subscribed(a), subscribed(b)]);

    expect(await a.track({ typing: false })).toBe('ok');
    expect(await a.track({ typing: true })).toBe('ok');
    await until(
      () => b.presenceState<{ typing: boolean }>().agent?.[0]?.typing === true,
      'updated presence',
    );
    expect(b.presenceState().agent).toHaveLength(1);
  });

  it('refuses a track without the INSERT policy, and the others never see it', async () => {
    const [{ client: visitor }, { client: agent }] = await Promise.all([
      connect('visitorA'),
      connect('agentA'),
    ]);
    const topic = staffRoom();
    const v = visitor.channel(topic, { config: { private: true, presence: { key: 'visitor' } } });
    const g = agent.channel(topic, { config: { private: true, presence: { key: 'agent' } } });
    g.on('presence', { event: 'sync' }, () => {});
    await Promise.all([subscribed(v), subscribed(g)]);

    expect(await v.track({ name: 'Support Team' })).toBe('error');
    expect(await g.track({ name: 'Sam' })).toBe('ok');
    await until(() => Object.keys(g.presenceState()).length > 0, 'own presence');
    expect(Object.keys(g.presenceState())).toEqual(['agent']);
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
    const [{ client: old }, { client: current }, { client: visitor }] = await Promise.all([
      connect('adminA', { vsn: '1.0.0' }),
      connect('agentA'),
      connect('visitorA', { vsn: '1.0.0' }),
    ]);
    const topic = staffRoom();
    const v1 = old.channel(topic, { config: { private: true, broadcast: { ack: true } } });
    const v2 = current.channel(topic, { config: { private: true, broadcast: { ack: true } } });
    const fromDatabase = visitor.channel(conversationTopic(), privateConfig);
    const v1Got = collect(v1);
    const v2Got = collect(v2);
    const databaseGot = collect(fromDatabase);
    await Promise.all([subscribed(v1), subscribed(v2), subscribed(fromDatabase)]);

    expect(await v2.send({ type: 'broadcast', event: 'to-v1', payload: { n: 1 } })).toBe('ok');
    expect(await v1.send({ type: 'broadcast', event: 'to-v2', payload: { n: 2 } })).toBe('ok');
    await insertMessage('For both serializers.');
    await until(
      () => databaseGot.some((m) => m.event === 'message_created'),
      'database broadcast on 1.0.0',
    );
    await until(() => v1Got.some((m) => m.event === 'to-v1'), 'broadcast to 1.0.0');
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
    const topic = staffRoom();
    const listener = visitor.channel(topic, privateConfig);
    const received = collect(listener);
    await subscribed(listener);

    const refused = stranger.channel(topic, privateConfig);
    expect(await refused.httpSend('intrusion', { x: 1 })).toEqual({ success: true });
    const allowed = agent.channel(topic, privateConfig);
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
            topic,
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

// --- server topics are receive-only ---------------------------------------------------------------

describe('receive-only server topics', () => {
  const EVENTS = [
    'message_created',
    'message_updated',
    'status_changed',
    'reply_delta',
    'typing',
  ] as const;
  const SENDERS = ['visitorA', 'visitorB', 'agentA', 'ownerB', 'anon'] as const;
  const inboxTopic = () => `tenant:${w.a.tenantId}:inbox`;

  /** What a forger would put in each event to be rendered as the server's or staff's word. */
  const forged = (event: string, by: string, path: string) => ({
    forged: `${by} ${path}`,
    id: crypto.randomUUID(),
    conversation_id: w.a.conversationId,
    role: 'agent',
    content: 'Your refund is approved, enter your card number here.',
    author: { name: 'Support Team', avatar_url: null },
    created_at: new Date().toISOString(),
    status: event === 'status_changed' ? 'resolved' : 'sent',
    text: 'forged partial reply',
    reply_to: crypto.randomUUID(),
    typing: true,
    by: 'agent',
    name: 'Support Team',
  });

  async function sessionOf(actor: (typeof SENDERS)[number]) {
    return actor === 'anon' ? connect() : connect(actor);
  }

  it('no client broadcast of any event reaches the conversation or the inbox, by websocket or REST', async () => {
    // The audience: the conversation's visitor and a member on the conversation, a member on the inbox.
    const [{ client: visitor }, { client: agent }] = await Promise.all([
      connect('visitorA'),
      connect('agentA'),
    ]);
    const onConversation = visitor.channel(conversationTopic(), privateConfig);
    const staffView = agent.channel(conversationTopic(), privateConfig);
    const onInbox = agent.channel(inboxTopic(), privateConfig);
    const got = [collect(onConversation), collect(staffView), collect(onInbox)];
    await Promise.all([subscribed(onConversation), subscribed(staffView), subscribed(onInbox)]);

    const attempts: string[] = [];
    for (const actor of SENDERS) {
      const { client } = await sessionOf(actor);
      for (const topic of [conversationTopic(), inboxTopic()]) {
        // By websocket, wherever the actor may join at all (its own conversation, its inbox).
        const channel = client.channel(topic, {
          config: { private: true, broadcast: { self: true } },
        });
        const statuses = watch(channel);
        await until(() => statuses.length > 0, `join of ${actor} to ${topic}`);
        if (statuses[0]?.status === 'SUBSCRIBED') {
          for (const event of EVENTS) {
            expect(
              await channel.send({ type: 'broadcast', event, payload: forged(event, actor, 'ws') }),
            ).toBe('ok');
            attempts.push(`${actor} ws ${topic} ${event}`);
          }
        }
        await client.removeChannel(channel);

        // By REST: httpSend (one event) and the batch endpoint, private and public twin.
        const rest = client.channel(topic, privateConfig);
        for (const event of EVENTS) {
          await rest.httpSend(event, forged(event, actor, 'httpSend')).catch(() => {});
          const token = (client.realtime as unknown as { accessTokenValue: string | null })
            .accessTokenValue;
          const response = await fetch(`${stack.url}/realtime/v1/api/broadcast`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              apikey: stack.keys.anonKey,
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
            body: JSON.stringify({
              messages: [true, false].map((isPrivate) => ({
                topic,
                event,
                payload: forged(event, actor, 'batch'),
                private: isPrivate,
              })),
            }),
          });
          expect(response.status).toBe(202);
          attempts.push(`${actor} rest ${topic} ${event}`);
        }
      }
    }
    // The visitor and the member could join; the others could not even do that.
    expect(attempts.filter((a) => a.includes(' ws ')).length).toBe(3 * EVENTS.length);

    // The server's own events still arrive, after every forged one was handled.
    await insertMessage('The real reply.');
    await db.asService((sql) =>
      sql.query(`select realtime.send($1::jsonb, 'marker', $2, true)`, [{ n: 1 }, inboxTopic()]),
    );
    for (const received of got.slice(0, 2)) {
      await until(
        () => received.some((m) => m.payload.content === 'The real reply.'),
        'the real reply',
      );
    }
    await until(() => got[2]?.some((m) => m.event === 'marker') === true, 'the inbox marker');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const received of got) {
      expect(received.filter((m) => 'forged' in m.payload)).toEqual([]);
    }
  }, 60_000);

  it('no client can track presence on the conversation or the inbox', async () => {
    const { client: watcher } = await connect('agentA');
    const watched = watcher.channel(conversationTopic(), {
      config: { private: true, presence: { key: 'watcher' } },
    });
    const inbox = watcher.channel(inboxTopic(), {
      config: { private: true, presence: { key: 'watcher' } },
    });
    watched.on('presence', { event: 'sync' }, () => {});
    inbox.on('presence', { event: 'sync' }, () => {});
    await Promise.all([subscribed(watched), subscribed(inbox)]);

    for (const actor of ['visitorA', 'agentA', 'adminA'] as const) {
      const { client } = await connect(actor);
      const topics =
        actor === 'visitorA' ? [conversationTopic()] : [conversationTopic(), inboxTopic()];
      for (const topic of topics) {
        const channel = client.channel(topic, {
          config: { private: true, presence: { key: actor } },
        });
        await subscribed(channel);
        expect(
          await channel.track({ name: 'Support Team', role: 'agent' }),
          `${actor} ${topic}`,
        ).toBe('error');
      }
    }
    expect(await watched.track({ name: 'Sam' })).toBe('error');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watched.presenceState()).toEqual({});
    expect(inbox.presenceState()).toEqual({});
  });

  const typing = (actor: Actor, body: unknown) =>
    mint(w.claims[actor]).then((token) =>
      fetch(`${stack.url}/functions/v1/chat/typing`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          apikey: stack.keys.anonKey,
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(body),
      }),
    );

  it('a visitor’s typing reaches staff through the chat function, stamped with the verified role', async () => {
    const { client: agent } = await connect('agentA');
    const channel = agent.channel(conversationTopic(), privateConfig);
    // The world's seeded visitor message may get its bot reply meanwhile, stamped by: 'bot': only
    // what is not the bot's can have come from these requests.
    const all = collect(channel, 'typing');
    const notBot = () => all.filter((m) => m.payload.by !== 'bot');
    await subscribed(channel);

    const response = await typing('visitorA', {
      conversation_id: w.a.conversationId,
      typing: true,
      by: 'agent',
      name: 'Support Team',
    });
    expect(response.status).toBe(202);
    await until(() => notBot().length > 0, 'typing');
    // realtime.send may add an id of its own; everything else is what the server stamped.
    const { id: _id, ...stamped } = notBot()[0]?.payload ?? {};
    expect(stamped).toEqual({
      conversation_id: w.a.conversationId,
      typing: true,
      by: 'visitor',
    });

    // Not on someone else's conversation, and not with a staff token posing as a visitor.
    const other = await typing('visitorB', { conversation_id: w.a.conversationId, typing: true });
    expect(other.status).toBe(404);
    const staff = await typing('agentA', { conversation_id: w.a.conversationId, typing: true });
    expect(staff.status).toBe(403);
    expect(await staff.json()).toEqual({
      error: { code: 'visitor_session_required', message: expect.any(String) },
    });
    const malformed = await typing('visitorA', {
      conversation_id: w.a.conversationId,
      typing: 'yes',
    });
    expect(malformed.status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Exactly the one accepted request's event: none of the refused ones broadcast anything.
    expect(notBot()).toHaveLength(1);
  });

  it('rate-limits typing per visitor', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const response = await typing('visitorB', {
        conversation_id: w.conversationOfVisitorB,
        typing: i % 2 === 0,
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });
});
