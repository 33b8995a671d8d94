import { literal, whenIdle } from './idle-session.ts';
import { type NetRequest, type NetResponse, sendNetRequest } from './net-http.ts';
import type { BackgroundService, LocalServices } from './services.ts';

// The pg_net stand-in: sends the rows of net.http_request_queue and records the outcomes in
// net._http_response. Rows are taken only once committed (the queue is read while no transaction
// is open, see idle-session.ts), a batch at a time like pg_net's worker, and deleted in the same
// statement. No transaction stays open while a request is under way.

const BATCH_SIZE = 200; // pg_net.batch_size
const CONCURRENCY = 10;
const POLL_MS = 1_000; // backstop for a missed NOTIFY
const TTL = '6 hours'; // pg_net.ttl
const EXPIRE_EVERY_MS = 60_000;
const STOP_GRACE_MS = 2_000;

type QueueRow = [string, string, string, string | null, string | null, string];

const CLAIM = `
  with batch as (select id from net.http_request_queue order by id limit ${BATCH_SIZE})
  delete from net.http_request_queue q using batch where q.id = batch.id
  returning q.id, q.method, q.url, q.headers::text, encode(q.body, 'hex'), q.timeout_milliseconds`;

function toRequest([id, method, url, headers, body, timeout]: QueueRow): NetRequest {
  return {
    id: Number(id),
    method,
    url,
    headers: headers === null ? null : JSON.parse(headers),
    body: body === null ? null : Uint8Array.from(body.match(/../g) ?? [], (h) => parseInt(h, 16)),
    timeoutMs: Number(timeout),
  };
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function insertResponse(r: NetResponse): string {
  const headers = r.headers === null ? 'null' : `${literal(JSON.stringify(r.headers))}::jsonb`;
  return `insert into net._http_response
            (id, status_code, content_type, headers, content, timed_out, error_msg)
          values (${literal(r.id)}, ${literal(r.statusCode)}, ${literal(r.contentType)}, ${headers},
                  ${literal(r.content)}, ${literal(r.timedOut)}, ${literal(r.errorMsg)})`;
}

// pg_net sends a batch inside a transaction, so a batch cut short by a shutdown is rolled back
// into the queue and sent after the restart; requests not answered by then go back the same way.
function requeue(rows: NetRequest[]): string {
  const values = rows.map(
    (r) =>
      `(${literal(r.id)}, ${literal(r.method)}, ${literal(r.url)},
        ${r.headers === null ? 'null' : `${literal(JSON.stringify(r.headers))}::jsonb`},
        ${r.body === null ? 'null' : `decode(${literal(hex(r.body))}, 'hex')`},
        ${literal(r.timeoutMs)})`,
  );
  return `insert into net.http_request_queue (id, method, url, headers, body, timeout_milliseconds)
          values ${values.join(', ')} on conflict (id) do nothing`;
}

export function startNetDrainer(services: LocalServices): BackgroundService {
  const { pg, log } = services;
  const stopping = new AbortController(); // no new batches
  const cancelling = new AbortController(); // requests still under way after the grace period
  const inFlight = new Set<Promise<void>>();
  const unsent: NetRequest[] = [];
  let wake: (() => void) | undefined;
  let woken = false;
  let expireDue = 0;

  const nudge = () => {
    woken = true;
    wake?.();
  };
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener('abort', () => {
      nudge();
      resolve();
    }),
  );

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const sql = (text: string, signal: AbortSignal) => whenIdle(pg, (s) => s.rows(text), signal);

  function send(request: NetRequest) {
    const work = sendNetRequest(request, cancelling.signal)
      .then(async (response) => {
        if (response) await sql(insertResponse(response), cancelling.signal);
        else unsent.push(request);
      })
      .catch((error) => {
        if (!cancelling.signal.aborted) log(`pg_net: request ${request.id} not recorded`, error);
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  }

  async function expire() {
    expireDue = Date.now() + EXPIRE_EVERY_MS;
    await sql(
      `delete from net._http_response where created < now() - interval '${TTL}'`,
      stopping.signal,
    );
  }

  async function drain() {
    while (!stopping.signal.aborted) {
      woken = false;
      if (Date.now() >= expireDue) await expire();
      const batch = ((await sql(CLAIM, stopping.signal)) as QueueRow[]).map(toRequest);
      batch.sort((a, b) => a.id - b.id);
      for (const request of batch) {
        while (inFlight.size >= CONCURRENCY && !stopping.signal.aborted) {
          await Promise.race([...inFlight, stopped]);
        }
        if (stopping.signal.aborted) unsent.push(request);
        else send(request);
      }
      if (batch.length < BATCH_SIZE && !woken) await sleep(POLL_MS);
    }
  }

  let unlisten: (() => Promise<void>) | undefined;
  const running = (async () => {
    try {
      unlisten = await pg.listen('net_request', nudge);
    } catch (error) {
      log('pg_net: cannot LISTEN; requests go out on the next poll', error);
    }
    for (;;) {
      try {
        await drain();
        return;
      } catch (error) {
        if (stopping.signal.aborted) return;
        log('pg_net: the queue could not be read', error);
        await sleep(POLL_MS);
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await running;
      await unlisten?.();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise((resolve) => {
        timer = setTimeout(resolve, STOP_GRACE_MS);
      });
      await Promise.race([Promise.all(inFlight), grace]);
      clearTimeout(timer);
      cancelling.abort();
      await Promise.all(inFlight);
      if (unsent.length > 0) {
        await sql(requeue(unsent), AbortSignal.timeout(STOP_GRACE_MS)).catch((error) =>
          log(`pg_net: ${unsent.length} unsent requests were lost`, error),
        );
      }
    },
  };
}
