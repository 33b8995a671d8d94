import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { parseSchedule } from '../../supabase/local/cron-schedule.ts';
import { freePort, type StackProcess, startStack } from '../support/stack.ts';

// The pg_cron and pg_net stand-ins of the local stack, driven through SQL on its Postgres endpoint
// as an operator would from psql or Studio, with a local HTTP server as the far end of pg_net.

type Hit = {
  at: number;
  method: string;
  url: string;
  headers: Record<string, unknown>;
  body: string;
};

let stack: StackProcess;
let db: Db;
let server: Server;
let base: string;
const hits: Hit[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2_000);
        return;
      }
      hits.push({
        at: Date.now(),
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      });
      res.setHeader('Content-Type', 'application/json');
      res.end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stack = await startStack();
  // PGlite is one session: one connection at a time.
  db = createPostgresDb(stack.dbUrl, { max: 1 });
});

afterAll(async () => {
  await db?.close();
  await stack?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

/** SQL as the postgres superuser, as from psql. */
function admin<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  return db.asService(async (sql) => {
    await sql.query('set local role postgres');
    return sql.query<T>(text, params);
  });
}

async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Run = {
  status: string;
  return_message: string | null;
  username: string;
  start_time: Date;
  end_time: Date | null;
};

const runsOf = (jobname: string) =>
  admin<Run>(
    `select d.status, d.return_message, d.username, d.start_time, d.end_time
       from cron.job_run_details d join cron.job j using (jobid)
      where j.jobname = $1 order by d.runid`,
    [jobname],
  );

type Response = {
  id: number;
  status_code: number | null;
  content_type: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timed_out: boolean | null;
  error_msg: string | null;
};

const responseTo = async (id: number) =>
  (await admin<Response>('select * from net._http_response where id = $1', [id]))[0];

describe('pg_cron', () => {
  it('runs the parley-worker job of the migrations, which calls the worker through pg_net', async () => {
    const succeeded = await eventually(
      async () => (await runsOf('parley-worker')).find((r) => r.status === 'succeeded'),
      12_000,
      'a succeeded parley-worker run',
    );
    expect(succeeded).toMatchObject({ username: 'postgres', return_message: '1 row' });
    expect(succeeded.end_time?.getTime()).toBeGreaterThanOrEqual(succeeded.start_time.getTime());

    // The job's command, run by hand, returns the request id the job's runs discard.
    const [secret] = await admin<{ url: string }>(
      "select decrypted_secret as url from vault.decrypted_secrets where name = 'parley_worker_url'",
    );
    expect(secret?.url).toBe(`${stack.url}/functions/v1/worker`);
    const [call] = await admin<{ id: number }>('select private.invoke_worker() as id');
    const response = await eventually(() => responseTo(call?.id ?? -1), 5_000, 'the response');
    // 404 for as long as there is no worker function; any HTTP status shows the call was made.
    expect(typeof response.status_code).toBe('number');
    expect(response).toMatchObject({ timed_out: false, error_msg: null });
    // The calls the job made before it were answered too.
    const earlier = await admin(
      'select 1 from net._http_response where id < $1 and status_code = $2',
      [call?.id, response.status_code],
    );
    expect(earlier.length).toBeGreaterThan(0);
  });

  it("runs a '1 seconds' job about every second, and its requests reach the server", async () => {
    hits.length = 0;
    const started = Date.now();
    await admin(
      `select cron.schedule('probe', '1 seconds',
         $$select net.http_post(url := '${base}/hook', body := '{"hello":"cron"}'::jsonb)$$)`,
    );
    await sleep(3_200);
    expect(hits.length).toBeGreaterThan(1);
    for (const hit of hits) {
      expect(hit).toMatchObject({ method: 'POST', url: '/hook' });
      expect(JSON.parse(hit.body)).toEqual({ hello: 'cron' });
      expect(hit.headers['content-type']).toBe('application/json');
      expect(hit.headers['user-agent']).toMatch(/^pg_net\//);
      expect(hit.at).toBeGreaterThanOrEqual(started);
    }

    const answered = await eventually(
      async () => {
        const rows = await admin<Response>(
          `select * from net._http_response where content = '{"received":true}'`,
        );
        return rows.length >= 2 && rows;
      },
      3_000,
      'recorded responses',
    );
    expect(answered[0]).toMatchObject({
      status_code: 200,
      content_type: 'application/json',
      timed_out: false,
      error_msg: null,
    });
    expect(answered[0]?.headers?.['content-type']).toBe('application/json');

    const runs = (await runsOf('probe')).filter((r) => r.status === 'succeeded');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.every((r) => r.return_message === '1 row')).toBe(true);
    // On a one-second grid from the first run, not one second after each run.
    const first = runs[0]?.start_time.getTime() ?? 0;
    runs.forEach((run, k) => {
      expect(Math.abs(run.start_time.getTime() - first - k * 1000)).toBeLessThan(500);
    });
  });

  it('records a failing job as failed and keeps running jobs', async () => {
    await admin(`select cron.schedule('boom', '1 seconds', 'select 1/0')`);
    const failed = await eventually(
      async () => {
        const rows = (await runsOf('boom')).filter((r) => r.status === 'failed');
        return rows.length >= 2 && rows;
      },
      5_000,
      'two failed runs',
    );
    expect(failed[0]).toMatchObject({
      status: 'failed',
      return_message: 'ERROR:  division by zero\n',
    });
    expect(failed[0]?.end_time).toBeInstanceOf(Date);

    const seen = hits.length;
    await eventually(async () => hits.length > seen, 3_000, 'the probe job to go on');
    await admin(`select cron.unschedule('boom')`);
  });

  it('stops a job when it is unscheduled', async () => {
    const [done] = await admin<{ unschedule: boolean }>(`select cron.unschedule('probe')`);
    expect(done?.unschedule).toBe(true);
    await sleep(500); // a request already queued may still go out
    const seen = hits.length;
    await sleep(2_000);
    expect(hits.length).toBe(seen);
    await expect(admin(`select cron.unschedule('probe')`)).rejects.toThrow(
      "could not find valid entry for job 'probe'",
    );
  });

  it('runs a job as its username', async () => {
    // Divides by zero unless it runs as service_role.
    const [job] = await admin<{ id: number }>(
      `select cron.schedule_in_database('as-service', '1 seconds',
         $$select 1 / (current_user = 'service_role')::int$$, current_database(), 'service_role') as id`,
    );
    const run = await eventually(
      async () => (await runsOf('as-service')).find((r) => r.status !== 'running'),
      5_000,
      'a finished run',
    );
    await admin('select cron.unschedule($1::bigint)', [job?.id]);
    expect(run).toMatchObject({
      status: 'succeeded',
      username: 'service_role',
      return_message: '1 row',
    });
  });

  it('runs one instance of a job at a time, queueing one run that falls due meanwhile', async () => {
    const [job] = await admin<{ id: number }>(
      `select cron.schedule('blocked', '1 seconds', 'select 1') as id`,
    );
    await eventually(
      async () => (await runsOf('blocked')).some((r) => r.status === 'succeeded'),
      5_000,
      'a first run',
    );
    // A transaction held open keeps the session from every run while four or five fall due.
    await db.asService(async (sql) => {
      await sql.query('select 1');
      await sleep(4_500);
    });
    const released = Date.now();
    await sleep(1_500);
    await admin(`select cron.unschedule('blocked')`);
    // Its runs stay in cron.job_run_details after the job is gone.
    const runs = await admin<Run>('select * from cron.job_run_details where jobid = $1', [job?.id]);
    const burst = runs.filter((r) => {
      const t = r.start_time.getTime();
      return t > released - 300 && t < released + 500;
    });
    // The run that was waiting, the one queued behind it, perhaps the next regular one; one run
    // per second missed would be four or more.
    expect(burst.length).toBeGreaterThanOrEqual(2);
    expect(burst.length).toBeLessThanOrEqual(3);
    expect(burst.every((r) => r.status === 'succeeded')).toBe(true);
  });

  it("refuses the schedules pg_cron refuses, and the scheduler reads cron.schedule's language", async () => {
    await expect(admin(`select cron.schedule('bad', '61 * * * *', 'select 1')`)).rejects.toThrow(
      'invalid schedule: 61 * * * *',
    );
    const schedules = [
      '* * * * *',
      '*/5 0-6 1,15 * mon-fri',
      '0 0 $ * *',
      '17 3 * * *',
      '@daily',
      '@reboot',
      '10 seconds',
      '1 second',
      '60 seconds',
      '1/20 * * * *',
      '* * * 13 *',
      '@Daily',
      '* * * *',
      '0 0 L * *',
    ];
    for (const schedule of schedules) {
      let parsed = true;
      try {
        parseSchedule(schedule);
      } catch {
        parsed = false;
      }
      const accepted = await admin('select cron.validate_schedule($1)', [schedule]).then(
        () => true,
        () => false,
      );
      expect({ schedule, accepted }).toEqual({ schedule, accepted: parsed });
    }
  });
});

describe('pg_net', () => {
  it('records a refused connection as an error', async () => {
    const port = await freePort();
    const [request] = await admin<{ id: number }>('select net.http_get($1) as id', [
      `http://127.0.0.1:${port}/`,
    ]);
    const response = await eventually(() => responseTo(request?.id ?? -1), 5_000, 'the response');
    expect(response).toMatchObject({
      status_code: null,
      timed_out: false,
      error_msg: "Couldn't connect to server",
    });
  });

  it('records a request that outlasts timeout_milliseconds as timed out', async () => {
    const [request] = await admin<{ id: number }>(
      'select net.http_get($1, timeout_milliseconds := 300) as id',
      [`${base}/slow`],
    );
    const response = await eventually(() => responseTo(request?.id ?? -1), 5_000, 'the response');
    expect(response).toMatchObject({ status_code: null, timed_out: true, content: null });
    expect(response.error_msg).toMatch(/^Timeout of 300 ms reached\. Total time: \d+\.\d+ ms$/);
  });

  it('sends params URL-encoded and headers as given', async () => {
    hits.length = 0;
    const [request] = await admin<{ id: number }>(
      `select net.http_post($1, body := '[1,2]'::jsonb, params := '{"q":"a b&c"}',
         headers := '{"Content-Type":"application/json","X-Trace":"t-1"}') as id`,
      [`${base}/hook`],
    );
    await eventually(() => responseTo(request?.id ?? -1), 5_000, 'the response');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ url: '/hook?q=a%20b%26c', body: '[1, 2]' });
    expect(hits[0]?.headers['x-trace']).toBe('t-1');
  });
});

describe('the stack', () => {
  it('stops promptly, with nothing logged by pg_cron or pg_net', async () => {
    await db.close();
    const started = Date.now();
    await stack.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(stack.output()).toContain('Stopping');
    expect(stack.output()).not.toMatch(/pg_cron:|pg_net:/);
  });
});
