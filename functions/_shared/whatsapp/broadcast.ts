import { z } from 'zod';
import type { Job } from '../jobs/types.ts';
import { type GraphErrorBody, readGraphAnswer, sendMessage } from './graph.ts';
import { templateMessage, type WhatsappJobDeps } from './outbound.ts';

// Sending a broadcast: one job works a broadcast for a while, sending its queued recipients at the
// broadcast's rate (messages per second, Meta's throughput per number), then queues itself again
// until every recipient has its outcome. Meta's rate-limit answers put a recipient back in the
// queue with backoff; an access token Meta no longer accepts stops the whole broadcast at once.

export const BROADCAST_JOB = 'whatsapp_broadcast';

/** Recipients tried this many times (rate limits included) fail with Meta's last answer. */
const MAX_ATTEMPTS = 6;
/** A recipient left `sending` this long by a job that died is tried again. */
const STALE_SENDING_SECONDS = 120;
/** Invalid or expired access token, or permissions taken away: nothing more will go out. */
const TOKEN_DEAD = new Set([190, 10, 200]);

export interface BroadcastDeps extends WhatsappJobDeps {
  sleep?: (ms: number) => Promise<void>;
  /** How long one job sends before handing over to the next (the worker's slice). */
  sliceMs?: number;
}

const payload = z.object({ broadcast_id: z.string().uuid() });

interface Broadcast {
  id: string;
  tenant_id: string;
  status: string;
  messages_per_second: number;
  variables: string[];
  template_name: string;
  template_language: string;
  template_status: string;
  phone_number_id: string;
  access_token: string;
  enabled: boolean;
}

interface Recipient {
  contact_id: string;
  wa_id: string;
  attempts: number;
}

type Outcome =
  | { contact_id: string; wamid: string }
  | { contact_id: string; retry: true; error: GraphErrorBody; attempts: number }
  | { contact_id: string; failed: string };

const describe = (e: GraphErrorBody) =>
  `${e.code ?? 'error'}${e.error_subcode ? `/${e.error_subcode}` : ''}: ${e.message ?? 'unknown'}`;

