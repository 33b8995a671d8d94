import type { FunctionContext } from '../platform/context.ts';
import { createJobRunner, leaseSecondsFrom } from './runner.ts';
import type { JobHandler } from './types.ts';

/**
 * A job runner for a function that works jobs (chat right away, worker later). The handlers come
 * from the caller, so the queue knows no job kind and a new kind never touches it.
 */
export function createContextRunner(
  context: FunctionContext,
  name: string,
  handlers: Record<string, JobHandler>,
) {
  return createJobRunner({
    db: context.db,
    handlers,
    workerId: `${name}:${crypto.randomUUID()}`,
    leaseSeconds: leaseSecondsFrom(context.env),
    log: context.log,
  });
}
