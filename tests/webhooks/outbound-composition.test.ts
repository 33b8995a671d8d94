import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createJobHandlers } from '../../functions/_shared/job-handlers.ts';
import type { FunctionContext } from '../../functions/_shared/platform/context.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { FAKE_MODEL, type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';
import { replyJob, visitorMessage } from '../support/reply-job.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';

// The job handlers as chat and worker compose them: a tenant pointing its n8n relay, its LLM or a
// tool at this machine gets nothing called there, unless the platform allows loopback.

let local: LocalDatabase;
let db: Db;
let receiver: ToolReceiver;
let llm: FakeLlm;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  receiver = await startToolReceiver({ secret: 'unused' });
  llm = await startFakeLlm();
});
afterAll(async () => {
  await receiver?.close();
  await llm?.close();
  await local?.close();
});

function context(env: Record<string, string> = {}): FunctionContext {
  return { env, db, waitUntil: () => {}, log: () => {} };
}

async function pending(tenant: { engine: 'ai' | 'n8n'; n8nUrl?: string; llmUrl?: string }) {
  return db.asService(async (sql) => {
    const slug = `o-${crypto.randomUUID().slice(0, 8)}`;
    const [row] = await sql.query<{ id: string }>(
      `insert into public.tenants (name, slug, bot_engine, n8n_webhook_url, llm_config)
       values ($1, $1, $2, $3, $4::jsonb) returning id`,
      [
        slug,
        tenant.engine,
        tenant.n8nUrl ?? null,
        tenant.llmUrl ? { provider: 'openai', base_url: tenant.llmUrl, model: FAKE_MODEL } : {},
      ],
    );
    return visitorMessage(sql, row?.id as string, 'What is on your admin port?');
  });
}

describe('outbound requests of the composed job handlers', () => {
  it('do not relay to an n8n URL on loopback by default', async () => {
    const ids = await pending({ engine: 'n8n', n8nUrl: receiver.url('/admin') });
    const handlers = createJobHandlers(context());
    await handlers.reply?.(replyJob(1, ids)).catch(() => {});
    expect(receiver.deliveries('/admin')).toHaveLength(0);
  });

  it('do not call an LLM base URL on loopback by default', async () => {
    const before = llm.requests.length;
    const ids = await pending({ engine: 'ai', llmUrl: llm.url.openai });
    const handlers = createJobHandlers(context());
    await handlers.reply?.(replyJob(1, ids)).catch(() => {});
    expect(llm.requests.length).toBe(before);
  });

  it('call loopback when the platform setting allows it', async () => {
    const before = llm.requests.length;
    const ids = await pending({ engine: 'ai', llmUrl: llm.url.openai });
    const handlers = createJobHandlers(context({ PARLEY_ALLOW_LOOPBACK_OUTBOUND: 'true' }));
    await handlers.reply?.(replyJob(1, ids));
    expect(llm.requests.length).toBeGreaterThan(before);
  });
});
