import { must, supabase } from './client.ts';
import { callFunction } from './functions.ts';

// A tenant's tools (public.tenant_tools) and their log, under RLS: owners and admins edit, every
// member reads the log. Secrets are never read: rotate_tool_secret returns a new one, once.

export interface Tool {
  id: string;
  tool_id: string | null;
  name: string;
  description: string;
  enabled: boolean;
  webhook_url: string;
  timeout_ms: number;
  parameters: Record<string, unknown>;
  previous_secret_expires_at: string | null;
  updated_at: string;
}

export interface ToolDraft {
  tool_id: string | null;
  name: string;
  description: string;
  enabled: boolean;
  webhook_url: string;
  timeout_ms: number;
  parameters: Record<string, unknown>;
}

export interface Template {
  id: string;
  slug: string;
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ToolStats {
  tenant_tool_id: string | null;
  tool_name: string;
  calls: number;
  successes: number;
  success_rate: string | null;
  p50_ms: number | null;
  p95_ms: number | null;
  test_calls: number;
  last_called_at: string | null;
}

export interface Execution {
  id: string;
  tool_name: string;
  conversation_id: string | null;
  success: boolean;
  http_status: number | null;
  attempts: number;
  duration_ms: number | null;
  test: boolean;
  created_at: string;
  n8n_execution_id: string | null;
  /** From tool_execution_results: owners and admins only. */
  error?: string | null;
}

export interface TestCallResult {
  ok: boolean;
  status: number | null;
  duration_ms: number;
  response: unknown;
  error: string | null;
  request: { url: string; method: string; headers: Record<string, string>; body: string } | null;
  signatures: number;
  execution_id: string | null;
}

const TOOL_COLUMNS =
  'id, tool_id, name, description, enabled, webhook_url, timeout_ms, parameters, previous_secret_expires_at, updated_at';

export async function listTools(tenantId: string): Promise<Tool[]> {
  return must(
    await supabase()
      .from('tenant_tools')
      .select(TOOL_COLUMNS)
      .eq('tenant_id', tenantId)
      .order('name'),
  ) as Tool[];
}

export async function loadTool(id: string): Promise<Tool | null> {
  const { data, error } = await supabase()
    .from('tenant_tools')
    .select(TOOL_COLUMNS)
    .eq('id', id)
    .maybeSingle();
  if (error) throw error;
  return data as Tool | null;
}

export async function listTemplates(): Promise<Template[]> {
  return must(
    await supabase().from('tools').select('id, slug, name, description, parameters').order('name'),
  ) as Template[];
}

// Writes ask for no representation: the secret columns are not readable, and PostgREST returns
// whole rows. The row is read back by name.
/** Only the columns staff may write. */
export const draftOf = (tool: ToolDraft): ToolDraft => ({
  tool_id: tool.tool_id,
  name: tool.name,
  description: tool.description,
  enabled: tool.enabled,
  webhook_url: tool.webhook_url,
  timeout_ms: tool.timeout_ms,
  parameters: tool.parameters,
});

export async function createTool(tenantId: string, draft: ToolDraft): Promise<Tool> {
  const id = crypto.randomUUID();
  must(
    await supabase()
      .from('tenant_tools')
      .insert({ id, tenant_id: tenantId, ...draftOf(draft) }),
  );
  return (await loadTool(id)) as Tool;
}

export async function updateTool(id: string, draft: ToolDraft): Promise<Tool> {
  must(await supabase().from('tenant_tools').update(draftOf(draft)).eq('id', id));
  return (await loadTool(id)) as Tool;
}

export async function deleteTool(id: string): Promise<void> {
  must(await supabase().from('tenant_tools').delete().eq('id', id));
}

/** A new signing secret, shown this once; the old one keeps signing for overlapSeconds. */
export async function rotateSecret(
  id: string,
  overlapSeconds: number,
): Promise<{ secret: string; previous_secret_expires_at: string | null }> {
  const rows = must(
    await supabase().rpc('rotate_tool_secret', {
      p_tool_id: id,
      p_overlap_seconds: overlapSeconds,
    }),
  ) as { secret: string; previous_secret_expires_at: string | null }[];
  const row = rows[0];
  if (!row) throw new Error('no secret was returned');
  return row;
}

export async function toolStats(tenantId: string, sinceDays = 30): Promise<ToolStats[]> {
  return must(
    await supabase().rpc('tool_stats', {
      p_tenant_id: tenantId,
      p_since: new Date(Date.now() - sinceDays * 86_400_000).toISOString(),
    }),
  ) as ToolStats[];
}

export async function listExecutions(toolId: string, limit = 50): Promise<Execution[]> {
  const db = supabase();
  const rows = must(
    await db
      .from('tool_executions')
      .select(
        'id, tool_name, conversation_id, success, http_status, attempts, duration_ms, test, created_at, n8n_execution_id',
      )
      .eq('tenant_tool_id', toolId)
      .order('created_at', { ascending: false })
      .limit(limit),
  ) as Execution[];
  const failed = rows.filter((r) => !r.success).map((r) => r.id);
  if (failed.length) {
    const { data } = await db.from('tool_execution_results').select('id, error').in('id', failed);
    const errors = new Map(
      (data ?? []).map((r: { id: string; error: string | null }) => [r.id, r.error]),
    );
    for (const row of rows) if (errors.has(row.id)) row.error = errors.get(row.id) ?? null;
  }
  return rows;
}

export function testCall(toolId: string, args: unknown): Promise<TestCallResult> {
  return callFunction<TestCallResult>('tools/test', { tool_id: toolId, arguments: args });
}
