import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { ACTORS, type Actor, createWorld, type World } from '../support/world.ts';

// Column by column, what each role may read (README, "Data model and security"): agents do not
// see tool configuration, visitors do not see what a reply cost. Row policies cannot hide a
// column, so these columns are withheld from the API roles (column privileges) and shown through
// views to those allowed: owners and admins of the tenant, and platform admins.

let local: LocalDatabase;
let db: Db;
let w: World;

/** Columns no API role may select on the table itself. */
const WITHHELD: Record<string, string[]> = {
  tenants: ['llm_config', 'n8n_webhook_url'],
  tool_executions: ['response', 'error'],
  messages: ['tokens_in', 'tokens_out', 'cost_usd', 'model'],
  // Shown once, by public.rotate_tool_secret.
  tenant_tools: ['secret', 'previous_secret'],
};

/** The row of tenant A each table's columns are read from. */
const rowOf: Record<string, (w: World) => string> = {
  tenants: (w) => w.a.tenantId,
  tool_executions: (w) => w.a.toolExecutionId,
  messages: (w) => w.a.assistantMessageId,
  tenant_tools: (w) => w.a.tenantToolId,
};

const ADMINS_OF_A: Actor[] = ['adminA', 'ownerA', 'platformAdmin'];

/** The views that show withheld columns to those allowed, and the row of tenant A in each. */
const VIEWS: { view: string; key: string; row: (w: World) => string; columns: string[] }[] = [
  {
    view: 'tenant_connections',
    key: 'tenant_id',
    row: (w) => w.a.tenantId,
    columns: ['llm_config', 'n8n_webhook_url'],
  },
  {
    view: 'tool_execution_results',
    key: 'id',
    row: (w) => w.a.toolExecutionId,
    columns: ['response', 'error'],
  },
  {
    view: 'message_usage',
    key: 'message_id',
    row: (w) => w.a.assistantMessageId,
    columns: ['tokens_in', 'tokens_out', 'cost_usd', 'model'],
  },
];

class Rollback extends Error {}

