import type { Sql } from '../db/port.ts';
import type { ToolCallResult } from './call-tool.ts';

/** One call of a tenant's tool as the tool log keeps it, whoever made it (the bot or a flow). */
export interface ToolExecutionRecord {
  tenantId: string;
  toolId: string;
  conversationId: string;
  toolName: string;
  callId: string;
  arguments: unknown;
  response: unknown;
  success: boolean;
  error: string | null;
  status: number | null;
  attempts: number;
  durationMs: number;
  deliveryId: string | null;
  n8nExecutionId?: string | null;
}

/** What became of a call, as the log keeps it. */
export type ToolCallOutcome = Pick<
  ToolExecutionRecord,
  | 'response'
  | 'success'
  | 'error'
  | 'status'
  | 'attempts'
  | 'durationMs'
  | 'deliveryId'
  | 'n8nExecutionId'
>;

/** The log's view of a webhook call's result. */
export function outcomeOf(result: ToolCallResult): ToolCallOutcome {
  return {
    response: result.response ?? null,
    success: result.ok,
    error: result.ok ? null : (result.error ?? 'failed'),
    status: result.status ?? null,
    attempts: result.attempts,
    durationMs: result.durationMs,
    deliveryId: result.deliveryId,
    n8nExecutionId: result.n8nExecutionId ?? null,
  };
}

/** Writes the call into tool_executions; returns its id. */
export async function recordToolExecution(sql: Sql, row: ToolExecutionRecord): Promise<string> {
  const [stored] = await sql.query<{ id: string }>(
    `insert into public.tool_executions
       (tenant_id, tenant_tool_id, conversation_id, tool_name, call_id, delivery_id, arguments, response,
        success, error, http_status, attempts, duration_ms, n8n_execution_id)
     values ($1, $2, $3, $4, $5, coalesce($6::uuid, gen_random_uuid()), $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14)
     returning id`,
    [
      row.tenantId,
      row.toolId,
      row.conversationId,
      row.toolName,
      row.callId,
      row.deliveryId,
      row.arguments,
      row.response ?? null,
      row.success,
      row.error,
      row.status,
      row.attempts,
      Math.round(row.durationMs),
      row.n8nExecutionId ?? null,
    ],
  );
  return stored?.id ?? '';
}
