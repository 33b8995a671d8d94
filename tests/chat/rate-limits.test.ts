import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';

// The chat function's rate limits: a sliding window (never twice the limit around a minute
// boundary), refused requests not counted, idempotent re-sends answered before any limit, and a
// per-tenant cap on new conversations that fresh anonymous users cannot get around. Time is moved
// by ageing the recorded slices of a window, never by sleeping.

const MESSAGES_PER_MINUTE = 4;
const CONVERSATIONS_PER_MINUTE = 3;

let h: ChatHarness;

beforeAll(async () => {
  h = await startChatHarness({
    CHAT_VISITOR_MESSAGES_PER_MINUTE: String(MESSAGES_PER_MINUTE),
    CHAT_TENANT_CONVERSATIONS_PER_MINUTE: String(CONVERSATIONS_PER_MINUTE),
  });
}, 120_000);
afterAll(() => h?.close());

async function conversationWith(tenant: TestTenant) {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
  expect(session.status).toBe(201);
  return { visitor, conversationId: session.body.conversation.id as string };
}

const send = (visitor: Visitor, conversationId: string, clientMsgId: string) =>
  visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: clientMsgId,
    content: `Message ${clientMsgId}`,
  });

/** Requests counted in the window of a key, whatever their age. */
async function counted(key: string): Promise<number> {
  const [row] = await h.db.asService((sql) =>
    sql.query<{ n: number }>(
      'select coalesce(sum(hits), 0)::int as n from public.rate_limits where key = $1',
      [key],
    ),
  );
  return row?.n ?? -1;
}

/** As if every request counted for the key had been made this many seconds earlier. */
async function age(key: string, seconds: number) {
  await h.db.asService((sql) =>
    sql.query(
      `update public.rate_limits set window_start = window_start - make_interval(secs => $2)
        where key = $1`,
      [key, seconds],
    ),
  );
}

describe('messages per visitor', () => {
  it('never lets more than the limit through in any minute, across a minute boundary too', async () => {
    const tenant = await createTenant(h);
    const { visitor, conversationId } = await conversationWith(tenant);
    const key = `messages:visitor:${visitor.userId}`;
    for (let i = 0; i < MESSAGES_PER_MINUTE; i++) {
      expect((await send(visitor, conversationId, `a${i}`)).status).toBe(202);
    }
    const refused = await send(visitor, conversationId, 'over');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');

    // The burst now lies most of a minute back, as if sent just before a minute boundary: a
    // fixed per-minute window would start afresh here.
    await age(key, 45);
    expect((await send(visitor, conversationId, 'boundary')).status).toBe(429);
    // A minute after the burst, its requests have left the window.
    await age(key, 16);
    expect((await send(visitor, conversationId, 'later')).status).toBe(202);
    await visitor.close();
  });

  it('does not count refused requests, against any of the limits the request was under', async () => {
    const tenant = await createTenant(h);
    const { visitor, conversationId } = await conversationWith(tenant);
    const statuses: number[] = [];
    for (let i = 0; i < MESSAGES_PER_MINUTE + 3; i++) {
      statuses.push((await send(visitor, conversationId, `b${i}`)).status);
    }
    expect(statuses).toEqual([...Array(MESSAGES_PER_MINUTE).fill(202), ...Array(3).fill(429)]);
    expect(await counted(`messages:visitor:${visitor.userId}`)).toBe(MESSAGES_PER_MINUTE);
    expect(await counted(`messages:tenant:${tenant.id}`)).toBe(MESSAGES_PER_MINUTE);
    // Retrying while refused does not push the way back in further out.
    await age(`messages:visitor:${visitor.userId}`, 61);
    expect((await send(visitor, conversationId, 'back')).status).toBe(202);
    await visitor.close();
  });

  it('answers a re-send of a stored message with that message, also at the limit', async () => {
    const tenant = await createTenant(h);
    const { visitor, conversationId } = await conversationWith(tenant);
    const first = await send(visitor, conversationId, 'c0');
    expect(first.status).toBe(202);
    for (let i = 1; i < MESSAGES_PER_MINUTE; i++) {
      expect((await send(visitor, conversationId, `c${i}`)).status).toBe(202);
    }
    expect((await send(visitor, conversationId, 'c-new')).status).toBe(429);

    const again = await send(visitor, conversationId, 'c0');
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ duplicate: true, message: { id: first.body.message.id } });
    expect(await counted(`messages:visitor:${visitor.userId}`)).toBe(MESSAGES_PER_MINUTE);
    await visitor.close();
  });
});

describe('new conversations per tenant', () => {
  it('caps how many conversations fresh visitors start per minute; returning visitors are not counted', async () => {
    const tenant = await createTenant(h);
    const visitors: Visitor[] = [];
    for (let i = 0; i < CONVERSATIONS_PER_MINUTE; i++) {
      visitors.push((await conversationWith(tenant)).visitor);
    }
    // Yet another brand-new anonymous user: its own per-visitor allowance is untouched.
    const stranger = await Visitor.signIn(h);
    const refused = await stranger.call('sessions', { key: tenant.key });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');

    // A visitor coming back to its open conversation starts nothing.
    const back = await visitors[0]?.call('sessions', { key: tenant.key });
    expect(back?.status).toBe(200);
    // Other tenants are not affected.
    const other = await createTenant(h);
    expect((await stranger.call('sessions', { key: other.key })).status).toBe(201);
    expect(await counted(`sessions:tenant:${tenant.id}`)).toBe(CONVERSATIONS_PER_MINUTE);

    await age(`sessions:tenant:${tenant.id}`, 61);
    expect((await stranger.call('sessions', { key: tenant.key })).status).toBe(201);
    for (const visitor of [...visitors, stranger]) await visitor.close();
  });
});
