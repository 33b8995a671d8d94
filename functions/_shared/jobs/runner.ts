import type { Db, Sql } from '../db/port.ts';
import type { Job, JobHandler, JobRun } from './types.ts';

// Claims due jobs one at a time and works them: the same loop serves the `worker` function (any
// due job) and a request that just enqueued work and wants it done now (its ordering key only).
// A job's lease is renewed by a heartbeat while its handler runs, so only a runner that really
// died loses it, and a short lease means a dead runner's jobs (and the conversations queued
// behind them) wait seconds, not minutes.

/** Short enough that a crash stalls a conversation for seconds; three heartbeats fit in it. */
export const DEFAULT_LEASE_SECONDS = 6;

/** The lease from JOB_LEASE_SECONDS (tests shorten it), else the default. */
export function leaseSecondsFrom(env: Readonly<Record<string, string | undefined>>): number {
  const value = Number(env.JOB_LEASE_SECONDS);
  return Number.isFinite(value) && value >= 1 && value <= 600 ? value : DEFAULT_LEASE_SECONDS;
}

/**
 * How often a drain waiting on another runner's lease looks again. Most leases it finds belong
 * to a live runner finishing a job in milliseconds (a request working its own conversation), so
 * sleeping out the whole lease would idle the drain for seconds.
 */
const LEASE_POLL_MS = 250;
/** How long past a lease's end the last look comes: the database's clock runs apart from ours. */
const LEASE_GRACE_MS = 100;