async function asActor<T>(actor: Actor, fn: (sql: Sql) => Promise<T>): Promise<T> {
  let result: { value: T } | undefined;
  try {
    await db.asUser(w.claims[actor], async (sql) => {
      result = { value: await fn(sql) };
      throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
  }
  if (!result) throw new Error('no result');
  return result.value;
}

/** The rows the actor gets, or 'denied' for a missing privilege (42501). */
async function read(actor: Actor, text: string, params: unknown[]) {
  return asActor(actor, async (sql) => {
    await sql.query('savepoint column_read');
    try {
      return await sql.query<Record<string, unknown>>(text, params);
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error;
      await sql.query('rollback to savepoint column_read');
      return 'denied' as const;
    }
  });
}

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  w = await createWorld(db);
  // Something to withhold in every column.
  await db.asService(async (sql) => {
    await sql.query(
      `update public.tenants set llm_config = '{"provider":"openai","base_url":"https://llm.example/v1","model":"m"}',
         n8n_webhook_url = 'https://n8n.example/webhook/parley' where id = $1`,
      [w.a.tenantId],
    );
    await sql.query(
      `update public.tool_executions set response = '{"order":"shipped"}', error = 'upstream said no'
        where id = $1`,
      [w.a.toolExecutionId],
    );
    await sql.query(
      `update public.messages set model = 'gpt-test', cost_usd = 0.01 where id = $1`,
      [w.a.assistantMessageId],
    );
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
});

describe('withheld columns', () => {
  for (const [table, columns] of Object.entries(WITHHELD)) {
    for (const column of columns) {
      it(`nobody selects ${table}.${column} through the API`, async () => {
        for (const actor of ACTORS) {
          expect(
            await read(actor, `select ${column} from public.${table} where id = $1`, [
              rowOf[table]?.(w),
            ]),
            actor,
          ).toBe('denied');
        }
      });
    }
  }

  it('the service role reads them, as the reply context does', async () => {
    const [row] = await db.asService((sql) =>
      sql.query<{ llm_config: { base_url: string }; n8n_webhook_url: string }>(
        'select llm_config, n8n_webhook_url from public.tenants where id = $1',
        [w.a.tenantId],
      ),
    );
    expect(row?.llm_config.base_url).toBe('https://llm.example/v1');
    expect(row?.n8n_webhook_url).toBe('https://n8n.example/webhook/parley');
  });

  it('every other column of these tables stays readable: a new column needs a grant', async () => {
    const columns = await db.asService((sql) =>
      sql.query<{ table: string; column: string; readable: boolean }>(
        `select c.relname as table, a.attname as column,
                has_column_privilege('authenticated', c.oid, a.attname, 'select') as readable
           from pg_attribute a join pg_class c on c.oid = a.attrelid
          where c.relnamespace = 'public'::regnamespace and c.relname = any($1::text[])
            and a.attnum > 0 and not a.attisdropped`,
        [Object.keys(WITHHELD)],
      ),
    );
    const wrong = columns
      .filter((c) => c.readable === WITHHELD[c.table]?.includes(c.column))
      .map((c) => `${c.table}.${c.column} ${c.readable ? 'readable' : 'not readable'}`);
    expect(wrong).toEqual([]);
  });
});

describe('what each actor still reads of those rows', () => {
  it('a visitor reads its messages without their cost', async () => {
    const rows = await read(
      'visitorA',
      'select id, role, content, quick_replies, sources, created_at from public.messages where id = $1',
      [w.a.assistantMessageId],
    );
    expect(rows).toEqual([expect.objectContaining({ id: w.a.assistantMessageId })]);
  });

  it('an agent reads the tenant and the tool audit trail without configuration or answers', async () => {
    expect(
      await read('agentA', 'select id, name, bot_config from public.tenants where id = $1', [
        w.a.tenantId,
      ]),
    ).toEqual([expect.objectContaining({ id: w.a.tenantId })]);
    expect(
      await read(
        'agentA',
        'select id, tool_name, success, http_status from public.tool_executions where id = $1',
        [w.a.toolExecutionId],
      ),
    ).toEqual([expect.objectContaining({ id: w.a.toolExecutionId })]);
  });

  it('an agent reads no tool or n8n secret, nor a tool webhook (row policies)', async () => {
    // No API role reads tenant_secrets at all (its secrets are written and rotated by functions).
    expect(
      await read(
        'agentA',
        'select n8n_secret, llm_api_key from public.tenant_secrets where tenant_id = $1',
        [w.a.tenantId],
      ),
    ).toBe('denied');
    expect(
      await read('agentA', 'select webhook_url from public.tenant_tools where id = $1', [
        w.a.tenantToolId,
      ]),
    ).toEqual([]);
    expect(
      await read('adminA', 'select webhook_url from public.tenant_tools where id = $1', [
        w.a.tenantToolId,
      ]),
    ).toHaveLength(1);
  });

  it('an admin still saves the LLM settings and the n8n URL', async () => {
    const changed = await asActor('adminA', async (sql) => {
      await sql.query(
        `update public.tenants set llm_config = '{"provider":"anthropic"}', n8n_webhook_url = null
          where id = $1`,
        [w.a.tenantId],
      );
      return sql.query<{ llm_config: unknown; n8n_webhook_url: unknown }>(
        'select llm_config, n8n_webhook_url from public.tenant_connections where tenant_id = $1',
        [w.a.tenantId],
      );
    });
    expect(changed).toEqual([{ llm_config: { provider: 'anthropic' }, n8n_webhook_url: null }]);
  });
});

describe('views of the withheld columns', () => {
  for (const { view, key, row, columns } of VIEWS) {
    it(`${view}: owners and admins of the tenant and platform admins only`, async () => {
      for (const actor of ACTORS) {
        const rows = await read(
          actor,
          `select ${columns.join(', ')} from public.${view} where ${key} = $1`,
          [row(w)],
        );
        if (actor === 'anon') expect(rows, actor).toBe('denied');
        else if (ADMINS_OF_A.includes(actor)) expect(rows, actor).toHaveLength(1);
        else expect(rows, actor).toEqual([]);
      }
    });
  }

  it('show the values themselves', async () => {
    const [connection] = (await read(
      'adminA',
      'select llm_config, n8n_webhook_url from public.tenant_connections where tenant_id = $1',
      [w.a.tenantId],
    )) as Record<string, unknown>[];
    expect(connection).toEqual({
      llm_config: { provider: 'openai', base_url: 'https://llm.example/v1', model: 'm' },
      n8n_webhook_url: 'https://n8n.example/webhook/parley',
    });
    const [result] = (await read(
      'ownerA',
      'select response, error from public.tool_execution_results where id = $1',
      [w.a.toolExecutionId],
    )) as Record<string, unknown>[];
    expect(result).toEqual({ response: { order: 'shipped' }, error: 'upstream said no' });
    const [usage] = (await read(
      'platformAdmin',
      'select model, cost_usd from public.message_usage where message_id = $1',
      [w.a.assistantMessageId],
    )) as Record<string, unknown>[];
    expect(usage).toEqual({ model: 'gpt-test', cost_usd: '0.010000' });
  });

  it('nobody writes through them', async () => {
    for (const actor of ['adminA', 'ownerA'] as const) {
      expect(
        await read(
          actor,
          `update public.tenant_connections set n8n_webhook_url = 'https://evil.example' where tenant_id = $1 returning 1`,
          [w.a.tenantId],
        ),
        actor,
      ).toBe('denied');
    }
  });
});
