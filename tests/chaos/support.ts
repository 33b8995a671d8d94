import type { Db } from '../../functions/_shared/db/port.ts';
import type { FakeLlm, FakeStep } from '../support/fake-llm.ts';
import type { ReceivedDelivery, ReceiverStep } from '../support/tool-receiver.ts';

// What the chaos test and `npm run bench:chaos` share: a model that books something for every
// message, a booking service that fails a fixed share of calls, and the figures that say whether
// anything was lost, doubled or repeated.

/** A booking tool: one logical call per visitor message, told apart by its reference. */
export const BOOKING_TOOL = {
  name: 'book_table',
  path: '/book',
  parameters: {
    type: 'object',
    properties: { ref: { type: 'string', maxLength: 200 } },
    required: ['ref'],
    additionalProperties: false,
  },
};

/** The model asks for a booking named after the visitor's message, then confirms it. */
export function scriptBookings(llm: FakeLlm, turns: number) {
  const step: FakeStep = (request) =>
    request.toolResults.length > 0
      ? { text: `Booked for "${request.lastUserText}".` }
      : { toolCalls: [{ name: BOOKING_TOOL.name, arguments: { ref: request.lastUserText } }] };
  llm.script(...Array.from({ length: turns }, () => step));
}

/** A receiver script failing about `share` of the calls, the same ones on every run. */
export function flakySteps(share: number, count: number, seed = 7): ReceiverStep[] {
  let state = seed;
  const random = () => {
    // mulberry32: small, seedable, good enough to spread the failures.
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () =>
    random() < share ? 'fail' : { status: 200, body: { booked: true } },
  );
}

export interface ReplyFigures {
  messages: number;
  replies: number;
  /** Visitor messages answered more than once. */
  duplicates: number;
  /** Visitor messages never answered. */
  missing: number;
  deadJobs: number;
  unfinishedJobs: number;
}

export async function replyFigures(db: Db, tenantId: string): Promise<ReplyFigures> {
  const [row] = await db.asService((sql) =>
    sql.query<ReplyFigures>(
      `with asked as (
         select id from public.messages where tenant_id = $1 and role = 'user'
       ), answers as (
         select in_reply_to, count(*) as n from public.messages
          where tenant_id = $1 and role = 'assistant' and in_reply_to is not null
          group by in_reply_to
       )
       select (select count(*) from asked)::int as messages,
              (select coalesce(sum(n), 0) from answers)::int as replies,
              (select count(*) from answers where n > 1)::int as duplicates,
              (select count(*) from asked where id not in (select in_reply_to from answers))::int
                as missing,
              (select count(*) from public.jobs where tenant_id = $1 and status = 'dead')::int
                as "deadJobs",
              (select count(*) from public.jobs
                where tenant_id = $1 and status in ('queued', 'running'))::int as "unfinishedJobs"`,
      [tenantId],
    ),
  );
  if (!row) throw new Error('no figures');
  return row;
}

/** The delivery id, under the Standard Webhooks header or the older Parley one. */
export function deliveryIdOf(delivery: ReceivedDelivery): string | undefined {
  const header = delivery.headers['webhook-id'] ?? delivery.headers['x-parley-delivery'];
  return Array.isArray(header) ? header[0] : header;
}

export interface ToolFigures {
  /** Logical calls: distinct booking references. */
  calls: number;
  deliveries: number;
  /** Calls that reached the service under more than one delivery id: it could not dedupe them. */
  repeatedSideEffects: number;
}

/** A service that dedupes on the delivery id acts once per id: more than one id per call repeats. */
export function toolFigures(deliveries: ReceivedDelivery[]): ToolFigures {
  const idsByCall = new Map<string, Set<string>>();
  for (const delivery of deliveries) {
    const ref = (delivery.body as { arguments?: { ref?: unknown } } | undefined)?.arguments?.ref;
    const id = deliveryIdOf(delivery);
    if (typeof ref !== 'string' || !id) continue;
    const ids = idsByCall.get(ref) ?? new Set<string>();
    ids.add(id);
    idsByCall.set(ref, ids);
  }
  let repeatedSideEffects = 0;
  for (const ids of idsByCall.values()) repeatedSideEffects += ids.size - 1;
  return { calls: idsByCall.size, deliveries: deliveries.length, repeatedSideEffects };
}

/** Polls until every visitor message of the tenant is answered and the queue is empty. */
export async function settle(db: Db, tenantId: string, timeoutMs: number): Promise<ReplyFigures> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const figures = await replyFigures(db, tenantId);
    if ((figures.missing === 0 && figures.unfinishedJobs === 0) || Date.now() > deadline) {
      return figures;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
