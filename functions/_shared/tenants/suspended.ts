import type { Sql } from '../db/port.ts';
import { HttpError } from '../http/errors.ts';

// A tenant an operator suspended (public.suspend_tenant) is refused on every way in: the widget's
// chat API, WhatsApp deliveries and n8n callbacks, all with the same 403 and code, so the widget
// can say so in the visitor's language and Meta or n8n see a refusal rather than a failure.

export const tenantSuspended = () =>
  new HttpError(
    403,
    'tenant_suspended',
    'This chat is not available right now. Please contact the business another way.',
  );

/** Throws tenantSuspended unless the tenant is active. */
export async function requireActiveTenant(sql: Sql, tenantId: string): Promise<void> {
  const [row] = await sql.query<{ status: string }>(
    'select status from public.tenants where id = $1',
    [tenantId],
  );
  if (row?.status !== 'active') throw tenantSuspended();
}
