import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { createWorld, type World } from '../support/world.ts';

// Staff replies with buttons and cards (post_agent_message's p_rich): stored with the message,
// broadcast to the visitor, and refused in words (22023) when the shape or a link does not fit or
// when the message is an internal note. Nothing is written by a refused call.

let local: LocalDatabase;
let db: Db;
let w: World;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const CARD = {
  cards: [
    {
      title: 'Hiking boots',
      text: 'Waterproof',
      image_url: 'https://cdn.example/boots.jpg',
      buttons: [{ label: 'Buy', url: 'https://shop.example/boots' }],
    },
  ],
  buttons: [{ label: 'Other sizes', payload: 'Which sizes are there?' }],
};

async function newConversation() {
  return db.asService(async (sql) => {
    const [c] = await sql.query<{ id: string }>(
      `insert into public.conversations (tenant_id, visitor_id, status) values ($1, $2, 'handoff') returning id`,
      [w.a.tenantId, w.users.visitorA],
    );
    return c?.id as string;
  });
}

const post = (args: unknown[]) =>
  db.asUser(w.claims.agentA, (sql) =>
    sql.query<{ id: string; rich: unknown }>(
      'select * from public.post_agent_message($1, $2, $3, $4, $5::jsonb)',
      args,
    ),
  );

async function refusal(args: unknown[]) {
  try {
    await post(args);
  } catch (error) {
    return {
      code: (error as { code?: string }).code,
      message: (error as Error).message,
    };
  }
  return null;
}

describe('staff replies with buttons and cards', () => {
  it('a reply carries its card and buttons to the visitor', async () => {
    const id = await newConversation();
    const [message] = await post([id, 'Here they are', false, 'r-1', CARD]);
    expect(message?.rich).toEqual(CARD);
    const seen = await db.asUser(w.claims.visitorA, (sql) =>
      sql.query<{ rich: unknown }>(
        `select rich from public.messages where conversation_id = $1 and role = 'agent'`,
        [id],
      ),
    );
    expect(seen).toEqual([{ rich: CARD }]);
    const [event] = await db.asService((sql) =>
      sql.query<{ payload: { rich: unknown } }>(
        `select payload from realtime.messages where topic = $1 and event = 'message_created'
          order by inserted_at desc, id desc limit 1`,
        [`conversation:${id}`],
      ),
    );
    expect(event?.payload.rich).toEqual(CARD);
  });

  it('an empty rich part is stored as none', async () => {
    const id = await newConversation();
    const [message] = await post([id, 'Plain', false, null, {}]);
    expect(message?.rich).toBeNull();
  });

  it.each([
    ['a script link', { buttons: [{ label: 'x', url: 'javascript:alert(1)' }] }],
    ['a data picture', { cards: [{ title: 'x', image_url: 'data:text/html,<script>1</script>' }] }],
    ['a button with both', { buttons: [{ label: 'x', url: 'https://a.example', payload: 'p' }] }],
    ['an unknown key', { html: '<img src=x onerror=alert(1)>' }],
    ['a card without a title', { cards: [{ text: 'no title' }] }],
    ['six buttons', { buttons: Array(6).fill({ label: 'x', payload: 'p' }) }],
    ['a list', [{ buttons: [] }]],
  ])('%s is refused in words and nothing is written', async (_name, bad) => {
    const id = await newConversation();
    const refused = await refusal([id, 'Hello', false, null, bad]);
    expect(refused?.code).toBe('22023');
    expect(refused?.message).toContain('buttons and cards');
    const [row] = await db.asService((sql) =>
      sql.query<{ n: number }>(
        'select count(*)::int as n from public.messages where conversation_id = $1',
        [id],
      ),
    );
    expect(row?.n).toBe(0);
  });

  it('an internal note has no buttons or cards', async () => {
    const id = await newConversation();
    const refused = await refusal([id, 'Note', true, null, CARD]);
    expect(refused).toMatchObject({ code: '22023' });
    expect(refused?.message).toContain('internal note');
  });

  it('a visitor still cannot post as staff', async () => {
    const id = await newConversation();
    await expect(
      db.asUser(w.claims.visitorA, (sql) =>
        sql.query('select * from public.post_agent_message($1, $2, false, null, $3::jsonb)', [
          id,
          'Hi',
          CARD,
        ]),
      ),
    ).rejects.toMatchObject({ code: '42501' });
  });
});
