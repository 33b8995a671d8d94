import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createReplyHandler } from '../../functions/_shared/agent/reply.ts';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createHashingEmbedder } from '../../functions/_shared/embeddings/hashing.ts';
import { createJobRunner } from '../../functions/_shared/jobs/runner.ts';
import {
  type ChatHarness,
  createTenant,
  startChatHarness,
  type TestTenant,
  Visitor,
} from '../support/chat.ts';
import { BOOKING_TOOL, flakySteps, scriptBookings, settle, toolFigures } from './support.ts';

// Chaos: a booking service failing about 30 % of calls, and reply runners that die mid-reply (the
// booking already made, the reply not yet stored) while a burst of visitor messages comes in.
// Every message must get exactly one reply, no booking may reach the service under a second
// delivery id (a service deduping on it then books once), nothing may be dead-lettered, and each
// dead runner's job must be taken over within one lease. Short leases come from configuration.

const LEASE_SECONDS = 3;
const VISITORS = 10;
const MESSAGES_EACH = 3;
const DOOMED = 3;

let h: ChatHarness;
let tenant: TestTenant;

beforeAll(async () => {
  h = await startChatHarness({
    JOB_LEASE_SECONDS: String(LEASE_SECONDS),
    CHAT_VISITOR_MESSAGES_PER_MINUTE: '100',
  });
  tenant = await createTenant(h, {
    llm: 'openai',
    tools: [{ ...BOOKING_TOOL, timeoutMs: 3000 }],
  });
  // A Standard Webhooks secret, which every signing scheme takes.
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await h.db.asService((sql) =>
    sql.query('update public.tenant_tools set secret = $2 where tenant_id = $1', [
      tenant.id,
      secret,
    ]),
  );
  h.receiver.setSecrets([secret]);
  h.receiver.on(BOOKING_TOOL.path, flakySteps(0.3, 5000));
  scriptBookings(h.llm, 5000);
}, 120_000);
afterAll(() => h?.close());

interface Death {
  jobId: number;
  at: number;
}

/**
 * A reply runner outside the stack that dies the moment the booking service has seen its call:
 * from then on its database calls and that call never return, so it neither stores the reply nor
 * renews its lease, as if its process had been killed.
 */
function doomedRunner(name: string) {
  let alive = true;
  let jobId = 0;
  let die: (death: Death) => void = () => {};
  const died = new Promise<Death>((resolve) => {
    die = resolve;
  });
  const never = new Promise<never>(() => {});
  // The stack serves its database to one connection at a time: share the harness's.
  const db: Db = {
    asUser: (claims, fn, request) => (alive ? h.db.asUser(claims, fn, request) : never),
    asService: (fn, request) => (alive ? h.db.asService(fn, request) : never),
    close: async () => {},
  };
  const fetchThenDie: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(h.receiver.origin)) {
      alive = false;
      die({ jobId, at: Date.now() });
      return never;
    }
    return response;
  };
  const reply = createReplyHandler({
    db,
    embedder: createHashingEmbedder(),
    env: {},
    fetch: fetchThenDie,
    log: () => {},
  });
  const runner = createJobRunner({
    db,
    workerId: name,
    leaseSeconds: LEASE_SECONDS,
    log: () => {},
    handlers: {
      reply: (job) => {
        jobId = job.id;
        return reply(job);
      },
    },
  });
  return {
    /** Resolves when it died; rejects if it finished the reply without ever calling the tool. */
    run(orderingKey: string): Promise<Death> {
      const finished = runner.drain({ orderingKey }).then(() => {
        throw new Error(`${name} never reached the booking service`);
      });
      return Promise.race([died, finished]);
    },
  };
}

it('answers every message exactly once, repeats no booking, and takes over dead runners within a lease', async () => {
  const visitors = await Promise.all(
    Array.from({ length: VISITORS }, async () => {
      const visitor = await Visitor.signIn(h);
      const session = await visitor.call('sessions', { key: tenant.key, locale: 'en' });
      return { visitor, conversationId: session.body.conversation.id as string };
    }),
  );

  // Three conversations get a message that a runner outside the stack picks up and dies on.
  const deaths = await Promise.all(
    visitors.slice(0, DOOMED).map(async ({ conversationId }, i) => {
      await h.db.asService((sql) =>
        sql.query(
          `insert into public.messages (conversation_id, role, content, client_msg_id)
           values ($1, 'user', $2, $3)`,
          [conversationId, `doomed ${i}`, `doomed-${i}`],
        ),
      );
      return doomedRunner(`doomed-${i}`).run(`conversation:${conversationId}`);
    }),
  );

  // The burst, into the stricken conversations too: they must not stay frozen. When the first
  // message reached each of them, a runner started looking for that conversation's work.
  const asked = new Map<number, number>();
  const statuses = (
    await Promise.all(
      visitors.map(async ({ visitor, conversationId }, v) => {
        const sent: number[] = [];
        for (let m = 0; m < MESSAGES_EACH; m++) {
          const res = await visitor.call('messages', {
            conversation_id: conversationId,
            client_msg_id: `burst-${m}`,
            content: `visitor ${v} message ${m}`,
          });
          sent.push(res.status);
          if (m === 0) asked.set(v, Date.now());
        }
        return sent;
      }),
    )
  ).flat();
  expect(statuses.every((status) => status === 202)).toBe(true);

  const figures = await settle(h.db, tenant.id, 90_000);
  const total = VISITORS * MESSAGES_EACH + DOOMED;
  expect(figures).toEqual({
    messages: total,
    replies: total,
    duplicates: 0,
    missing: 0,
    deadJobs: 0,
    unfinishedJobs: 0,
  });

  const tools = toolFigures(h.receiver.deliveries(BOOKING_TOOL.path));
  expect(tools.calls).toBe(total);
  expect(tools.repeatedSideEffects).toBe(0);
  // Some calls failed and were retried: the chaos did happen.
  expect(tools.deliveries).toBeGreaterThan(total);

  // When each dead runner's job was claimed again, by the database's clock (this machine's).
  const takeovers = await h.db.asService((sql) =>
    sql.query<{ id: number; claimed: number }>(
      `select id, (extract(epoch from claimed_at) * 1000)::float8 as claimed from public.jobs
        where id = any($1::bigint[])`,
      [deaths.map((d) => d.jobId)],
    ),
  );
  const recovered = new Map(takeovers.map((row) => [row.id, row.claimed]));
  for (const [i, death] of deaths.entries()) {
    const at = recovered.get(death.jobId);
    expect(at).toBeDefined();
    // Taken over once the lease ran out, or as soon as a runner came looking if that was later.
    // Within one more lease: the room a claim's round trips need when the machine is busy.
    const due = Math.max(death.at + LEASE_SECONDS * 1000, asked.get(i) ?? 0);
    expect(((at as number) - due) / 1000).toBeLessThan(LEASE_SECONDS);
  }
  const attempts = await h.db.asService((sql) =>
    sql.query<{ attempts: number; status: string }>(
      'select attempts, status from public.jobs where id = any($1::bigint[])',
      [deaths.map((d) => d.jobId)],
    ),
  );
  expect(attempts).toEqual(deaths.map(() => ({ attempts: 2, status: 'succeeded' })));
  await Promise.all(visitors.map(({ visitor }) => visitor.close()));
}, 150_000);
