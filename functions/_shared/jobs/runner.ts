import type { Db } from '../db/port.ts';
import type { Job, JobHandler } from './types.ts';

// Claims due jobs one at a time and works them: the same loop serves the `worker` function (any
// due job) and a request that just enqueued work and wants it done now (its ordering key only).
// A job's lease is renewed while its handler runs, so only a worker that really died loses it.

export interface JobRunnerOptions {
  db: Db;
  handlers: Record<string, JobHandler>;
  workerId: string;
  leaseSeconds?: number;
  log?: (message: string, error?: unknown) => void;
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
  leaseSeconds = 60,
  log = console.error,
}: JobRunnerOptions) {
  const lease = `${leaseSeconds} seconds`;

  async function claim(options: DrainOptions): Promise<Job | null> {
    const [job] = await db.asService((sql) =>
      sql.query<Job>(
        'select id, tenant_id, kind, payload, attempts, max_attempts, ordering_key from private.claim_jobs($1, 1, $2::interval, $3::text[], $4)',
        [workerId, lease, options.kinds ?? null, options.orderingKey ?? null],
      ),
    );
    return job ?? null;
  }

  async function work(job: Job): Promise<boolean> {
    const handler = handlers[job.kind];
    const renew = setInterval(
      () => {
        db.asService((sql) =>
          sql.query('select private.extend_job_lease($1, $2, $3::interval)', [
            job.id,
            workerId,
            lease,
          ]),
        ).catch((error) => log(`could not renew the lease of job ${job.id}`, error));
      },
      (leaseSeconds * 1000) / 3,
    );
    try {
      if (!handler) throw new Error(`no handler for job kind "${job.kind}"`);
      const result = await handler(job);
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
      while (result.processed < (options.maxJobs ?? 50) && Date.now() < deadline) {
        const job = await claim(options);
        if (!job) break;
        result.processed++;
        if (await work(job)) result.succeeded++;
        else result.failed++;
      }
      return result;
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
