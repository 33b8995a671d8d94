import type { Sql } from '../db/port.ts';

/**
 * Records a verified webhook-id (from verifyRequest) and tells whether this is its first arrival
 * at this endpoint for this tenant. Call it as the service role, before acting on the webhook and
 * in the same transaction as the action: if the action fails and rolls back, the receipt goes with
 * it and the sender's retry is processed instead of being dropped as a replay.
 */
export async function recordDelivery(
  sql: Sql,
  webhookId: string,
  source: string,
  tenantId: string | null,
): Promise<boolean> {
  const [row] = await sql.query<{ first: boolean }>(
    'select private.record_webhook_delivery($1::text, $2::text, $3::uuid) as first',
    [webhookId, source, tenantId],
  );
  return row?.first === true;
}
