import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createJobHandlers } from '../../functions/_shared/job-handlers.ts';
import type { Job } from '../../functions/_shared/jobs/types.ts';
import type { FunctionContext } from '../../functions/_shared/platform/context.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { FAKE_MODEL, type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';
import { createUser } from '../support/world.ts';

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
}, 60_000);
afterAll(async () => {
  await receiver?.close();
  await llm?.close();
  await local?.close();
});

function context(env: Record<string, string> = {}): FunctionContext {
  return { env, db, waitUntil: () => {}, log: () => {} };
}

async function visitorMessage(tenant: { engine: 'ai' | 'n8n'; n8nUrl?: string; llmUrl?: string }) {
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
    const tenantId = row?.id as string;
    const visitor = await createUser(sql, { anonymous: true });
    const [conversation] = await sql.query<{ id: string }>(
      `insert into public.conversations (tenant_id, visitor_id) values ($1, $2) returning id`,
      [tenantId, visitor],
    );
    const [message] = await sql.query<{ id: string }>(
      `insert into public.messages (conversation_id, tenant_id, role, content, client_msg_id)
       values ($1, $2, 'user', 'What is on your admin port?', 'm-1') returning id`,
      [conversation?.id, tenantId],
    );
    return { conversationId: conversation?.id as string, messageId: message?.id as string };
  });
}

function replyJob(ids: { conversationId: string; messageId: string }): Job {
  return {
    id: 1,
    tenant_id: null,
    kind: 'reply',
    payload: { message_id: ids.messageId, conversation_id: ids.conversationId },
    attempts: 1,
    max_attempts: 5,
    ordering_key: ids.conversationId,
  };
}

describe('outbound requests of the composed job handlers', () => {
  it('do not relay to an n8n URL on loopback by default', async () => {
    const ids = await visitorMessage({ engine: 'n8n', n8nUrl: receiver.url('/admin') });
    const handlers = createJobHandlers(context());
    await handlers.reply?.(replyJob(ids)).catch(() => {});
    expect(receiver.deliveries('/admin')).toHaveLength(0);
  });

  it('do not call an LLM base URL on loopback by default', async () => {
    const before = llm.requests.length;
    const ids = await visitorMessage({ engine: 'ai', llmUrl: llm.url.openai });
    const handlers = createJobHandlers(context());
    await handlers.reply?.(replyJob(ids)).catch(() => {});
    expect(llm.requests.length).toBe(before);
  });

  it('call loopback when the platform setting allows it', async () => {
    const before = llm.requests.length;
    const ids = await visitorMessage({ engine: 'ai', llmUrl: llm.url.openai });
    const handlers = createJobHandlers(context({ PARLEY_ALLOW_LOOPBACK_OUTBOUND: 'true' }));
    await handlers.reply?.(replyJob(ids));
    expect(llm.requests.length).toBeGreaterThan(before);
  });
});