export interface JobRunnerOptions {
  db: Db;
  handlers: Record<string, JobHandler>;
  workerId: string;
  /** How long a claimed job stays leased without a heartbeat; heartbeats come thrice per lease. */
  leaseSeconds?: number;
  log?: (message: string, error?: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface DrainOptions {
  orderingKey?: string;
  kinds?: string[];
  /** Stop claiming after this many jobs. */
  maxJobs?: number;
  /** Stop claiming new jobs after this many milliseconds (a running one is finished). */
  maxMs?: number;
}

export interface DrainResult {
  processed: number;
  succeeded: number;
  failed: number;
}

export function createJobRunner({
  db,
  handlers,
  workerId,
  leaseSeconds = DEFAULT_LEASE_SECONDS,
  log = console.error,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}: JobRunnerOptions) {
  const lease = `${leaseSeconds} seconds`;

  interface Claim {
    job: Job | null;
    leaseSeconds: number | null;
    loaded?: unknown;
  }

  /**
   * The next due job, or when there is none the seconds until the earliest lease in the drain's
   * scope runs out (null when none is held): one statement, so an empty queue costs one round trip.
   */
  async function claimIn(sql: Sql, options: DrainOptions): Promise<Claim> {
    const [row] = await sql.query<{ job: Job | null; seconds: number | null }>(
      // A function, so the statement's plan is kept for the session (private.claim_next_job).
      'select job, seconds from private.claim_next_job($1, $2::interval, $3::text[], $4)',
      [workerId, lease, options.kinds ?? null, options.orderingKey ?? null],
    );
    return { job: row?.job ?? null, leaseSeconds: row?.seconds ?? null };
  }

  /** Claims, and reads what the job's handler reads first in the same transaction. */
  async function claim(options: DrainOptions): Promise<Claim> {
    try {
      return await db.asService(async (sql) => {
        const claimed = await claimIn(sql, options);
        const load = claimed.job ? handlers[claimed.job.kind]?.load : undefined;
        if (claimed.job && load) claimed.loaded = await load(sql, claimed.job);
        return claimed;
      });
    } catch (error) {
      // The claim went with the failed read: claimed again, the handler reads (and fails) itself,
      // and the attempt is counted.
      log('could not read ahead for a claimed job; claiming it without', error);
      return db.asService((sql) => claimIn(sql, options));
    }
  }

  /** Works one job; a handler that completed it may have claimed the next one as well. */
  async function work(
    { job, loaded }: Claim & { job: Job },
    claimNext: (sql: Sql) => Promise<Claim | null>,
  ): Promise<{ ok: boolean; next: Claim | null }> {
    const handler = handlers[job.kind];
    let next: Claim | null = null;
    const renew = setInterval(
      () => {
        db.asService((sql) =>
          sql.query<{ held: boolean }>(
            'select private.extend_job_lease($1, $2, $3::interval) as held',
            [job.id, workerId, lease],
          ),
        )
          .then(([row]) => {
            if (row && !row.held) log(`job ${job.id} lost its lease; another runner may retry it`);
          })
          .catch((error) => log(`could not renew the lease of job ${job.id}`, error));
      },
      (leaseSeconds * 1000) / 3,
    );
    try {
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
      const run: JobRun = {
        worker: workerId,
        completed: false,
        ...(loaded === undefined ? {} : { loaded }),
        claimNext: async (sql: Sql) => {
          next = await claimNext(sql);
        },
      };
      const result = await handler(job, run).finally(() => {
        // A next job is only leased once the write that claimed it committed with the completion.
        if (!run.completed) next = null;
      });
      if (run.completed) return { ok: true, next };
      await db.asService((sql) =>
        sql.query('select private.complete_job($1, $2, $3::jsonb)', [
          job.id,
          workerId,
          result ?? null,
        ]),
      );
      return { ok: true, next: null };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`job ${job.id} (${job.kind}) failed`, error);
      await db
        .asService((sql) =>
          sql.query('select private.fail_job($1, $2, $3)', [job.id, workerId, message]),
        )
        .catch((failError) => log(`could not record the failure of job ${job.id}`, failError));
      return { ok: false, next };
    } finally {
      clearInterval(renew);
    }
  }

  return {
    async drain(options: DrainOptions = {}): Promise<DrainResult> {
      const result: DrainResult = { processed: 0, succeeded: 0, failed: 0 };
      const deadline = Date.now() + (options.maxMs ?? 25_000);
      // When the lease this drain waits on runs out, by this clock; null while not waiting.
      let waitingFor: number | null = null;
      const maxJobs = options.maxJobs ?? 50;
      let next: Claim | null = null;
      while (result.processed < maxJobs && Date.now() < deadline) {
        // The database measured the lease against its clock somewhere between asking and the
        // answer; how long the answer took (a busy event loop, a queued session) is not the
        // lease's doing.
        const asked = next ? null : Date.now();
        const claimed: Claim = next ?? (await claim(options));
        next = null;
        const { job, leaseSeconds: seconds } = claimed;
        if (!job) {
          const left = seconds === null ? null : Math.max(0, seconds * 1000);
          // The latest the lease can end, to wait for it; the earliest, to tell it was renewed.
          const expires = left === null ? null : Date.now() + left;
          const earliest = left === null ? null : (asked ?? Date.now()) + left;
          if (waitingFor === null) {
            // A lease running out soon may belong to a runner that died: its job, and whatever
            // is queued behind it, would otherwise wait for the next scheduled worker run. One
            // wait per dry spell.
            if (seconds === null || expires === null || seconds > leaseSeconds) break;
            if (expires + LEASE_GRACE_MS >= deadline) break;
            waitingFor = expires;
          } else if (
            // The wait ends early when the lease is gone (its job finished: the runner was
            // alive, usually within milliseconds) or renewed (alive and on it), and after one
            // look past its end.
            earliest === null ||
            earliest > waitingFor ||
            Date.now() >= waitingFor + LEASE_GRACE_MS
          ) {
            break;
          }
          await sleep(
            Math.min(LEASE_POLL_MS, Math.max(0, waitingFor + LEASE_GRACE_MS - Date.now())),
          );
          continue;
        }
        waitingFor = null;
        result.processed++;
        // Only while this drain would claim again anyway.
        const mayClaimNext = () => result.processed < maxJobs && Date.now() < deadline;
        const worked = await work({ ...claimed, job }, async (sql) =>
          mayClaimNext() ? claimIn(sql, options) : null,
        );
        if (worked.ok) result.succeeded++;
        else result.failed++;
        next = worked.next;
      }
      return result;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
