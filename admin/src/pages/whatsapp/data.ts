import { must, supabase } from '../../data/client.ts';
import { callFunction } from '../../data/functions.ts';

// What the WhatsApp page reads and writes: tables under RLS (the connection settings are
// write-only by column privileges, so only whether each is set comes back), the broadcast RPCs,
// and the flows function, which validates a flow before it is stored.

export interface Connection {
  id: string;
  label: string;
  enabled: boolean;
  created_at: string;
  settings: Record<SettingName, boolean>;
}

export const SETTINGS = [
  'phone_number_id',
  'business_account_id',
  'access_token',
  'app_secret',
  'verify_token',
] as const;
export type SettingName = (typeof SETTINGS)[number];

export interface Template {
  id: string;
  connection_id: string;
  name: string;
  language: string;
  category: string | null;
  status: string;
  components: { type?: string; text?: string }[];
}

export interface Flow {
  id: string;
  name: string;
  enabled: boolean;
  triggers: string[];
  definition: Record<string, unknown>;
  timeout_minutes: number;
}

export interface Broadcast {
  id: string;
  name: string;
  status: string;
  stopped_reason: string | null;
  template_id: string;
  scheduled_at: string;
}

export interface Summary {
  status: string;
  stopped_reason: string | null;
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
  skipped: number;
}

export const webhookUrl = (connectionId: string) =>
  `${supabase().url}/functions/v1/whatsapp/${connectionId}`;

export async function listConnections(tenantId: string): Promise<Connection[]> {
  const db = supabase();
  const [rows, settings] = await Promise.all([
    db
      .from('whatsapp_connections')
      .select('id, label, enabled, created_at')
      .eq('tenant_id', tenantId)
      .order('created_at'),
    db.rpc('whatsapp_connection_settings', { p_tenant_id: tenantId }),
  ]);
  const flags = must(settings) as ({ connection_id: string } & Record<SettingName, boolean>)[];
  return (must(rows) as Omit<Connection, 'settings'>[]).map((row) => {
    const found = flags.find((f) => f.connection_id === row.id);
    return {
      ...row,
      settings: Object.fromEntries(SETTINGS.map((s) => [s, found?.[s] ?? false])) as Record<
        SettingName,
        boolean
      >,
    };
  });
}

/**
 * Inserts a connection, or updates one with only the fields given (empty secrets are kept). No
 * representation is asked for: PostgREST would return the whole row, whose settings are unreadable.
 */
export async function saveConnection(
  tenantId: string,
  id: string | null,
  fields: Record<string, string | boolean>,
): Promise<void> {
  const table = supabase().from('whatsapp_connections');
  const result = id
    ? await table.update(fields).eq('id', id)
    : await table.insert({ tenant_id: tenantId, ...fields });
  if (result.error) throw result.error;
}

/**
 * Disconnects a number: the row and its settings go, so its webhook URL no longer verifies; its
 * conversations stay. Counted, so a row RLS hid is not taken for a deletion.
 */
export async function deleteConnection(id: string): Promise<void> {
  const result = await supabase()
    .from('whatsapp_connections')
    .delete({ count: 'exact' })
    .eq('id', id);
  if (result.error) throw result.error;
  if (result.count === 0) throw new Error('not allowed');
}

export async function listTemplates(tenantId: string): Promise<Template[]> {
  return must(
    await supabase()
      .from('whatsapp_templates')
      .select('id, connection_id, name, language, category, status, components')
      .eq('tenant_id', tenantId)
      .order('name')
      .order('language'),
  ) as Template[];
}

export async function syncTemplates(connectionId: string) {
  must(await supabase().rpc('sync_whatsapp_templates', { p_connection_id: connectionId }));
}

/** How many {{n}} variables a template's body takes. */
export function variableCount(template: Template): number {
  const body = template.components.find((c) => c.type?.toUpperCase() === 'BODY')?.text ?? '';
  return Math.max(0, ...[...body.matchAll(/\{\{(\d+)\}\}/g)].map((x) => Number(x[1])));
}

export async function listFlows(tenantId: string): Promise<Flow[]> {
  return must(
    await supabase()
      .from('bot_flows')
      .select('id, name, enabled, triggers, definition, timeout_minutes')
      .eq('tenant_id', tenantId)
      .order('name'),
  ) as Flow[];
}

export function saveFlow(tenantId: string, id: string | null, flow: unknown) {
  return id
    ? callFunction<{ id: string }>(`flows/${id}`, { flow }, { method: 'PUT' })
    : callFunction<{ id: string }>('flows', { tenant_id: tenantId, flow });
}

export async function setFlowEnabled(id: string, enabled: boolean) {
  const rows = must(
    await supabase().from('bot_flows').update({ enabled }).eq('id', id).select('id'),
  );
  if (rows.length === 0) throw new Error('not allowed');
}

export async function listBroadcasts(tenantId: string): Promise<Broadcast[]> {
  return must(
    await supabase()
      .from('whatsapp_broadcasts')
      .select('id, name, status, stopped_reason, template_id, scheduled_at')
      .eq('tenant_id', tenantId)
      .order('created_at', { ascending: false })
      .limit(50),
  ) as Broadcast[];
}

export async function summaryOf(id: string): Promise<Summary | null> {
  return must(
    await supabase().rpc('whatsapp_broadcast_summary', { p_broadcast_id: id }),
  ) as Summary;
}

export interface NewBroadcast {
  templateId: string;
  name: string;
  variables: string[];
  /** Every condition must hold (AND): attribute key → the value it equals. */
  conditions: { key: string; value: string }[];
  scheduledAt: string | null;
  perSecond: number;
  /** A flow whose first question the template asks; null: the template alone. */
  flowId: string | null;
}

/** The segment the API takes: {attributes: {key: value, …}}, every condition at once. */
export function segmentOf(conditions: NewBroadcast['conditions']): Record<string, unknown> {
  const used = conditions.filter((c) => c.key.trim());
  return used.length === 0
    ? {}
    : { attributes: Object.fromEntries(used.map((c) => [c.key.trim(), c.value])) };
}

/** Flows a broadcast may start: switched on, opening with a question. */
export function startableFlows(flows: Flow[]): Flow[] {
  return flows.filter((f) => {
    const steps = (f.definition as { steps?: { type?: string }[] }).steps;
    return f.enabled && steps?.[0]?.type === 'ask';
  });
}

export async function createBroadcast(b: NewBroadcast): Promise<string> {
  return must(
    await supabase().rpc('create_whatsapp_broadcast', {
      p_template_id: b.templateId,
      p_name: b.name,
      p_variables: b.variables,
      p_segment: segmentOf(b.conditions),
      p_scheduled_at: b.scheduledAt,
      p_messages_per_second: b.perSecond,
      p_flow_id: b.flowId,
    }),
  ) as string;
}

export async function setPaused(id: string, paused: boolean) {
  must(
    await supabase().rpc('set_whatsapp_broadcast_paused', { p_broadcast_id: id, p_paused: paused }),
  );
}
