import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaff } from '../support/admin.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  runWorker,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';
import { userClaims } from '../support/world.ts';

// The live-chat parts of the chat function: handoff triggers with their reasons, the away notice
// and the follow-up email outside business hours, and read receipts both ways, with what a
// visitor must not be able to do with them.

let h: ChatHarness;
let shop: TestTenant;

const SHIPPING =
  '# Shipping\n\nStandard shipping takes 3 to 5 business days. Express shipping takes 1 to 2 business days.';

beforeAll(async () => {
  h = await startChatHarness();
  shop = await createTenant(h, {
    llm: null,
    documents: [{ title: 'Shipping', content: SHIPPING }],
  });
  await h.db.asService((sql) =>
    sql.query(`update public.tenants set handoff_rules = $2::jsonb where id = $1`, [
      shop.id,
      {
        keywords: { en: ['refund', 'speak to a manager'], he: ['החזר כספי'] },
        low_confidence: 0.5,
        repeated_question: true,
      },
    ]),
  );
  await runWorker(h);
}, 180_000);
afterAll(() => h?.close());

async function conversationWith(tenant: TestTenant, locale = 'en') {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenant.key, locale });
  expect(session.status).toBe(201);
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  return { visitor, conversationId };
}

const send = (visitor: Visitor, conversationId: string, content: string) =>
  visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: crypto.randomUUID(),
    content,
  });

async function conversationRow(id: string) {
  const [row] = await h.db.asService((sql) =>
    sql.query<{
      status: string;
      handoff_reason: string | null;
      handoff_detail: string | null;
      followup_email: string | null;
      followup_requested_at: Date | null;
    }>(
      `select status, handoff_reason, handoff_detail, followup_email, followup_requested_at
         from public.conversations where id = $1`,
      [id],
    ),
  );
  return row;
}

const handedOff = (visitor: Visitor) =>
  visitor.waitFor((e) => e.event === 'status_changed' && e.payload.status === 'handoff', 30_000);

describe('handoff triggers', () => {
  it("a tenant keyword in the visitor's language hands over before the bot answers", async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    expect((await send(visitor, conversationId, 'I want a Refund for my boots')).status).toBe(202);
    await handedOff(visitor);
    const reply = await visitor.waitFor(isReply, 30_000);
    expect(reply.payload.content).toContain('connecting you with a person');
    expect(await conversationRow(conversationId)).toMatchObject({
      status: 'handoff',
      handoff_reason: 'keyword',
      handoff_detail: 'refund',
    });
    await visitor.close();
  }, 60_000);

  it("another language's keyword does not count, and a word containing it neither", async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'How long does standard shipping take? Is it refundable?');
    await visitor.waitFor(isReply, 30_000);
    expect((await conversationRow(conversationId))?.status).toBe('bot');
    await visitor.close();
  }, 60_000);

  it('low retrieval confidence hands over with the confidence recorded', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'Do you repair broken tent poles?');
    await handedOff(visitor);
    const row = await conversationRow(conversationId);
    expect(row?.handoff_reason).toBe('low_confidence');
    expect(row?.handoff_detail).toMatch(/^confidence 0\.\d\d < 0\.5$/);
    await visitor.close();
  }, 60_000);

  it('the same question asked twice hands over the second time', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    await send(visitor, conversationId, 'How long does standard shipping take?');
    await visitor.waitFor(isReply, 30_000);
    expect((await conversationRow(conversationId))?.status).toBe('bot');
    await send(visitor, conversationId, 'how long does standard shipping take');
    await handedOff(visitor);
    expect((await conversationRow(conversationId))?.handoff_reason).toBe('repeated_question');
    await visitor.close();
  }, 60_000);

  it('the visitor asking records the reason they gave', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    const res = await visitor.call('handoff', { conversation_id: conversationId, reason: 'chip' });
    expect(res.body.conversation.status).toBe('handoff');
    expect(await conversationRow(conversationId)).toMatchObject({
      handoff_reason: 'visitor',
      handoff_detail: 'chip',
      followup_requested_at: null,
    });
    await visitor.close();
  }, 60_000);
});

