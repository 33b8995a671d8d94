import { createHmac } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../functions/_shared/webhooks/signature.ts';
import { openLocalDatabase } from '../../supabase/local/database.ts';

// Secrets saved before Standard Webhooks become whsec_ secrets with the same key bytes, so a
// workflow holding the old text can still check Parley's signatures (keyed with that text).

const STANDARD_WEBHOOKS = '20261202000510';
const migrations = join(import.meta.dirname, '../../supabase/migrations');
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('migration to Standard Webhooks secrets', () => {
  it('converts existing secrets to whsec_<base64 of the old text>', {
    timeout: 240_000,
  }, async () => {
    const project = await mkdtemp(join(tmpdir(), 'parley-secrets-'));
    const data = await mkdtemp(join(tmpdir(), 'parley-secrets-data-'));
    dirs.push(project, data);
    const supabaseDir = join(project, 'supabase');
    const target = join(supabaseDir, 'migrations');
    await cp(migrations, target, {
      recursive: true,
      filter: (source) =>
        !/\/\d{14}_[^/]*\.sql$/.test(source) || (source.split('/').pop() ?? '') < STANDARD_WEBHOOKS,
    });

    const before = await openLocalDatabase({ dataDir: data, supabaseDir, embedder: null });
    try {
      await before.pg.exec(`
        insert into public.tenants (id, name, slug) values
          ('c0000000-0000-4000-8000-000000000001', 'Legacy', 'legacy-secrets');
        update public.tenant_secrets
           set n8n_secret = 'legacy-n8n-secret-text', n8n_previous_secret = 'older-n8n-secret'
         where tenant_id = 'c0000000-0000-4000-8000-000000000001';
        insert into public.tenant_tools (tenant_id, name, webhook_url, secret)
        values ('c0000000-0000-4000-8000-000000000001', 'legacy_tool',
                'https://n8n.example.com/webhook/legacy', 'legacy-tool-secret-0123456789abcdef');
      `);
    } finally {
      await before.close();
    }

    await cp(migrations, target, { recursive: true });
    const after = await openLocalDatabase({ dataDir: data, supabaseDir, embedder: null });
    try {
      expect(after.applied[0]).toBe(STANDARD_WEBHOOKS);
      const { rows } = await after.pg.query<{
        secret: string;
        n8n_secret: string;
        n8n_previous_secret: string;
      }>(
        `select t.secret, s.n8n_secret, s.n8n_previous_secret
           from public.tenant_tools t join public.tenant_secrets s using (tenant_id)
          where t.name = 'legacy_tool'`,
      );
      const b64 = (text: string) => `whsec_${Buffer.from(text).toString('base64')}`;
      expect(rows[0]).toEqual({
        secret: b64('legacy-tool-secret-0123456789abcdef'),
        n8n_secret: b64('legacy-n8n-secret-text'),
        n8n_previous_secret: b64('older-n8n-secret'),
      });

      const body = '{"tool":"legacy_tool"}';
      const headers = signRequest({
        secret: rows[0]?.secret ?? '',
        body,
        id: 'msg_1',
        timestamp: 1,
      });
      const keyedWithOldText = createHmac('sha256', 'legacy-tool-secret-0123456789abcdef')
        .update(`msg_1.1.${body}`)
        .digest('base64');
      expect(headers['webhook-signature']).toBe(`v1,${keyedWithOldText}`);

      const { rows: fresh } = await after.pg.query<{ secret: string }>(
        `insert into public.tenant_tools (tenant_id, name, webhook_url)
         values ('c0000000-0000-4000-8000-000000000001', 'new_tool', 'https://n8n.example.com/x')
         returning secret`,
      );
      expect(fresh[0]?.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      await expect(
        after.pg.query(
          `update public.tenant_tools set secret = 'plain-text-again' where name = 'new_tool'`,
        ),
      ).rejects.toThrow(/tenant_tools_secret_format/);
    } finally {
      await after.close();
    }
  });
});
