import type { Db } from '../db/port.ts';
import type { Job, JobHandler } from '../jobs/types.ts';
import { OutboundRefusedError } from '../net/outbound.ts';
import { signRequest } from './signature.ts';

/**
 * Sends one row of public.webhook_deliveries to its endpoint (docs/webhooks.md). The row was
 * written by the database in the transaction that made the event; this job only posts it, signed
 * with the endpoint's secret, under the row's id as webhook-id, and records how the attempt went.
 * A non-2xx answer or no answer throws, so the queue retries with its backoff; the last attempt
 * leaves the row failed, for an owner or admin to redeliver.
 */

export const TENANT_WEBHOOK_JOB = 'tenant_webhook';

/** A receiver should answer at once and work later; a slow one holds a worker for this long. */
export const DELIVERY_TIMEOUT_MS = 15_000;

export interface TenantWebhookDeps {
  db: Db;
  /** The outbound guard: the endpoint's URL is the tenant's choice. */
  fetch: typeof fetch;
  now?: () => number;
}

interface DeliveryRow {
  id: string;
  body: string;
  url: string;
  secret: string;
  enabled: boolean;
}

export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createTenantWebhookHandler(deps: TenantWebhookDeps): JobHandler {
  const now = deps.now ?? Date.now;
  return async (job: Job) => {
    const deliveryId = job.payload.delivery_id;
    if (typeof deliveryId !== 'string' || !UUID.test(deliveryId)) {
      return { skipped: 'bad payload' };
    }
    const [row] = await deps.db.asService((sql) =>
      sql.query<DeliveryRow>(
        `select d.id, d.payload::text as body, e.url, e.secret, e.enabled
           from public.webhook_deliveries d
           join public.webhook_endpoints e on e.id = d.endpoint_id
          where d.id = $1`,
        [deliveryId],
      ),
    );
    // Deleted with its endpoint, or pruned: nothing left to send.
    if (!row) return { skipped: 'gone' };
    if (!row.enabled) {
      await record(deps.db, row.id, { final: true, error: 'endpoint disabled', counted: false });
      return { skipped: 'endpoint disabled' };
    }

    const final = job.attempts >= job.max_attempts;
    const started = now();
    let status: number | null = null;
    let error: string | null = null;
    let refused = false;
    let headers: Record<string, string>;
    try {
      headers = signRequest({ secret: row.secret, body: row.body, id: row.id });
    } catch (caught) {
      await record(deps.db, row.id, { final: true, error: errorText(caught), counted: false });
      return { failed: row.id, error: 'bad secret' };
    }
    try {
      const response = await deps.fetch(row.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: row.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      status = response.status;
      // The body is not used, but reading it lets the connection be reused.
      await response.body?.cancel().catch(() => {});
      if (status < 200 || status > 299) error = `HTTP ${status}`;
    } catch (caught) {
      refused = caught instanceof OutboundRefusedError;
      error = errorText(caught);
    }
    const latency = Math.max(0, Math.round(now() - started));
    // A URL the guard refuses will not get better by retrying.
    await record(deps.db, row.id, {
      status,
      latency,
      error,
      final: error !== null && (final || refused),
      counted: true,
    });
    if (error === null) return { delivered: row.id, status };
    if (refused) return { failed: row.id, error };
    throw new WebhookDeliveryError(`delivery ${row.id}: ${error}`);
  };
}

async function record(
  db: Db,
  id: string,
  attempt: {
    status?: number | null;
    latency?: number;
    error: string | null;
    final: boolean;
    counted: boolean;
  },
): Promise<void> {
  await db.asService((sql) =>
    sql.query(
      `update public.webhook_deliveries
          set attempts = attempts + $2::int,
              response_code = $3,
              latency_ms = $4,
              last_error = left($5, 1000),
              last_attempt_at = now(),
              status = case when $5 is null then 'succeeded' when $6 then 'failed' else 'pending' end,
              delivered_at = case when $5 is null then coalesce(delivered_at, now()) else delivered_at end
        where id = $1`,
      [
        id,
        attempt.counted ? 1 : 0,
        attempt.status ?? null,
        attempt.latency ?? null,
        attempt.error,
        attempt.final,
      ],
    ),
  );
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    return error.name === 'TimeoutError' ? 'timed out' : `${error.name}: ${error.message}`;
  }
  return String(error);
}
