import { must, supabase } from './client.ts';

// The analytics page's reads: the tenant's time zone, the daily aggregates
// (public.analytics_daily, public.conversation_metrics_daily), the figures per assignee
// (public.conversation_metrics_by_agent) and the conversation history
// (public.conversation_history). All are SQL functions that refuse anyone but the tenant's owners,
// admins and platform operators.

export interface ActivityDay {
  day: string;
  conversations: number;
  bot_only: number;
  deflection_rate: number | null;
  user_messages: number;
  bot_messages: number;
  agent_messages: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  tool_calls: number;
  tool_successes: number;
  tool_success_rate: number | null;
}

export interface SupportDay {
  day: string;
  conversations: number;
  handoffs: number;
  handoff_rate: number | null;
  first_response_seconds: number | null;
  first_response_p90_seconds: number | null;
  resolved: number;
  resolution_seconds: number | null;
  csat_count: number;
  csat_average: number | null;
}

export interface AgentFigures {
  agent_id: string;
  display_name: string | null;
  conversations: number;
  first_response_seconds: number | null;
  resolved: number;
  resolution_seconds: number | null;
  csat_count: number;
  csat_average: number | null;
}

export interface Range {
  from: string;
  to: string;
  timeZone: string;
}

export async function loadTimeZone(tenantId: string): Promise<string> {
  const row = must(
    await supabase().from('tenants').select('time_zone').eq('id', tenantId).maybeSingle(),
  ) as { time_zone?: string } | null;
  return row?.time_zone || 'UTC';
}

/** Sets the zone the tenant's days start in; Postgres refuses a name it does not know (22023). */
export async function saveTimeZone(tenantId: string, timeZone: string): Promise<void> {
  // Counted, not returned: not every column of the row is the caller's to read back.
  const result = await supabase()
    .from('tenants')
    .update({ time_zone: timeZone }, { count: 'exact' })
    .eq('id', tenantId);
  if (result.error) throw result.error;
  // RLS filters an update it refuses down to no rows rather than an error.
  if (result.count === 0) throw new Error('only owners and admins may change it');
}

/** The IANA zones this browser knows, UTC first; the tenant's own zone is kept if it is missing. */
export function timeZones(current: string): string[] {
  const known = Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC');
  if (current !== 'UTC' && !known.includes(current)) known.push(current);
  return ['UTC', ...known.sort()];
}

/** YYYY-MM-DD of `date` in a time zone. */
export function dayIn(timeZone: string, date = new Date()): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(date);
}

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const numbers = <T>(rows: T[]): T[] =>
  rows.map((row) => {
    const out = { ...row } as Record<string, unknown>;
    // bigint and numeric come as strings through the Data API.
    for (const key of ['tokens_in', 'tokens_out', 'cost_usd']) {
      if (typeof out[key] === 'string') out[key] = Number(out[key]);
    }
    return out as T;
  });

export async function loadDaily(tenantId: string, range: Range) {
  const args = {
    p_tenant_id: tenantId,
    p_from: range.from,
    p_to: range.to,
    p_time_zone: range.timeZone,
  };
  const db = supabase();
  const [activity, support, agents] = await Promise.all([
    db.rpc('analytics_daily', args),
    db.rpc('conversation_metrics_daily', args),
    db.rpc('conversation_metrics_by_agent', args),
  ]);
  return {
    activity: numbers(must(activity) as ActivityDay[]),
    support: must(support) as SupportDay[],
    agents: must(agents) as AgentFigures[],
  };
}

export interface HistoryFilters {
  status: string;
  channel: string;
  /** '', 'rated', 'unrated', or a score 1–5 */
  rating: string;
  /** '', 'none', or a member's user id */
  assignee: string;
  query: string;
}

export interface HistoryRow {
  id: string;
  created_at: string;
  status: string;
  channel: string;
  assignee_id: string | null;
  assignee_name: string | null;
  contact_name: string | null;
  contact_email: string | null;
  message_count: number;
  handoff_at: string | null;
  resolved_at: string | null;
  last_message_at: string | null;
  csat: number | null;
  csat_comment: string | null;
  first_message: string | null;
  total: number;
}

function historyArgs(tenantId: string, range: Range, f: HistoryFilters) {
  const score = /^[1-5]$/.test(f.rating) ? Number(f.rating) : null;
  return {
    p_tenant_id: tenantId,
    p_from: range.from,
    p_to: range.to,
    p_time_zone: range.timeZone,
    p_status: f.status || null,
    p_channel: f.channel || null,
    p_csat_min: score,
    p_csat_max: score,
    p_rated: f.rating === 'rated' ? true : f.rating === 'unrated' ? false : null,
    p_assignee: f.assignee && f.assignee !== 'none' ? f.assignee : null,
    p_unassigned: f.assignee === 'none',
    p_query: f.query.trim() || null,
  };
}

export async function loadHistory(
  tenantId: string,
  range: Range,
  filters: HistoryFilters,
  offset: number,
  limit: number,
): Promise<{ rows: HistoryRow[]; total: number }> {
  const rows = must(
    await supabase().rpc('conversation_history', {
      ...historyArgs(tenantId, range, filters),
      p_limit: limit,
      p_offset: offset,
    }),
  ) as HistoryRow[];
  return { rows, total: Number(rows[0]?.total ?? (offset === 0 ? 0 : offset)) };
}

/** Every row matching the filters, a thousand at a time, for the export. */
export async function loadAllHistory(
  tenantId: string,
  range: Range,
  filters: HistoryFilters,
  onProgress?: (done: number, total: number) => void,
): Promise<HistoryRow[]> {
  const all: HistoryRow[] = [];
  const seen = new Set<string>();
  const PAGE = 1000;
  // Pages by offset, newest first: a conversation started during the export pushes the rest down
  // by one, so a row may come twice (never not at all); it is kept once.
  for (let offset = 0; ; offset += PAGE) {
    const { rows, total } = await loadHistory(tenantId, range, filters, offset, PAGE);
    for (const row of rows) {
      if (!seen.has(row.id)) {
        seen.add(row.id);
        all.push(row);
      }
    }
    onProgress?.(all.length, total);
    if (rows.length < PAGE) return all;
  }
}