export function createBroadcastHandler(deps: BroadcastDeps) {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const sliceMs = deps.sliceMs ?? 20_000;
  const now = deps.now ?? Date.now;

  const load = (id: string) =>
    deps.db.asService(async (sql) => {
      const [row] = await sql.query<Broadcast>(
        `select b.id, b.tenant_id, b.status, b.messages_per_second, b.variables,
                t.name as template_name, t.language as template_language,
                t.status as template_status, c.phone_number_id, c.access_token, c.enabled
           from public.whatsapp_broadcasts b
           join public.whatsapp_templates t on t.id = b.template_id
           join public.whatsapp_connections c on c.id = b.connection_id
          where b.id = $1`,
        [id],
      );
      return row ?? null;
    });

  /** Ends the broadcast early: every recipient without an outcome fails with the reason. */
  const stop = (broadcast: Broadcast, reason: string) =>
    deps.db.asService(async (sql) => {
      await sql.query(
        `update public.whatsapp_broadcast_recipients
            set status = 'failed', reason = $2, updated_at = now()
          where broadcast_id = $1 and status in ('queued', 'sending')`,
        [broadcast.id, `broadcast stopped: ${reason}`],
      );
      await sql.query(
        `update public.whatsapp_broadcasts
            set status = 'stopped', stopped_reason = $2, finished_at = now()
          where id = $1`,
        [broadcast.id, reason],
      );
      return { stopped: reason };
    });

  /** Claims up to `limit` due recipients; opted-out contacts are skipped on the way. */
  const claim = (broadcast: Broadcast, limit: number) =>
    deps.db.asService(async (sql) => {
      await sql.query(
        `update public.whatsapp_broadcast_recipients r
            set status = 'skipped', reason = 'opted out', updated_at = now()
           from public.contacts k
          where r.broadcast_id = $1 and r.status = 'queued' and k.id = r.contact_id
            and (k.whatsapp_opted_out_at is not null or k.whatsapp_opt_in_at is null)`,
        [broadcast.id],
      );
      return sql.query<Recipient>(
        `update public.whatsapp_broadcast_recipients r
            set status = 'sending', attempts = r.attempts + 1, updated_at = now()
          where (r.broadcast_id, r.contact_id) in (
                  select broadcast_id, contact_id from public.whatsapp_broadcast_recipients
                   where broadcast_id = $1 and status = 'queued' and next_attempt_at <= now()
                   order by next_attempt_at, contact_id
                   limit $2 for update skip locked)
          returning r.contact_id, r.wa_id, r.attempts`,
        [broadcast.id, limit],
      );
    });

  /** A batch's outcomes in three statements, whatever its size. */
  const record = (broadcast: Broadcast, outcomes: Outcome[]) =>
    deps.db.asService(async (sql) => {
      const sent = outcomes.filter((o) => 'wamid' in o);
      const retry = outcomes.filter((o) => 'retry' in o);
      const failed = outcomes.filter((o) => 'failed' in o);
      if (sent.length) {
        // The wamids are registered so Meta's statuses find them; a status that came before this
        // commit is already there, and the recipient starts from it.
        await sql.query(
          `insert into private.whatsapp_messages (wamid, tenant_id, connection_id, direction, status, status_at)
           select w, $2, b.connection_id, 'out', 'sent', now()
             from unnest($3::text[]) w, public.whatsapp_broadcasts b where b.id = $1
           on conflict (wamid) do nothing`,
          [broadcast.id, broadcast.tenant_id, sent.map((o) => o.wamid)],
        );
        await sql.query(
          `update public.whatsapp_broadcast_recipients r
              set wamid = s.wamid, sent_at = now(), updated_at = now(),
                  status = coalesce(w.status, 'sent'),
                  reason = case when w.status = 'failed' then 'Meta reported a failure' end
             from unnest($2::uuid[], $3::text[]) as s(contact_id, wamid)
             left join private.whatsapp_messages w on w.wamid = s.wamid
            where r.broadcast_id = $1 and r.contact_id = s.contact_id`,
          [broadcast.id, sent.map((o) => o.contact_id), sent.map((o) => o.wamid)],
        );
      }
      if (retry.length) {
        await sql.query(
          `update public.whatsapp_broadcast_recipients r
              set status = 'queued', reason = s.reason, updated_at = now(),
                  next_attempt_at = now() + make_interval(secs => s.delay)
             from unnest($2::uuid[], $3::text[], $4::float8[]) as s(contact_id, reason, delay)
            where r.broadcast_id = $1 and r.contact_id = s.contact_id`,
          [
            broadcast.id,
            retry.map((o) => o.contact_id),
            retry.map((o) => describe(o.error)),
            retry.map((o) => Math.min(30, 2 ** o.attempts / 2)),
          ],
        );
      }
      if (failed.length) {
        await sql.query(
          `update public.whatsapp_broadcast_recipients r
              set status = 'failed', reason = s.reason, updated_at = now()
             from unnest($2::uuid[], $3::text[]) as s(contact_id, reason)
            where r.broadcast_id = $1 and r.contact_id = s.contact_id`,
          [
            broadcast.id,
            failed.map((o) => o.contact_id),
            failed.map((o) => o.failed.slice(0, 1000)),
          ],
        );
      }
    });

  async function sendOne(broadcast: Broadcast, r: Recipient): Promise<Outcome | 'token_dead'> {
    let answer: Awaited<ReturnType<typeof readGraphAnswer>>;
    try {
      answer = await readGraphAnswer(
        await sendMessage(
          deps,
          broadcast,
          templateMessage(
            r.wa_id,
            broadcast.template_name,
            broadcast.template_language,
            broadcast.variables,
          ),
        ),
      );
    } catch (error) {
      // The request never got an answer: tried again like a rate limit.
      return {
        contact_id: r.contact_id,
        retry: true,
        error: { message: String((error as Error).message ?? error) },
        attempts: r.attempts,
      };
    }
    if (answer.ok) {
      const wamid = (answer.body as { messages?: { id?: string }[] } | null)?.messages?.[0]?.id;
      return wamid
        ? { contact_id: r.contact_id, wamid }
        : { contact_id: r.contact_id, failed: 'accepted without a wamid' };
    }
    if (answer.status === 401 || TOKEN_DEAD.has(answer.error.code ?? -1)) return 'token_dead';
    if (answer.retry && r.attempts < MAX_ATTEMPTS)
      return { contact_id: r.contact_id, retry: true, error: answer.error, attempts: r.attempts };
    return { contact_id: r.contact_id, failed: describe(answer.error) };
  }

  return async (job: Job) => {
    const { broadcast_id } = payload.parse(job.payload);
    const started = now();
    let broadcast = await load(broadcast_id);
    if (!broadcast) return { skipped: 'broadcast_gone' };
    if (!['scheduled', 'sending'].includes(broadcast.status))
      return { skipped: `broadcast_${broadcast.status}` };
    if (!broadcast.enabled) return stop(broadcast, 'the WhatsApp connection is disabled');
    if (broadcast.template_status !== 'APPROVED')
      return stop(broadcast, `the template is ${broadcast.template_status}`);
    await deps.db.asService((sql) =>
      sql.query(
        `update public.whatsapp_broadcasts
            set status = 'sending', started_at = coalesce(started_at, now())
          where id = $1 and status in ('scheduled', 'sending');
         `,
        [broadcast_id],
      ),
    );
    // A job that died mid-batch left its recipients `sending`: they are tried again.
    await deps.db.asService((sql) =>
      sql.query(
        `update public.whatsapp_broadcast_recipients set status = 'queued'
          where broadcast_id = $1 and status = 'sending'
            and updated_at < now() - make_interval(secs => $2)`,
        [broadcast_id, STALE_SENDING_SECONDS],
      ),
    );

    // The pace starts at the broadcast's rate; Meta's rate-limit answers bring it down to what got
    // through, and each clean second brings it back up by a tenth.
    let pace = broadcast.messages_per_second;
    let sent = 0;
    let limited = 0;
    while (now() - started < sliceMs) {
      const batchStart = now();
      const batch = await claim(broadcast, pace);
      const gap = 1000 / pace;
      if (batch.length === 0) break;
      // Spread over the second: the i-th message leaves i/rate seconds into the batch.
      const results = await Promise.all(
        batch.map(async (r, i) => {
          const wait = batchStart + i * gap - now();
          if (wait > 0) await sleep(wait);
          return sendOne(broadcast as Broadcast, r);
        }),
      );
      if (results.includes('token_dead')) {
        // What Meta accepted before the refusal is recorded; everything else stops here.
        await record(
          broadcast,
          results.filter((r): r is Outcome => r !== 'token_dead' && 'wamid' in r),
        );
        return stop(broadcast, 'Meta refused the access token; the broadcast stopped');
      }
      const outcomes = results as Outcome[];
      await record(broadcast, outcomes);
      sent += outcomes.filter((o) => 'wamid' in o).length;
      const slowed = outcomes.filter((o) => 'retry' in o).length;
      limited += slowed;
      const rest = batchStart + 1000 - now();
      if (slowed > 0) {
        pace = Math.max(1, batch.length - slowed);
        // Meta said slow down: its window empties before the next batch.
        await sleep(Math.max(rest, 0) + 1000);
      } else {
        pace = Math.min(broadcast.messages_per_second, Math.ceil(pace * 1.1));
        if (rest > 0) await sleep(rest);
      }
      const current = await load(broadcast_id);
      if (current?.status !== 'sending') return { sent, limited, paused: true };
      broadcast = current;
    }

    const [left] = await deps.db.asService((sql) =>
      sql.query<{ open: number; due: Date | null }>(
        `select count(*)::int as open,
                least(min(next_attempt_at) filter (where status = 'queued'),
                      min(updated_at + make_interval(secs => $2)) filter (where status = 'sending'))
                  as due
           from public.whatsapp_broadcast_recipients
          where broadcast_id = $1 and status in ('queued', 'sending')`,
        [broadcast_id, STALE_SENDING_SECONDS],
      ),
    );
    if (left && left.open > 0) {
      await deps.db.asService((sql) =>
        sql.query(
          `select private.enqueue_job($1, $2::jsonb, $3, greatest(now(), coalesce($4::timestamptz, now())), $5, 10, null)`,
          [
            BROADCAST_JOB,
            { broadcast_id },
            broadcast.tenant_id,
            left.due,
            `broadcast:${broadcast_id}`,
          ],
        ),
      );
      return { sent, limited, remaining: left.open };
    }
    await deps.db.asService((sql) =>
      sql.query(
        `update public.whatsapp_broadcasts set status = 'completed', finished_at = now()
          where id = $1 and status = 'sending'`,
        [broadcast_id],
      ),
    );
    return { sent, limited, completed: true };
  };
}
