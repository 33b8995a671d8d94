import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReplyHandler } from '../../functions/_shared/agent/reply.ts';
import type { ReplyDeps } from '../../functions/_shared/agent/reply-types.ts';
import { createPgliteDb } from '../../functions/_shared/db/pglite.ts';
import type { Db, Sql } from '../../functions/_shared/db/port.ts';
import { createHashingEmbedder } from '../../functions/_shared/embeddings/hashing.ts';
import { createLlmProvider } from '../../functions/_shared/llm/factory.ts';
import { type LocalDatabase, openLocalDatabase } from '../../supabase/local/database.ts';
import { type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';
import { replyJob, visitorMessage } from '../support/reply-job.ts';
import { startToolReceiver, type ToolReceiver } from '../support/tool-receiver.ts';

// One logical call, one webhook-id: a reply job that crashed after calling a tool (or relaying to
// n8n) and is worked again makes the same call under the same id, so the receiver dedupes it
// instead of booking twice. And the relay is signed with the previous n8n secret during a rotation.

const OLD = 'whsec_b2xkLXNlY3JldC1vZi10aGUtd29ya2Zsb3ctMDEyMw==';
const NEW = 'whsec_bmV3LXNlY3JldC1vZi10aGUtd29ya2Zsb3ctNDU2Nw==';

let local: LocalDatabase;
let db: Db;
let receiver: ToolReceiver;
let llm: FakeLlm;

beforeAll(async () => {
  local = await openLocalDatabase({ seed: false, embedder: null });
  db = createPgliteDb(local.pg);
  receiver = await startToolReceiver({ secret: OLD });
  llm = await startFakeLlm();
});
afterAll(async () => {
  await receiver?.close();
  await llm?.close();
  await local?.close();
});
beforeEach(() => llm.reset());

/** The database, failing once when the reply is about to be stored: a crash at the worst time. */
function crashingOnceAtReply(): Db {
  let crashed = false;
  const wrap =
    <T>(fn: (sql: Sql) => Promise<T>) =>
    (sql: Sql) =>
      fn({
        query(text, params) {
          // The statement that stores the reply (private.store_reply keeps the insert's plan).
          if (!crashed && /private\.store_reply\(|insert into public\.messages/.test(text)) {
            crashed = true;
            return Promise.reject(new Error('worker killed'));
          }
          return sql.query(text, params);
        },
      });
  return {
    asUser: (claims, fn, request) => db.asUser(claims, wrap(fn), request),
    asService: (fn, request) => db.asService(wrap(fn), request),
    close: () => db.close(),
  };
}

async function setup(options: { engine: 'ai' | 'n8n'; path: string }) {
  return db.asService(async (sql) => {
    const slug = `w-${crypto.randomUUID().slice(0, 8)}`;
    const [tenant] = await sql.query<{ id: string }>(
      `insert into public.tenants (name, slug, bot_engine, n8n_webhook_url) values ($1, $1, $2, $3) returning id`,
      [slug, options.engine, options.engine === 'n8n' ? receiver.url(options.path) : null],
    );
    const tenantId = tenant?.id as string;
    await sql.query(
      `update public.tenant_secrets set n8n_secret = $2, n8n_previous_secret = $3,
              n8n_previous_expires_at = now() + interval '1 hour' where tenant_id = $1`,
      [tenantId, NEW, OLD],
    );
    if (options.engine === 'ai') {
      await sql.query(
        `insert into public.tenant_tools (tenant_id, name, webhook_url, secret, parameters)
         values ($1, 'book_fitting', $2, $3, '{"type": "object"}')`,
        [tenantId, receiver.url(options.path), OLD],
      );
    }
    return visitorMessage(sql, tenantId, 'Book me a fitting in Denver at ten.');
  });
}

function deps(database: Db): ReplyDeps {
  return {
    db: database,
    embedder: createHashingEmbedder(),
    env: {},
    fetch,
    sleep: async () => {},
    log: () => {},
    llmFor: () => createLlmProvider(llm.config('openai'), { fetch, sleep: async () => {} }),
  };
}

describe('webhook ids across a crash', () => {
  it('a tool call made again by the retried job carries the webhook-id of the first', async () => {
    const ids = await setup({ engine: 'ai', path: '/book-crash' });
    receiver.on('/book-crash', { status: 200, body: { booked: true, reference: 'FIT-1' } });
    // The model asked again names the call differently and writes its arguments in another order.
    llm.script(
      {
        toolCalls: [
          { id: 'call_first', name: 'book_fitting', arguments: { store: 'Denver', time: '10:00' } },
        ],
      },
      { text: 'Booked.' },
      {
        toolCalls: [
          { id: 'call_again', name: 'book_fitting', arguments: { time: '10:00', store: 'Denver' } },
        ],
      },
      { text: 'Booked.' },
    );
    await expect(
      createReplyHandler(deps(crashingOnceAtReply()))(replyJob(7001, ids)),
    ).rejects.toThrow(/worker killed/);
    await createReplyHandler(deps(db))(replyJob(7001, ids));

    const deliveries = receiver.deliveries('/book-crash');
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((d) => d.verified)).toBe(true);
    expect(deliveries[1]?.deliveryId).toBe(deliveries[0]?.deliveryId);
    expect(deliveries[1]?.repeated).toBe(true);
  });

  it('the relay to n8n retried after a crash carries the same webhook-id', async () => {
    const ids = await setup({ engine: 'n8n', path: '/relay-crash' });
    receiver.on('/relay-crash', { status: 200, body: { reply: 'From the workflow.' } });
    await expect(
      createReplyHandler(deps(crashingOnceAtReply()))(replyJob(7002, ids)),
    ).rejects.toThrow(/worker killed/);
    await createReplyHandler(deps(db))(replyJob(7002, ids));
    const deliveries = receiver.deliveries('/relay-crash');
    expect(deliveries).toHaveLength(2);
    expect(deliveries[1]?.deliveryId).toBe(deliveries[0]?.deliveryId);
  });

  it('another logical call gets another id', async () => {
    const first = await setup({ engine: 'n8n', path: '/relay-a' });
    const second = await setup({ engine: 'n8n', path: '/relay-b' });
    receiver.on('/relay-a', { status: 200, body: { reply: 'A' } });
    receiver.on('/relay-b', { status: 200, body: { reply: 'B' } });
    await createReplyHandler(deps(db))(replyJob(7003, first));
    await createReplyHandler(deps(db))(replyJob(7004, second));
    const [a] = receiver.deliveries('/relay-a');
    const [b] = receiver.deliveries('/relay-b');
    expect(a?.deliveryId).toBeTruthy();
    expect(a?.deliveryId).not.toBe(b?.deliveryId);
  });
});

describe('n8n secret rotation', () => {
  it('signs the relay with the previous secret too, so a workflow still on it verifies', async () => {
    const ids = await setup({ engine: 'n8n', path: '/relay-rotated' });
    receiver.on('/relay-rotated', { status: 200, body: { reply: 'Still verified.' } });
    const result = (await createReplyHandler(deps(db))(replyJob(7005, ids))) as { engine?: string };
    const [delivery] = receiver.deliveries('/relay-rotated');
    expect(delivery?.verified).toBe(true);
    expect(String(delivery?.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(result.engine).toBe('n8n');
  });
});
