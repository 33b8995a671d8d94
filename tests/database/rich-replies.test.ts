import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// messages.rich (buttons and cards) is rendered by every visitor's widget: the database refuses
// what the widget could not render safely (23514), whoever writes it, and refuses it outright on a
// visitor's own message (42501), so a visitor cannot dress its words up as the tenant's.

let local: LocalDatabase;
let db: Db;
let w: World;

class Rollback extends Error {}

async function attempt(actor: Actor | 'service', text: string, params: unknown[]) {
  let outcome: string | null = 'no outcome';
  const run = async (sql: Sql) => {
    try {
      await sql.query(text, params);
      outcome = null;
    } catch (error) {
      outcome = (error as { code?: string }).code ?? 'error';
    }
    throw new Rollback();
  };
  try {
    if (actor === 'service') await db.asService(run);
    else await db.asUser(w.claims[actor], run);
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return outcome;
}

const botReply = (rich: unknown) =>
  attempt(
    'service',
    `insert into public.messages (conversation_id, tenant_id, role, content, rich)
     values ($1, $2, 'assistant', 'An answer.', $3::jsonb)`,
    [w.a.conversationId, w.a.tenantId, rich],
  );

beforeAll(async () => {
  local = await openLocalDatabase({ seed: true, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const GOOD = {
  buttons: [
    { label: 'Track my order', url: 'https://shop.example/track' },
    { label: 'Returns', payload: 'How do returns work?' },
  ],
  cards: [
    {
      title: 'Blue mug',
      text: '12 oz, dishwasher safe',
      image_url: 'https://cdn.example/mug.png',
      buttons: [{ label: 'Buy', url: 'http://shop.example/mug' }],
    },
    { title: 'Only a title' },
  ],
};

describe('messages.rich', () => {
  it('takes buttons and cards in the widget shape', async () => {
    expect(await botReply(GOOD)).toBeNull();
    expect(await botReply({ cards: [] })).toBeNull();
  });

  it.each([
    ['a javascript: link', { buttons: [{ label: 'x', url: 'javascript:alert(1)' }] }],
    ['a data: image', { cards: [{ title: 't', image_url: 'data:image/png;base64,AAAA' }] }],
    ['a url with a space', { buttons: [{ label: 'x', url: 'https://a b' }] }],
    ['both url and payload', { buttons: [{ label: 'x', url: 'https://a.example', payload: 'p' }] }],
    ['neither url nor payload', { buttons: [{ label: 'x' }] }],
    ['an empty label', { buttons: [{ label: '', payload: 'p' }] }],
    ['a label that is a list', { buttons: [{ label: ['x'], payload: 'p' }] }],
    ['a card without a title', { cards: [{ text: 'no title' }] }],
    ['a card text that is a number', { cards: [{ title: 't', text: 5 }] }],
    ['too many buttons', { buttons: Array(6).fill({ label: 'x', payload: 'p' }) }],
    [
      'four buttons on a card',
      { cards: [{ title: 't', buttons: Array(4).fill({ label: 'x', payload: 'p' }) }] },
    ],
    ['an unknown part', { html: '<b>x</b>' }],
    ['a list', [GOOD]],
    ['a string', 'buttons'],
  ])('refuses %s', async (_what, rich) => {
    expect(await botReply(rich)).toBe('23514');
  });

  it('lets staff add buttons to an agent message, checked the same way', async () => {
    const insert = (rich: unknown) =>
      attempt(
        'agentA',
        `insert into public.messages (conversation_id, tenant_id, role, content, author_id, rich)
         values ($1, $2, 'agent', 'Here you go', $3, $4::jsonb)`,
        [w.a.conversationId, w.a.tenantId, w.users.agentA, rich],
      );
    expect(await insert(GOOD)).toBeNull();
    expect(await insert({ buttons: [{ label: 'x', url: 'javascript:alert(1)' }] })).toBe('23514');
  });

  it('keeps buttons off a visitor message', async () => {
    const insert = (rich: unknown) =>
      attempt(
        'visitorA',
        `insert into public.messages (conversation_id, tenant_id, role, content, rich)
         values ($1, $2, 'user', 'Hello', $3::jsonb)`,
        [w.a.conversationId, w.a.tenantId, rich],
      );
    expect(await insert(null)).toBeNull();
    expect(await insert(GOOD)).toBe('42501');
  });

  it('is in the realtime payload the widget receives', async () => {
    // The payload is built by the broadcast trigger as the database owner, as here.
    const { rows } = await local.pg.query<{ payload: Record<string, unknown> }>(
      `with m as (
         insert into public.messages (conversation_id, tenant_id, role, content, rich)
         values ($1, $2, 'assistant', 'An answer.', $3::jsonb) returning *)
       select private.message_event_payload(m) as payload from m`,
      [w.a.conversationId, w.a.tenantId, JSON.stringify(GOOD)],
    );
    expect(rows[0]?.payload.rich).toEqual(GOOD);
    expect(rows[0]?.payload.content).toBe('An answer.');
    expect(rows[0]?.payload).not.toHaveProperty('cost_usd');
  });
});
