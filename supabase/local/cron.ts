import { type CronJob, runCronJob } from './cron-run.ts';
import { nextCronTime, parseSchedule, type Schedule } from './cron-schedule.ts';
import { whenIdle } from './idle-session.ts';
import type { BackgroundService, LocalServices } from './services.ts';

// The pg_cron stand-in: runs the active rows of cron.job on their schedules.
//
// Timing follows pg_cron 1.6. A cron schedule runs at the start of each matching minute (GMT); an
// interval job runs as soon as it is loaded and then every N seconds. A job runs one instance at
// a time: a run that falls due while the previous one is still going is queued and starts when
// it ends (pg_cron queues one such run for interval jobs and one per missed minute for cron
// ones). Unlike pg_cron, interval runs keep to the grid of their first run instead of counting
// from the last start, so they do not drift by the time it takes to start each run.

const RELOAD_EVERY_MS = 5_000; // catches edits to cron.job made without cron.schedule & co.
const CATCH_UP_MS = 5 * 60_000; // like Vixie cron, missed minutes run only after a small gap

interface Task {
  job: CronJob;
  schedule: Schedule;
  /** When it next falls due (epoch ms); null for never. */
  due: number | null;
  running: boolean;
  /** Runs that fell due while one was running. */
  queued: number;
}

type JobRow = [string, string, string, string, string, string | null];

export function startCron(services: LocalServices): BackgroundService {
  const { pg, log } = services;
  const tasks = new Map<number, Task>();
  const runs = new Set<Promise<void>>();
  const warned = new Set<string>();
  const stopping = new AbortController();
  let sessionUser = 'postgres';
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reloadDue = 0;
  let reloading: Promise<void> | null = null;
  let reloadAgain = false;
  let firstLoad = true;
  let unlisten: (() => Promise<void>) | undefined;

  const loadJobs = () =>
    whenIdle(
      pg,
      (s) =>
        s.rows(`select jobid, schedule, command, database, username, jobname
                  from cron.job where active order by jobid`),
      stopping.signal,
    ) as Promise<JobRow[]>;

  function firstDue(schedule: Schedule, now: number): number | null {
    if (schedule.kind === 'interval') return now;
    if (schedule.kind === 'reboot') return firstLoad ? now : null;
    return nextCronTime(schedule.fields, now);
  }

  function reconcile(rows: JobRow[]) {
    const now = Date.now();
    const active = new Set<number>();
    for (const [id, scheduleText, command, database, username, jobname] of rows) {
      const job: CronJob = {
        jobid: Number(id),
        schedule: scheduleText,
        command,
        database,
        username,
        jobname,
      };
      const known = tasks.get(job.jobid);
      if (known?.job.schedule === job.schedule) {
        known.job = job;
        active.add(job.jobid);
        continue;
      }
      let schedule: Schedule;
      try {
        schedule = parseSchedule(job.schedule);
      } catch (error) {
        const key = `${job.jobid}:${job.schedule}`;
        if (!warned.has(key)) log(`pg_cron: job ${job.jobid} is not scheduled`, error);
        warned.add(key);
        continue;
      }
      active.add(job.jobid);
      const due = firstDue(schedule, now);
      if (known) Object.assign(known, { job, schedule, due });
      else tasks.set(job.jobid, { job, schedule, due, running: false, queued: 0 });
    }
    // A run in progress finishes; the job is just not run again.
    for (const id of tasks.keys()) if (!active.has(id)) tasks.delete(id);
    firstLoad = false;
  }

  function reload() {
    if (stopping.signal.aborted) return;
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloadDue = Date.now() + RELOAD_EVERY_MS;
    reloading = loadJobs()
      .then(reconcile)
      .catch((error) => {
        if (!stopping.signal.aborted) log('pg_cron: could not load cron.job', error);
      })
      .finally(() => {
        reloading = null;
        if (stopping.signal.aborted) return;
        if (reloadAgain) {
          reloadAgain = false;
          reload();
        } else arm();
      });
  }

  function start(task: Task) {
    task.running = true;
    const run = runCronJob(pg, task.job, sessionUser, stopping.signal)
      .catch((error) => {
        if (!stopping.signal.aborted) log(`pg_cron: job ${task.job.jobid} could not run`, error);
      })
      .finally(() => {
        runs.delete(run);
        task.running = false;
        if (task.queued > 0 && tasks.get(task.job.jobid) === task && !stopping.signal.aborted) {
          task.queued--;
          start(task);
        }
      });
    runs.add(run);
  }

  function fire(task: Task) {
    if (!task.running) start(task);
    else if (task.schedule.kind !== 'interval') task.queued++;
    else task.queued = 1;
  }

  function fireDue(task: Task, now: number) {
    const { schedule } = task;
    while (task.due !== null && task.due <= now) {
      if (schedule.kind === 'cron') {
        if (now - task.due <= CATCH_UP_MS) fire(task);
        task.due = nextCronTime(schedule.fields, task.due);
      } else if (schedule.kind === 'interval') {
        fire(task);
        const step = schedule.seconds * 1000;
        task.due += step * (Math.floor((now - task.due) / step) + 1);
      } else {
        fire(task);
        task.due = null;
      }
    }
  }

  function tick() {
    timer = undefined;
    if (stopping.signal.aborted) return;
    const now = Date.now();
    for (const task of tasks.values()) fireDue(task, now);
    if (now >= reloadDue) reload();
    arm();
  }

  function arm() {
    if (stopping.signal.aborted) return;
    clearTimeout(timer);
    let next = reloadDue;
    for (const task of tasks.values()) if (task.due !== null && task.due < next) next = task.due;
    timer = setTimeout(tick, Math.max(0, next - Date.now()));
  }

  const started = (async () => {
    const [[user] = []] = await whenIdle(
      pg,
      async (s) => {
        // pg_cron does this when it starts: runs cut short by a shutdown never finish.
        await s.rows(`update cron.job_run_details set status = 'failed',
                        return_message = 'server restarted'
                       where status in ('starting', 'running')`);
        return s.rows('select session_user');
      },
      stopping.signal,
    );
    if (user) sessionUser = user;
    try {
      unlisten = await pg.listen('cron_changed', () => reload());
    } catch (error) {
      log('pg_cron: cannot LISTEN; changes to jobs show on the next reload', error);
    }
    reload();
  })().catch((error) => {
    if (!stopping.signal.aborted) log('pg_cron: could not start', error);
  });

  return {
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await started;
      await unlisten?.();
      await reloading;
      await Promise.all(runs);
    },
  };
}
