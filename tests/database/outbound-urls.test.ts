import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';

// URLs Parley calls for a tenant are refused when saved, not only when called: a tenant hears at
// once (a check violation, 400 from the Data API) that the platform will not call them.

let local: LocalDatabase;
let db: Db;
let tenantId: string;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  const [row] = await db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.tenants (name, slug) values ('Urls', 'urls-test') returning id`,
    ),
  );
  tenantId = row?.id as string;
});
afterAll(() => local?.close());

const REFUSED = [
  'javascript:alert(1)',
  'file:///etc/passwd',
  'ftp://files.example.com/',
  'gopher://example.com/',
  'http://user:secret@hooks.example.com/',
  'http://127.1/',
  'http://0x7f000001/',
  'http://2130706433/',
  'http://0177.0.0.1/',
  'http://10.0.0.5:11434/v1',
  'http://169.254.169.254/latest/meta-data/',
  'http://100.64.0.1/',
  'http://192.168.1.10/',
  'http://[::ffff:127.0.0.1]/',
  'http://[fd00::1]/',
  'http://[fe80::1]/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://n8n:5678/webhook/x',
  'http://printer.local/',
  'http://127.0.0.%31/',
  'http://hooks.example.com /x',
];

const ACCEPTED = [
  'https://n8n.example.com/webhook/abc',
  'http://hooks.example.com:8080/x?y=1',
  'https://93.184.216.34/',
  'https://[2606:2800:220:1:248:1893:25c8:1946]/',
  // Loopback is the platform's call, made when the URL is called (the local stack allows it).
  'http://127.0.0.1:54321/demo/n8n/order-status',
  'http://localhost:5678/webhook/x',
];

async function attempt(statement: string, params: unknown[]): Promise<string | null> {
  try {
    await db.asService((sql) => sql.query(statement, params));
    return null;
  } catch (error) {
    return (error as { code?: string }).code ?? 'error';
  }
}

describe('outbound URLs saved by a tenant', () => {
  it.each(REFUSED)('refuses %s everywhere it can be saved', async (url) => {
    expect(
      await attempt(
        `insert into public.tenant_tools (tenant_id, name, webhook_url) values ($1, $2, $3)`,
        [tenantId, `t_${crypto.randomUUID().slice(0, 8)}`, url],
      ),
    ).toBe('23514');
    expect(
      await attempt('update public.tenants set n8n_webhook_url = $2 where id = $1', [
        tenantId,
        url,
      ]),
    ).toBe('23514');
    expect(
      await attempt(`update public.tenants set llm_config = $2::jsonb where id = $1`, [
        tenantId,
        { provider: 'openai', base_url: url },
      ]),
    ).toBe('23514');
    expect(
      await attempt('insert into public.webhook_endpoints (tenant_id, url) values ($1, $2)', [
        tenantId,
        url,
      ]),
    ).toBe('23514');
  });

  it.each(ACCEPTED)('accepts %s', async (url) => {
    expect(
      await attempt(
        `insert into public.tenant_tools (tenant_id, name, webhook_url) values ($1, $2, $3)`,
        [tenantId, `t_${crypto.randomUUID().slice(0, 8)}`, url],
      ),
    ).toBeNull();
    expect(
      await attempt('update public.tenants set n8n_webhook_url = $2 where id = $1', [
        tenantId,
        url,
      ]),
    ).toBeNull();
    expect(
      await attempt(`update public.tenants set llm_config = $2::jsonb where id = $1`, [
        tenantId,
        { base_url: url },
      ]),
    ).toBeNull();
  });

  it('leaves unset URLs alone', async () => {
    expect(
      await attempt(
        `update public.tenants set n8n_webhook_url = null, llm_config = '{"base_url": ""}' where id = $1`,
        [tenantId],
      ),
    ).toBeNull();
  });
});