describe('business hours', () => {
  it('outside hours the visitor is told when people are back and the typed email is kept', async () => {
    const closed = await createTenant(h, { llm: null });
    // Open every day but today, all day, in UTC: back at midnight.
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const today = new Date().getUTCDay();
    const hours = Object.fromEntries(
      days.filter((_, i) => i !== today).map((d) => [d, [['00:00', '24:00']]]),
    );
    await h.db.asService((sql) =>
      sql.query(
        `update public.tenants set business_hours = $2::jsonb, time_zone = 'UTC' where id = $1`,
        [closed.id, hours],
      ),
    );
    const { visitor, conversationId } = await conversationWith(closed);
    await visitor.call('handoff', { conversation_id: conversationId });
    const notice = await visitor.waitFor(
      (e) => isReply(e) && String(e.payload.content).includes('away'),
      30_000,
    );
    const tomorrow = new Intl.DateTimeFormat('en', { weekday: 'long', timeZone: 'UTC' }).format(
      new Date(Date.now() + 86_400_000),
    );
    expect(notice.payload.content).toContain(`back ${tomorrow}`);
    expect((await conversationRow(conversationId))?.followup_requested_at).toBeInstanceOf(Date);

    expect((await send(visitor, conversationId, ' Pat@Example.com ')).status).toBe(202);
    await visitor.waitFor(
      (e) => isReply(e) && String(e.payload.content).includes('pat@example.com'),
      30_000,
    );
    expect((await conversationRow(conversationId))?.followup_email).toBe('pat@example.com');
    // Typed again and again: each message is taken, the address only within the limit (3 a minute).
    for (const n of [2, 3, 4]) {
      expect((await send(visitor, conversationId, `pat${n}@example.com`)).status).toBe(202);
    }
    expect((await conversationRow(conversationId))?.followup_email).toBe('pat3@example.com');
    // Staff are told with a note the visitor never reads.
    const history = await visitor.call(`messages?conversation_id=${conversationId}`);
    expect(
      history.body.messages.some((m: { content: string }) => m.content.includes('follow-up')),
    ).toBe(false);
    await visitor.close();
  }, 90_000);

  it('a people-only tenant outside hours: the first message hands over with the away notice', async () => {
    const closed = await createTenant(h, { llm: null });
    await h.db.asService((sql) =>
      sql.query(
        `update public.tenants set bot_engine = 'human', business_hours = '{"holidays": []}' where id = $1`,
        [closed.id],
      ),
    );
    const { visitor, conversationId } = await conversationWith(closed);
    await send(visitor, conversationId, 'Hello?');
    await handedOff(visitor);
    const notice = await visitor.waitFor(isReply, 30_000);
    expect(notice.payload.content).toContain('Leave your email address');
    expect(await conversationRow(conversationId)).toMatchObject({
      handoff_reason: 'people_only',
      followup_requested_at: expect.any(Date),
    });
    await visitor.close();
  }, 60_000);

  it('during hours the handoff says a person will join, and an email typed then is just a message', async () => {
    const open = await createTenant(h, { llm: null });
    const { visitor, conversationId } = await conversationWith(open);
    await visitor.call('handoff', { conversation_id: conversationId });
    await send(visitor, conversationId, 'me@example.com');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await conversationRow(conversationId)).toMatchObject({
      followup_requested_at: null,
      followup_email: null,
    });
    await visitor.close();
  }, 60_000);

  it('POST /chat/email validates, stays within the visitor, and is rate limited', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    const other = await Visitor.signIn(h);
    expect(
      (await visitor.call('email', { conversation_id: conversationId, email: 'nope' })).status,
    ).toBe(400);
    expect(
      (await other.call('email', { conversation_id: conversationId, email: 'x@example.com' }))
        .status,
    ).toBe(404);
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (
          await visitor.call('email', {
            conversation_id: conversationId,
            email: `v${i}@example.com`,
          })
        ).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await conversationRow(conversationId))?.followup_email).toBe('v2@example.com');
    await visitor.close();
  }, 60_000);
});

describe('read receipts', () => {
  it('staff reading reaches the visitor; the visitor reading reaches staff', async () => {
    const { visitor, conversationId } = await conversationWith(shop);
    await visitor.call('handoff', { conversation_id: conversationId });
    await send(visitor, conversationId, 'Are you there?');
    const agent = await createStaff(h, shop, 'agent', 'Rita');
    await h.db.asUser(userClaims(agent.id), (sql) =>
      sql.query('select public.mark_conversation_read($1)', [conversationId]),
    );
    const seen = await visitor.waitFor((e) => e.event === 'read' && e.payload.by === 'agent');
    const history = await visitor.call(`messages?conversation_id=${conversationId}`);
    expect(Date.parse(history.body.conversation.staff_read_at)).toBe(
      Date.parse(String(seen.payload.read_at)),
    );

    const [reply] = await h.db.asUser(userClaims(agent.id), (sql) =>
      sql.query<{ id: string; created_at: Date }>(
        `select id, created_at from public.post_agent_message($1, 'Yes, I am here.')`,
        [conversationId],
      ),
    );
    const read = await visitor.call('read', {
      conversation_id: conversationId,
      message_id: reply?.id,
    });
    expect(read.status).toBe(200);
    expect(new Date(read.body.read_at).getTime()).toBe(reply?.created_at.getTime());
    const event = await visitor.waitFor((e) => e.event === 'read' && e.payload.by === 'visitor');
    expect(Date.parse(String(event.payload.read_at))).toBe(Date.parse(read.body.read_at));
    await visitor.close();
  }, 90_000);

  it('a visitor cannot mark another conversation read, nor its own message, nor forge a time', async () => {
    const a = await conversationWith(shop);
    const b = await conversationWith(shop);
    const agent = await createStaff(h, shop, 'agent', 'Sam');
    const [staffMessage] = await h.db.asUser(userClaims(agent.id), (sql) =>
      sql.query<{ id: string }>(`select id from public.post_agent_message($1, 'Hello A')`, [
        a.conversationId,
      ]),
    );
    const [note] = await h.db.asUser(userClaims(agent.id), (sql) =>
      sql.query<{ id: string }>(`select id from public.post_agent_message($1, 'note', true)`, [
        a.conversationId,
      ]),
    );
    const own = await send(a.visitor, a.conversationId, 'mine');
    // B names A's conversation and message; B names A's message under its own conversation.
    for (const body of [
      { conversation_id: a.conversationId, message_id: staffMessage?.id },
      { conversation_id: b.conversationId, message_id: staffMessage?.id },
    ]) {
      expect((await b.visitor.call('read', body)).status).toBe(404);
    }
    // A's own message and a private note are nothing to mark read.
    for (const id of [own.body.message.id, note?.id]) {
      expect(
        (await a.visitor.call('read', { conversation_id: a.conversationId, message_id: id }))
          .status,
      ).toBe(404);
    }
    // There is no way to say when: an extra field is ignored, a bad id is refused.
    const forged = await a.visitor.call('read', {
      conversation_id: a.conversationId,
      message_id: staffMessage?.id,
      read_at: '2099-01-01T00:00:00Z',
    });
    expect(new Date(forged.body.read_at).getFullYear()).toBeLessThan(2099);
    expect(
      (await a.visitor.call('read', { conversation_id: a.conversationId, message_id: 'x' })).status,
    ).toBe(400);
    await a.visitor.close();
    await b.visitor.close();
  }, 90_000);
});
