export interface Job {
  id: number;
  tenant_id: string | null;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
  max_attempts: number;
  ordering_key: string | null;
}

/** Work for one kind of job. Throwing fails the attempt (retried with backoff, then dead). */
export type JobHandler = (job: Job) => Promise<unknown>;
