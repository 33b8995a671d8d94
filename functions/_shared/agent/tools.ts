import type { Db, Sql } from '../db/port.ts';
import type { ToolCall, ToolSpec } from '../llm/types.ts';
import type { Rich } from '../messages/rich.ts';
import { outcomeOf, recordToolExecution, type ToolCallOutcome } from '../tools/audit.ts';
import { callToolWebhook } from '../tools/call-tool.ts';
import { toolSigningSecrets } from '../tools/secrets.ts';
import { validateArguments } from '../tools/validate-arguments.ts';
import { canonicalJson, webhookIdFor } from '../webhooks/webhook-id.ts';
import type { ReplyContext } from './context.ts';
import { RICH_TOOL, richFromCall, richToolSpec } from './rich-tool.ts';
import type { TenantTool } from './tenant-tool.ts';

export type { TenantTool } from './tenant-tool.ts';

export const HANDOFF_TOOL = 'handoff_to_human';

const handoffSpec: ToolSpec = {
  name: HANDOFF_TOOL,
  description:
    'Hand the conversation to a person from the support team: when the customer asks for a human, is upset, or needs something you cannot do or answer.',
  parameters: {
    type: 'object',
    properties: {
      reason: { type: 'string', description: 'One sentence for the agent taking over.' },
    },
    additionalProperties: false,
  },
};

export async function loadTenantTools(sql: Sql, tenantId: string): Promise<TenantTool[]> {
  return sql.query<TenantTool>(
    `select id, name, description, parameters, webhook_url, secret, previous_secret,
            previous_secret_expires_at, timeout_ms
       from public.tenant_tools where tenant_id = $1 and enabled order by name`,
    [tenantId],
  );
}

export function toolSpecs(tools: TenantTool[]): ToolSpec[] {
  return [
    ...tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters })),
    handoffSpec,
    richToolSpec,
  ];
}

export interface ToolOutcome {
  call: ToolCall;
  /** What the model is told. */
  content: string;
  success: boolean;
  executionId: string | null;
  handoff: { reason: string } | null;
  /** Buttons and cards the model asked to show under its reply (the built-in rich tool). */
  rich?: Rich | null;
}

export interface ToolDeps {
  db: Db;
  fetch: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** What the calls are made for (the reply's job): part of every call's webhook id. */
  scope: string;
}

async function audit(
  db: Db,
  context: ReplyContext,
  tool: TenantTool,
  call: ToolCall,
  outcome: ToolCallOutcome,
): Promise<string> {
  return db.asService((sql) =>
    recordToolExecution(sql, {
      tenantId: context.tenant.id,
      toolId: tool.id,
      conversationId: context.conversation.id,
      toolName: tool.name,
      callId: call.id,
      arguments: call.arguments ?? { raw: call.rawArguments },
      ...outcome,
    }),
  );
}

async function runOne(
  deps: ToolDeps,
  context: ReplyContext,
  tools: TenantTool[],
  call: ToolCall,
): Promise<ToolOutcome> {
  if (call.name === HANDOFF_TOOL) {
    const reason =
      typeof (call.arguments as { reason?: unknown })?.reason === 'string'
        ? (call.arguments as { reason: string }).reason
        : 'The assistant asked for a person.';
    return {
      call,
      content: JSON.stringify({ ok: true, note: 'A person will take over.' }),
      success: true,
      executionId: null,
      handoff: { reason },
    };
  }
  if (call.name === RICH_TOOL) {
    const { rich, content } = richFromCall(call);
    return { call, content, success: rich !== null, executionId: null, handoff: null, rich };
  }
  const tool = tools.find((t) => t.name === call.name);
  if (!tool) {
    return {
      call,
      content: JSON.stringify({ error: `There is no tool named ${call.name}.` }),
      success: false,
      executionId: null,
      handoff: null,
    };
  }
  if (call.arguments === undefined) {
    const executionId = await audit(deps.db, context, tool, call, {
      success: false,
      response: null,
      error: 'arguments are not valid JSON',
      status: null,
      attempts: 0,
      durationMs: 0,
      deliveryId: null,
    });
    return {
      call,
      content: JSON.stringify({ error: 'The arguments were not valid JSON.' }),
      success: false,
      executionId,
      handoff: null,
    };
  }
  const validation = validateArguments(tool.parameters, call.arguments);
  if (!validation.ok) {
    // Never call a workflow with arguments its schema refuses: the model gets the reasons instead.
    const executionId = await audit(deps.db, context, tool, call, {
      success: false,
      response: null,
      error: `invalid arguments: ${validation.errors.join('; ')}`,
      status: null,
      attempts: 0,
      durationMs: 0,
      deliveryId: null,
    });
    return {
      call,
      content: JSON.stringify({ error: 'Invalid arguments.', details: validation.errors }),
      success: false,
      executionId,
      handoff: null,
    };
  }
  // The model's own call id is not part of it: a model asked again after a crash names the same
  // call differently. The same tool with the same arguments in the same job is the same call, and
  // a retried job's booking reaches the workflow under the id it already acted on.
  const deliveryId = await webhookIdFor('tool', deps.scope, tool.id, canonicalJson(call.arguments));
  const result = await callToolWebhook({
    url: tool.webhook_url,
    deliveryId,
    secret: toolSigningSecrets(tool),
    timeoutMs: tool.timeout_ms,
    body: {
      tool: tool.name,
      arguments: call.arguments,
      call_id: call.id,
      conversation: {
        id: context.conversation.id,
        tenant_id: context.tenant.id,
        contact: context.conversation.contact,
      },
    },
    fetch: deps.fetch,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const executionId = await audit(deps.db, context, tool, call, outcomeOf(result));
  const content = result.ok
    ? JSON.stringify(result.response ?? {})
    : JSON.stringify({
        error: `The ${tool.name} service is not available right now${result.status ? ` (HTTP ${result.status})` : ''}, after ${result.attempts} attempts. Tell the customer you could not check this now and offer a person.`,
      });
  return { call, content, success: result.ok, executionId, handoff: null };
}

/** Runs one turn's tool calls in parallel; each is validated, signed, retried and audited. */
export function runToolCalls(
  deps: ToolDeps,
  context: ReplyContext,
  tools: TenantTool[],
  calls: ToolCall[],
) {
  return Promise.all(calls.map((call) => runOne(deps, context, tools, call)));
}
