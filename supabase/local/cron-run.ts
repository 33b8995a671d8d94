import type { PGlite } from '@electric-sql/pglite';
import {
  type IdleSession,
  identifier,
  literal,
  type ServerError,
  type Statement,
  whenIdle,
} from './idle-session.ts';

// One run of a pg_cron job, recorded in cron.job_run_details the way pg_cron 1.6 records it when
// it runs jobs over libpq (its default): a 'running' row with the start time, then 'succeeded'
// with "N row(s)" or the command tag of the last result, or 'failed' with libpq's error text.

export interface CronJob {
  jobid: number;
  schedule: string;
  command: string;
  database: string;
  username: string;
  jobname: string | null;
}

type Result = { status: 'succeeded' | 'failed'; message: string };

export async function runCronJob(
  pg: PGlite,
  job: CronJob,
  sessionUser: string,
  signal?: AbortSignal,
): Promise<void> {
  // Its own statement, committed before the command starts, so the run shows while it lasts.
  const [[runid] = []] = await whenIdle(
    pg,
    (s) =>
      s.rows(`insert into cron.job_run_details
                (jobid, job_pid, database, username, command, status, start_time)
              values (${literal(job.jobid)}, pg_backend_pid(), ${literal(job.database)},
                      ${literal(job.username)}, ${literal(job.command)}, 'running', now())
              returning runid`),
    signal,
  );
  await whenIdle(
    pg,
    async (s) => {
      const result = await execute(s, job, sessionUser);
      await s.rows(`update cron.job_run_details
                       set status = ${literal(result.status)},
                           return_message = ${literal(result.message)},
                           end_time = now()
                     where runid = ${literal(Number(runid))}`);
    },
    signal,
  );
}

async function execute(s: IdleSession, job: CronJob, sessionUser: string): Promise<Result> {
  // pg_cron connects as the job's user; this session already is the superuser, so other users
  // are taken on with SET ROLE for the duration of the command.
  const otherUser = job.username !== sessionUser;
  if (otherUser) {
    const { error } = await s.run(`set role ${identifier(job.username)}`);
    if (error) return { status: 'failed', message: errorMessage(error) };
  }
  try {
    const { statements, error } = await s.run(job.command);
    if (error) return { status: 'failed', message: errorMessage(error) };
    return { status: 'succeeded', message: returnMessage(statements.at(-1)) };
  } finally {
    // pg_cron closes its connection after the command, which rolls back whatever transaction
    // the command left open; this session lives on, so that has to be done by hand.
    if (s.inTransaction()) await s.run('rollback');
    if (otherUser) await s.run('reset role');
  }
}

/** What pg_cron stores for a successful result: PQcmdStatus, or "N row(s)" for a row set. */
export function returnMessage(last: Statement | undefined): string {
  if (last?.rows) return `${last.rows.length} ${last.rows.length === 1 ? 'row' : 'rows'}`;
  return last?.tag || '0 rows';
}

/** libpq's PQresultErrorMessage at its default verbosity, without the "LINE n:" excerpt. */
export function errorMessage(e: ServerError): string {
  let text = `${e.severity ?? 'ERROR'}:  ${e.message}\n`;
  if (e.detail) text += `DETAIL:  ${e.detail}\n`;
  if (e.hint) text += `HINT:  ${e.hint}\n`;
  if (e.internalQuery) text += `QUERY:  ${e.internalQuery}\n`;
  if (e.where) text += `CONTEXT:  ${e.where}\n`;
  return text;
}
