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
}

/**
 * Work for one kind of job. Throwing fails the attempt (retried with backoff, then dead); the
 * returned value is the job's result unless the handler completed the job itself.
 */
export type JobHandler = (job: Job, run?: JobRun) => Promise<unknown>;
