import type { Db } from '../db/port.ts';
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

  /**
   * The next due job, or when there is none the seconds until the earliest lease in the drain's
   * scope runs out (null when none is held): one statement, so an empty queue costs one round trip.
   */
  async function claim(
    options: DrainOptions,
  ): Promise<{ job: Job | null; leaseSeconds: number | null }> {
    const [row] = await db.asService((sql) =>
      sql.query<{ job: Job | null; seconds: number | null }>(
        // A function, so the statement's plan is kept for the session (private.claim_next_job).
        'select job, seconds from private.claim_next_job($1, $2::interval, $3::text[], $4)',
        [workerId, lease, options.kinds ?? null, options.orderingKey ?? null],
      ),
    );
    return { job: row?.job ?? null, leaseSeconds: row?.seconds ?? null };
  }

  async function work(job: Job): Promise<boolean> {
    const handler = handlers[job.kind];
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
      const run: JobRun = { worker: workerId, completed: false };
      const result = await handler(job, run);
      if (run.completed) return true;
      await db.asService((sql) =>
        sql.query('select private.complete_job($1, $2, $3::jsonb)', [
          job.id,
          workerId,
          result ?? null,
        ]),
      );
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`job ${job.id} (${job.kind}) failed`, error);
      await db
        .asService((sql) =>
          sql.query('select private.fail_job($1, $2, $3)', [job.id, workerId, message]),
        )
        .catch((failError) => log(`could not record the failure of job ${job.id}`, failError));
      return false;
    } finally {
      clearInterval(renew);
    }
  }

  return {
    async drain(options: DrainOptions = {}): Promise<DrainResult> {
      const result: DrainResult = { processed: 0, succeeded: 0, failed: 0 };
      const deadline = Date.now() + (options.maxMs ?? 25_000);
      let waited = false;
      while (result.processed < (options.maxJobs ?? 50) && Date.now() < deadline) {
        const { job, leaseSeconds: seconds } = await claim(options);
        if (!job) {
          // A lease running out soon may belong to a runner that died: its job, and whatever is
          // queued behind it, would otherwise wait for the next scheduled worker run. One wait
          // per dry spell: a lease renewed meanwhile means its runner is alive and on it.
          if (waited) break;
          waited = true;
          if (seconds === null || seconds > leaseSeconds) break;
          const waitMs = Math.max(0, seconds * 1000) + 100;
          if (Date.now() + waitMs >= deadline) break;
          await sleep(waitMs);
          continue;
        }
        waited = false;
        result.processed++;
        if (await work(job)) result.succeeded++;
        else result.failed++;
      }
      return result;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
