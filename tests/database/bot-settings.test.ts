import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type Actor, createWorld, type World } from '../support/world.ts';

// The bot settings as the admin's settings page writes them, run as PostgREST runs statements:
// owners and admins save settings that break no rule and are told in words which rule a bad one
// breaks; agents, other tenants and visitors change nothing; secrets are written, rotated and
// shown once, and never read back by anyone, platform admins included.

let local: LocalDatabase;
let db: Db;
let w: World;

class Rollback extends Error {}

interface Outcome<T> {
  rows?: T[];
  code?: string;
  message?: string;
}

/** Runs one statement as the actor; rolled back unless `keep`. */
async function run<T = Record<string, unknown>>(
  actor: Actor | 'service',
  text: string,
  params: unknown[] = [],
  keep = false,
): Promise<Outcome<T>> {
  let outcome: Outcome<T> = {};
  const body = async (sql: Sql) => {
    try {
      outcome = { rows: await sql.query<T>(text, params) };
    } catch (error) {
      const e = error as { code?: string; message?: string };
      outcome = { code: e.code ?? 'error', message: e.message ?? '' };
    }
    if (!keep) throw new Rollback();
  };
  try {
    if (actor === 'service') await db.asService(body);
    else await db.asUser(w.claims[actor], body);
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  return outcome;
}

const secrets = (tenantId: string) =>
  db.asService(async (sql) => {
    const [row] = await sql.query<{
      identity_secret: string;
      n8n_secret: string;
      n8n_previous_secret: string | null;
      llm_api_key: string | null;
    }>(
      'select identity_secret, n8n_secret, n8n_previous_secret, llm_api_key from public.tenant_secrets where tenant_id = $1',
      [tenantId],
    );
    if (!row) throw new Error('no secrets row');
    return row;
  });

beforeAll(async () => {
  local = await openLocalDatabase({ seed: true, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
}, 60_000);

afterAll(async () => {
  await local?.close();
});

const update = (column: string) =>
  `update public.tenants set ${column} = $2 where id = $1 returning id`;

describe('saving settings', () => {
  it('an owner or admin saves persona, engine, look, per-locale words, form and origins', async () => {
    const settings = {
      name: 'Helper',
      system_prompt: 'You help hikers.',
      guardrails: ['Never promise refunds.'],
      tone: 'professional',
      locale: 'he',
      greeting: { en: 'Hi!', he: 'שלום!' },
      quick_starts: { en: ['Where is my order?'], he: ['איפה ההזמנה?'] },
      color: '#123abc',
      position: 'left',
      prechat_form: {
        enabled: true,
        fields: [{ name: 'order_number', label: { en: 'Order', he: 'הזמנה' }, required: true }],
      },
    };
    for (const actor of ['ownerA', 'adminA'] as const) {
      expect((await run(actor, update('bot_config'), [w.a.tenantId, settings])).rows).toHaveLength(
        1,
      );
      expect((await run(actor, update('bot_engine'), [w.a.tenantId, 'human'])).rows).toHaveLength(
        1,
      );
      expect(
        (
          await run(actor, update('allowed_origins'), [
            w.a.tenantId,
            ['https://shop.example', 'https://*.shop.example', 'http://localhost:*'],
          ])
        ).rows,
      ).toHaveLength(1);
      expect(
        (
          await run(actor, update('llm_config'), [
            w.a.tenantId,
            { provider: 'anthropic', model: 'claude-x', temperature: 0.3 },
          ])
        ).rows,
      ).toHaveLength(1);
    }
  });

  it.each([
    ['bot_config', { color: 'red' }, 'hex color'],
    ['bot_config', { locale: 'English' }, 'language code'],
    ['bot_config', { tone: 'grumpy' }, 'tone must be'],
    ['bot_config', { system_prompt: 'x'.repeat(4001) }, 'persona'],
    ['bot_config', { guardrails: ['ok', ''] }, 'Guardrails'],
    ['bot_config', { avatar_url: 'javascript:alert(1)' }, 'https address'],
    ['bot_config', { greeting: { English: 'Hi' } }, 'language codes'],
    [
      'bot_config',
      { prechat_form: { enabled: true, fields: [{ name: 'a' }, { name: 'a' }] } },
      'same name',
    ],
    ['bot_config', { prechat_form: { fields: [{ name: '1st' }] } }, 'letter followed'],
    ['llm_config', { provider: 'acme' }, 'provider'],
    ['llm_config', { temperature: 3 }, 'temperature'],
    ['allowed_origins', ['https://shop.example/path'], 'not an origin'],
    ['allowed_origins', ['shop.example'], 'not an origin'],
    ['bot_engine', 'robot', 'tenants_bot_engine_check'],
  ])('refuses a bad %s (case %#), saying why', async (column, value, words) => {
    const outcome = await run('ownerA', update(column), [w.a.tenantId, value]);
    expect(outcome.code).toBe('23514');
    expect(outcome.message).toContain(words);
  });

  it('refuses more than 50 allowed origins', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `https://s${i}.example`);
    const outcome = await run('ownerA', update('allowed_origins'), [w.a.tenantId, many]);
    expect(outcome).toMatchObject({ code: '23514', message: 'At most 50 allowed origins.' });
  });

  it('an agent, another tenant, a visitor and anon change no setting', async () => {
    for (const actor of ['agentA', 'ownerB', 'visitorA'] as const) {
      for (const [column, value] of [
        ['bot_config', { greeting: 'Hacked' }],
        ['bot_engine', 'human'],
        ['allowed_origins', ['https://evil.example']],
        ['enforce_identity', true],
      ] as const) {
        const outcome = await run(actor, update(column), [w.a.tenantId, value]);
        expect(outcome.rows ?? []).toEqual([]);
      }
    }
    // Not even the column: the public key and the model settings are written by functions only.
    expect(
      (await run('ownerA', update('widget_key'), [w.a.tenantId, 'pk_chosen_by_me'])).code,
    ).toBe('42501');
    expect((await run('anon', update('bot_engine'), [w.a.tenantId, 'human'])).code).toBe('42501');
  });

  it('an agent reads the tenant but not its model settings', async () => {
    expect(
      (
        await run(
          'agentA',
          'select llm_config from public.tenant_connections where tenant_id = $1',
          [w.a.tenantId],
        )
      ).rows,
    ).toEqual([]);
  });
});

describe('secrets', () => {
  it('nobody reads or writes tenant_secrets through the API, platform admins included', async () => {
    for (const actor of [
      'ownerA',
      'adminA',
      'agentA',
      'platformAdmin',
      'visitorA',
      'anon',
    ] as const) {
      expect(
        (
          await run(actor, 'select llm_api_key from public.tenant_secrets where tenant_id = $1', [
            w.a.tenantId,
          ])
        ).code,
      ).toBe('42501');
      expect(
        (
          await run(
            actor,
            'select identity_secret from public.tenant_secrets where tenant_id = $1',
            [w.a.tenantId],
          )
        ).code,
      ).toBe('42501');
      expect(
        (
          await run(
            actor,
            `update public.tenant_secrets set llm_api_key = 'x' where tenant_id = $1`,
            [w.a.tenantId],
          )
        ).code,
      ).toBe('42501');
    }
  });

  it('the model key is written, reported as set, and never comes back', async () => {
    const key = `sk-test-${crypto.randomUUID()}`;
    const set = await run<{ set_llm_api_key: boolean }>(
      'adminA',
      'select public.set_llm_api_key($1, $2)',
      [w.a.tenantId, key],
      true,
    );
    expect(set.rows).toEqual([{ set_llm_api_key: true }]);
    expect((await secrets(w.a.tenantId)).llm_api_key).toBe(key);
    const status = await run<Record<string, unknown>>(
      'ownerA',
      'select * from public.bot_secrets_status($1)',
      [w.a.tenantId],
    );
    expect(status.rows?.[0]).toMatchObject({ llm_api_key_set: true });
    expect(JSON.stringify(status.rows)).not.toContain(key);
    // The platform admin sees "set", not the key.
    const operator = await run('platformAdmin', 'select * from public.bot_secrets_status($1)', [
      w.a.tenantId,
    ]);
    expect(operator.rows?.[0]).toMatchObject({ llm_api_key_set: true });
    expect(JSON.stringify(operator.rows)).not.toContain(key);
    // Nowhere an API role can read: the tenant row and its connection view.
    for (const text of [
      'select to_jsonb(t) as row from public.tenant_connections t where tenant_id = $1',
      'select c.llm_config, t.bot_config, t.widget_key from public.tenant_connections c join public.tenants t on t.id = c.tenant_id where t.id = $1',
    ]) {
      const read = await run('ownerA', text, [w.a.tenantId]);
      expect(read.rows).toHaveLength(1);
      expect(JSON.stringify(read.rows)).not.toContain(key);
    }
    // Cleared with an empty string.
    await run('ownerA', 'select public.set_llm_api_key($1, $2)', [w.a.tenantId, ''], true);
    expect((await secrets(w.a.tenantId)).llm_api_key).toBeNull();
  });

  it('refuses a key with spaces or too short, in words', async () => {
    const outcome = await run('ownerA', 'select public.set_llm_api_key($1, $2)', [
      w.a.tenantId,
      'sk bad',
    ]);
    expect(outcome).toMatchObject({ code: '22023', message: expect.stringContaining('API key') });
  });

  it('owners and admins rotate the identity and n8n secrets and the widget key, shown once', async () => {
    const before = await secrets(w.a.tenantId);
    const identity = await run<{ s: string }>(
      'ownerA',
      'select public.rotate_identity_secret($1) as s',
      [w.a.tenantId],
      true,
    );
    const fresh = identity.rows?.[0]?.s ?? '';
    expect(fresh).toMatch(/^[0-9a-f]{64}$/);
    expect(fresh).not.toBe(before.identity_secret);
    expect((await secrets(w.a.tenantId)).identity_secret).toBe(fresh);

    const n8n = await run<{ s: string }>(
      'adminA',
      'select public.rotate_n8n_secret($1) as s',
      [w.a.tenantId],
      true,
    );
    const after = await secrets(w.a.tenantId);
    expect(n8n.rows?.[0]?.s).toMatch(/^whsec_/);
    expect(after.n8n_secret).toBe(n8n.rows?.[0]?.s);
    expect(after.n8n_previous_secret).toBe(before.n8n_secret);

    const key = await run<{ k: string }>(
      'ownerA',
      'select public.rotate_widget_key($1) as k',
      [w.a.tenantId],
      true,
    );
    const widgetKey = key.rows?.[0]?.k ?? '';
    expect(widgetKey).toMatch(/^pk_[0-9a-f]{32}$/);
    const seen = await run<{ widget_key: string }>(
      'agentA',
      'select widget_key from public.tenants where id = $1',
      [w.a.tenantId],
    );
    expect(seen.rows).toEqual([{ widget_key: widgetKey }]);
  });

  it.each([['agentA'], ['ownerB'], ['visitorA'], ['platformAdmin']] as const)(
    '%s rotates, sets and reads nothing of tenant A',
    async (actor) => {
      const before = await secrets(w.a.tenantId);
      for (const text of [
        'select public.rotate_identity_secret($1)',
        'select public.rotate_n8n_secret($1)',
        'select public.rotate_widget_key($1)',
        `select public.set_llm_api_key($1, 'sk-someone-elses-key')`,
      ]) {
        expect((await run(actor, text, [w.a.tenantId], true)).code).toBe('42501');
      }
      if (actor !== 'platformAdmin') {
        expect(
          (await run(actor, 'select * from public.bot_secrets_status($1)', [w.a.tenantId])).code,
        ).toBe('42501');
      }
      expect(await secrets(w.a.tenantId)).toEqual(before);
    },
  );

  it('anon may call none of them', async () => {
    expect((await run('anon', 'select public.rotate_widget_key($1)', [w.a.tenantId])).code).toBe(
      '42501',
    );
  });
});

describe('widget loads', () => {
  it('are recorded by the service, bounded, and read by owners and admins only', async () => {
    await db.asService(async (sql) => {
      await sql.query(`select private.record_widget_load($1, 'https://shop.example', true)`, [
        w.a.tenantId,
      ]);
      await sql.query(`select private.record_widget_load($1, 'https://shop.example', true)`, [
        w.a.tenantId,
      ]);
      for (let i = 0; i < 25; i++) {
        await sql.query(`select private.record_widget_load($1, $2, false)`, [
          w.a.tenantId,
          `https://junk${i}.example`,
        ]);
      }
    });
    const owner = await run<{ origin: string; allowed: boolean; loads: number }>(
      'ownerA',
      'select origin, allowed, loads from public.widget_loads where tenant_id = $1 order by allowed desc, origin',
      [w.a.tenantId],
    );
    expect(owner.rows?.[0]).toMatchObject({ origin: 'https://shop.example', allowed: true });
    // A second load within 30 seconds is not another write.
    expect(Number(owner.rows?.[0]?.loads)).toBe(1);
    // At most 20 refused origins per tenant.
    expect(owner.rows?.filter((r) => !r.allowed)).toHaveLength(20);

    for (const actor of ['agentA', 'ownerB', 'visitorA'] as const) {
      expect(
        (
          await run(actor, 'select origin from public.widget_loads where tenant_id = $1', [
            w.a.tenantId,
          ])
        ).rows,
      ).toEqual([]);
    }
    for (const actor of ['ownerA', 'visitorA'] as const) {
      expect(
        (
          await run(actor, `select private.record_widget_load($1, 'https://fake.example', true)`, [
            w.a.tenantId,
          ])
        ).code,
      ).toBe('42501');
      expect(
        (
          await run(
            actor,
            `insert into public.widget_loads (tenant_id, origin, allowed) values ($1, 'https://fake.example', true)`,
            [w.a.tenantId],
          )
        ).code,
      ).toBe('42501');
    }
  });
});
