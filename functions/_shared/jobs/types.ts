import type { Sql } from '../db/port.ts';

export interface Job {
  id: number;
  tenant_id: string | null;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
  ordering_key: string | null;
}

/**
 * The runner's side of one attempt. A handler whose last write can carry the job's completion
 * (private.complete_job with this worker) sets `completed` once that write committed: the work and
 * its completion then commit together, and the runner does not complete the job again.
 */
export interface JobRun {
  readonly worker: string;
  completed: boolean;
  /** What the handler's `load` read in the transaction that claimed the job (undefined: not read). */
  loaded?: unknown;
  /**
   * For a handler that completes its job itself: claims the runner's next job inside that same
   * transaction, so the runner's look for more work costs no transaction of its own (nothing is
   * claimed when the drain will take no more jobs).
   */
  claimNext?: (sql: Sql) => Promise<void>;
}

/**
 * Work for one kind of job. Throwing fails the attempt (retried with backoff, then dead); the
 * returned value is the job's result unless the handler completed the job itself.
 */
export type JobHandler = ((job: Job, run?: JobRun) => Promise<unknown>) & {
  /**
   * What the handler reads first, read in the transaction that claims the job (one transaction
   * fewer); the handler finds it as `run.loaded`. Should it fail, the job is claimed again without
   * it and the handler reads for itself.
   */
  load?: (sql: Sql, job: Job) => Promise<unknown>;
};
