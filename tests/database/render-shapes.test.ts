import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// What staff, n8n and the reply engine write for the widget to render has the widget's shape, or
// is refused where it is written (23514): a message's sources and quick replies, the bot's
// greeting, quick starts and pre-chat form. One malformed value used to break the view of every
// conversation that showed it.

let local: LocalDatabase;
let db: Db;
let w: World;

class Rollback extends Error {}

/** null when the statement went through, else its error code; always rolled back. */
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

const reply = (column: 'sources' | 'quick_replies', value: unknown) =>
  attempt(
    'service',
    `insert into public.messages (conversation_id, tenant_id, role, content, ${column})
     values ($1, $2, 'assistant', 'An answer.', $3::jsonb)`,
    [w.a.conversationId, w.a.tenantId, value],
  );

const botConfig = (actor: Actor | 'service', config: unknown) =>
  attempt(actor, 'update public.tenants set bot_config = $2::jsonb where id = $1', [
    w.a.tenantId,
    config,
  ]);

beforeAll(async () => {
  local = await openLocalDatabase({ seed: true, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

describe('messages.sources', () => {
  it.each([
    [
      'what retrieval writes',
      [
        {
          document_id: crypto.randomUUID(),
          title: 'Returns',
          url: 'https://x.example/r',
          score: 0.8,
        },
      ],
    ],
    ['a title alone', [{ title: 'Returns' }]],
    ['no url', [{ title: 'Returns', url: null }]],
    ['none', []],
  ])('accepts %s', async (_, sources) => {
    expect(await reply('sources', sources)).toBeNull();
  });

  it.each([
    ['a title that is a list', [{ title: ['Returns'], url: 'https://x.example' }]],
    ['a url that is an object', [{ title: 'Returns', url: { href: 'https://x.example' } }]],
    ['a string instead of a source', ['Returns']],
    ['an object instead of a list', { title: 'Returns' }],
    ['a title of 501 characters', [{ title: 'x'.repeat(501) }]],
    ['21 sources', Array.from({ length: 21 }, (_, i) => ({ title: `T${i}` }))],
  ])('refuses %s', async (_, sources) => {
    expect(await reply('sources', sources)).toBe('23514');
  });
});

describe('messages.quick_replies', () => {
  it('accepts short strings', async () => {
    expect(await reply('quick_replies', ['Track my order', 'Talk to a person'])).toBeNull();
  });

  it.each([
    ['a number', ['Yes', 2]],
    ['an object', [{ label: 'Yes' }]],
    ['an empty string', ['']],
    ['a string of 201 characters', ['x'.repeat(201)]],
    ['11 of them', Array.from({ length: 11 }, (_, i) => `Option ${i}`)],
  ])('refuses %s', async (_, quickReplies) => {
    expect(await reply('quick_replies', quickReplies)).toBe('23514');
  });
});

describe('tenants.bot_config', () => {
  const good = {
    name: 'Trailhead Assistant',
    greeting: { en: 'Hi!', he: 'שלום!' },
    quick_starts: { en: ['Where is my order?'] },
    color: '#2f6f4f',
    position: 'left',
    system_prompt: 'Be kind.',
    guardrails: ['Offer a human when unsure.'],
    prechat_form: {
      enabled: true,
      fields: [
        { name: 'name', label: 'Your name', type: 'text', required: true },
        { name: 'email', label: { en: 'Email', he: 'דוא"ל' }, type: 'email' },
        { name: 'order' },
      ],
    },
  };

  it('accepts the settings the widget knows, as an admin saves them', async () => {
    expect(await botConfig('adminA', good)).toBeNull();
    expect(await botConfig('service', { greeting: 'Hello', quick_starts: ['Hi'] })).toBeNull();
    expect(await botConfig('service', {})).toBeNull();
  });

  it.each([
    ['a greeting that is a number', { greeting: 42 }],
    ['a greeting that is a list', { greeting: ['Hi'] }],
    ['a greeting in a language given as a list', { greeting: { en: ['Hi'] } }],
    ['quick starts that are a string', { quick_starts: 'Where is my order?' }],
    ['quick starts holding an object', { quick_starts: { en: [{ text: 'Hi' }] } }],
    ['a pre-chat form that is a list', { prechat_form: [] }],
    ['pre-chat fields that are an object', { prechat_form: { fields: { name: 'x' } } }],
    ['a pre-chat field without a name', { prechat_form: { fields: [{ label: 'Name' }] } }],
    [
      'a pre-chat field of an unknown type',
      { prechat_form: { fields: [{ name: 'pin', type: 'password' }] } },
    ],
    [
      'a pre-chat label that is a list',
      { prechat_form: { fields: [{ name: 'n', label: ['a'] }] } },
    ],
    ['"enabled" as a string', { prechat_form: { enabled: 'yes', fields: [] } }],
    ['a position in the middle', { position: 'center' }],
    ['a name that is an object', { name: { en: 'Bot' } }],
    ['a list instead of settings', []],
  ])('refuses %s, from an admin and from the service', async (_, config) => {
    const saved = Array.isArray(config) ? config : { ...good, ...config };
    expect(await botConfig('adminA', saved)).toBe('23514');
    expect(await botConfig('service', saved)).toBe('23514');
  });
});
