import { loadTenantTools } from '../agent/tools.ts';
import type { Db, Sql } from '../db/port.ts';
import {
  outcomeOf,
  recordToolExecution,
  type ToolCallOutcome,
  type ToolExecutionRecord,
} from '../tools/audit.ts';
import { callToolWebhook, type ToolCallBody } from '../tools/call-tool.ts';
import { toolSigningSecrets } from '../tools/secrets.ts';
import { validateArguments } from '../tools/validate-arguments.ts';
import { canonicalJson, webhookIdFor } from '../webhooks/webhook-id.ts';
import type { FlowStep, ToolArgument, ValueSource } from './schema.ts';

// A flow's call_tool step: the tenant's tool called exactly as the bot calls it (the outbound
// guard's fetch, Standard Webhooks signatures with the rotation's secrets, the argument schema
// checked first, every call in the tool log), with arguments taken from the conversation instead
// of a model. The contact goes in the body as the bot's calls send it.

export interface FlowToolDeps {
  /** The outbound guard's fetch: a tool URL must never reach private addresses. */
  fetch: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** What the reply is worked for (its job): part of the webhook id, so a retried job's call is a retry. */
  scope: string;
}

type CallToolStep = Extract<FlowStep, { type: 'call_tool' }>;

export interface FlowToolCall {
  tenantId: string;
  conversationId: string;
  contactId: string | null;
  message: string;
  vars: Record<string, unknown>;
}

/** Per attempt, when the step names none: the customer is waiting for the reply. */
const DEFAULT_TIMEOUT_MS = 5_000;
const MAX_TIMEOUT_MS = 10_000;

interface ContactRow {
  id: string;
  identifier: string | null;
  name: string | null;
  email: string | null;
  attributes: Record<string, unknown>;
}

async function contactRow(sql: Sql, contactId: string | null): Promise<ContactRow | null> {
  if (!contactId) return null;
  const [row] = await sql.query<ContactRow>(
    'select id, identifier, name, email, attributes from public.contacts where id = $1',
    [contactId],
  );
  return row ?? null;
}

function read(source: ValueSource, call: FlowToolCall, contact: ContactRow | null): unknown {
  if (source === 'reply') return call.message;
  if (source === 'name' || source === 'email') return contact?.[source] ?? null;
  if (source.startsWith('vars.')) return call.vars[source.slice('vars.'.length)] ?? null;
  return contact?.attributes?.[source.slice('attributes.'.length)] ?? null;
}

function argumentValue(arg: ToolArgument, call: FlowToolCall, contact: ContactRow | null): unknown {
  if (arg === null || typeof arg !== 'object') return arg;
  if ('from' in arg) return read(arg.from, call, contact);
  return arg.value;
}

/** The field at a dotted path of a JSON value; undefined when it is not there. */
export function fieldAt(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export interface FlowToolOutcome {
  ok: boolean;
  response: unknown;
}

/**
 * A flow's tools for one reply: the calls already made, by step and arguments. A call is never
 * made inside the reply's transaction (an HTTP request of up to seconds would hold the
 * conversation's rows, and on a single-connection database everything): the walk stops there with
 * ToolCallNeeded, the transaction rolls back, the call is made, and the walk runs again from the
 * start, finding the answer here. The walk reads the same rows both times, so it takes the same path.
 */
export interface FlowTools {
  deps: FlowToolDeps;
  done: Map<string, FlowToolOutcome>;
}

/** Calls per reply at most: a flow may loop through a call_tool step. */
const MAX_CALLS = 5;

interface PreparedCall {
  key: string;
  url: string;
  secrets: string[];
  timeoutMs: number;
  deliveryId: string;
  body: ToolCallBody;
  record: Omit<ToolExecutionRecord, keyof ToolCallOutcome>;
}

/** Thrown inside the reply's transaction: this call has to be made first, outside it. */
export class ToolCallNeeded extends Error {
  constructor(readonly call: PreparedCall) {
    super(`flow tool call needed: ${call.record.toolName}`);
  }
}

/**
 * Runs `work` (a transaction that walks a flow) until it no longer needs a tool call, making each
 * call it asks for between two tries, with the outbound guard's fetch, and logging it.
 */
export async function withFlowTools<T>(
  db: Db,
  deps: FlowToolDeps,
  work: (tools: FlowTools) => Promise<T>,
): Promise<T> {
  const tools: FlowTools = { deps, done: new Map() };
  for (;;) {
    try {
      return await work(tools);
    } catch (error) {
      if (!(error instanceof ToolCallNeeded)) throw error;
      const { call } = error;
      const result = await callToolWebhook({
        url: call.url,
        deliveryId: call.deliveryId,
        secret: call.secrets,
        timeoutMs: call.timeoutMs,
        // The customer is waiting for the reply: one retry, no more.
        maxAttempts: 2,
        body: call.body,
        fetch: deps.fetch,
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      });
      await db.asService((sql) =>
        recordToolExecution(sql, { ...call.record, ...outcomeOf(result) }),
      );
      tools.done.set(call.key, { ok: result.ok, response: result.response });
    }
  }
}

/**
 * The step's call: its answer when it was made already for this reply, else ToolCallNeeded. A
 * failure (a tool gone or switched off, arguments its schema refuses) is an answer, for on_failure.
 */
export async function callFlowTool(
  sql: Sql,
  tools: FlowTools | undefined,
  step: CallToolStep,
  call: FlowToolCall,
): Promise<FlowToolOutcome> {
  const tool = (await loadTenantTools(sql, call.tenantId)).find((t) => t.name === step.tool);
  // Deleted or switched off since the flow was saved.
  if (!tool || !tools) return { ok: false, response: null };
  const contact = await contactRow(sql, call.contactId);
  const args = Object.fromEntries(
    Object.entries(step.arguments).map(([key, arg]) => [key, argumentValue(arg, call, contact)]),
  );
  const key = JSON.stringify([tool.id, step.id, canonicalJson(args)]);
  const known = tools.done.get(key);
  if (known) return known;
  if (tools.done.size >= MAX_CALLS) return { ok: false, response: null };
  const callId = `flow:${step.id}`;
  const record = {
    tenantId: call.tenantId,
    toolId: tool.id,
    conversationId: call.conversationId,
    toolName: tool.name,
    callId,
    arguments: args,
  };
  const validation = validateArguments(tool.parameters, args);
  if (!validation.ok) {
    await recordToolExecution(sql, {
      ...record,
      response: null,
      success: false,
      error: `invalid arguments: ${validation.errors.join('; ')}`,
      status: null,
      attempts: 0,
      durationMs: 0,
      deliveryId: null,
    });
    return { ok: false, response: null };
  }
  throw new ToolCallNeeded({
    key,
    url: tool.webhook_url,
    secrets: toolSigningSecrets(tool),
    timeoutMs: Math.min(
      step.timeout_ms ?? Math.min(tool.timeout_ms, DEFAULT_TIMEOUT_MS),
      MAX_TIMEOUT_MS,
    ),
    deliveryId: await webhookIdFor(
      'flow-tool',
      tools.deps.scope,
      tool.id,
      step.id,
      canonicalJson(args),
    ),
    body: {
      tool: tool.name,
      arguments: args,
      call_id: callId,
      conversation: {
        id: call.conversationId,
        tenant_id: call.tenantId,
        contact: contact
          ? {
              id: contact.id,
              identifier: contact.identifier,
              name: contact.name,
              email: contact.email,
            }
          : null,
      },
    },
    record,
  });
}
