import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The launcher options and proactive greeting rules in bot_config are read by every visitor's
// loader: what the loader could not apply is refused where it is written (23514), and only the
// tenant's owners and admins may change them at all.

let local: LocalDatabase;
let db: Db;
let w: World;

class Rollback extends Error {}

async function attempt(actor: Actor | 'service', config: unknown) {
  let outcome: string | null = 'no outcome';
  const run = async (sql: Sql) => {
    try {
      const rows = await sql.query(
        'update public.tenants set bot_config = bot_config || $2::jsonb where id = $1 returning id',
        [w.a.tenantId, config],
      );
      outcome = rows.length ? null : 'no row';
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

beforeAll(async () => {
  local = await openLocalDatabase({ seed: true, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const GOOD = {
  launcher: { icon: 'help', label: { en: 'Questions?', he: 'שאלות?' }, offset_x: 0, offset_y: 200 },
  proactive: [
    { trigger: 'time', seconds: 30, message: 'Need a hand?', times: 2, every_days: 7 },
    { trigger: 'url', pattern: '*/pricing*', message: { en: 'Questions about plans?' } },
    { trigger: 'scroll', percent: 80, message: 'Still looking?' },
    { trigger: 'exit', message: 'Before you go…' },
    { trigger: 'returning', message: 'Welcome back!' },
  ],
};

describe('bot_config.launcher and bot_config.proactive', () => {
  it('an admin saves them in the loader’s shape', async () => {
    expect(await attempt('adminA', GOOD)).toBeNull();
    expect(await attempt('ownerA', { launcher: null, proactive: [] })).toBeNull();
  });

  it('an agent or another tenant’s admin cannot change them', async () => {
    expect(await attempt('agentA', GOOD)).not.toBeNull();
    expect(await attempt('ownerB', GOOD)).not.toBeNull();
    expect(await attempt('visitorA', GOOD)).not.toBeNull();
  });

  it.each([
    ['an icon outside the set', { launcher: { icon: 'skull' } }],
    ['a label that is too long', { launcher: { label: 'x'.repeat(41) } }],
    ['a label that is a list', { launcher: { label: ['Hi'] } }],
    ['an offset off the screen', { launcher: { offset_x: 5000 } }],
    ['an offset that is text', { launcher: { offset_y: '20px' } }],
    ['an unknown launcher option', { launcher: { html: '<b>x</b>' } }],
    ['an unknown trigger', { proactive: [{ trigger: 'hover', message: 'Hi' }] }],
    ['a rule without a message', { proactive: [{ trigger: 'time' }] }],
    ['a url rule without a pattern', { proactive: [{ trigger: 'url', message: 'Hi' }] }],
    ['a message that is too long', { proactive: [{ trigger: 'exit', message: 'x'.repeat(301) }] }],
    ['a cap of zero', { proactive: [{ trigger: 'exit', message: 'Hi', times: 0 }] }],
    ['eleven rules', { proactive: Array(11).fill({ trigger: 'exit', message: 'Hi' }) }],
    ['rules that are not a list', { proactive: { trigger: 'exit', message: 'Hi' } }],
  ])('refuses %s', async (_what, config) => {
    expect(await attempt('adminA', config)).toBe('23514');
  });
});
