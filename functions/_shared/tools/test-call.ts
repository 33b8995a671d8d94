import type { Db } from '../db/port.ts';
import { HttpError } from '../http/errors.ts';
import { type RateLimits, takeRateLimits } from '../http/rate-limits.ts';
import { activeSecrets } from '../webhooks/signature.ts';
import { callToolWebhook } from './call-tool.ts';
import { validateArguments } from './validate-arguments.ts';

/**
 * A test call from the admin's Tools page: the same signed request the bot would send, with the
 * arguments a person typed, answered back to that person in full (what was sent, what came back,
 * how long it took). It needs the tool's secret, which never leaves the server, hence a function.
 *
 * The caller must own or administer the tool's tenant; agents, platform operators and other
 * tenants' staff get the same 404 as for a tool that does not exist. The request goes through the
 * outbound guard like every call made for a tenant, is tried once (a person is watching; a retry
 * would only hide the first answer), carries `test: true` so a workflow can tell it from a
 * customer's call, and is written to the tool log as a test.
 */

export interface TestCallDeps {
  db: Db;
  /** The guarded outbound fetch. */
  fetch: typeof fetch;
  limits: { perMemberPerMinute: number; perTenantPerMinute: number };
  now?: () => number;
}

export interface SentRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

export interface TestCallResult {
  ok: boolean;
  status: number | null;
  duration_ms: number;
  response: unknown;
  error: string | null;
  /** What went on the wire, signature included (the secret itself is not in it). */
  request: SentRequest | null;
  /** How many secrets signed it: 2 while a rotation's overlap lasts. */
  signatures: number;
  execution_id: string | null;
  n8n_execution_id: string | null;
}

interface ToolRow {
  id: string;
  tenant_id: string;
  name: string;
  webhook_url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  timeout_ms: number;
  parameters: Record<string, unknown>;
}

/** The request as it was handed to fetch, so the page can show exactly what the receiver got. */
function recording(fetcher: typeof fetch): { fetch: typeof fetch; sent: () => SentRequest | null } {
  let sent: SentRequest | null = null;
  return {
    fetch: (input, init) => {
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, name) => {
        headers[name] = value;
      });
      sent = {
        url: input instanceof Request ? input.url : String(input),
        method: init?.method ?? 'GET',
        headers,
        body: typeof init?.body === 'string' ? init.body : '',
      };
      return fetcher(input, init);
    },
    sent: () => sent,
  };
}

export async function runTestCall(
  deps: TestCallDeps,
  caller: { claims: import('../db/port.ts').JwtClaims & { sub: string } },
  input: { toolId: string; arguments: unknown },
): Promise<TestCallResult> {
  const now = deps.now ?? Date.now;
  // As the caller: the row policy shows tools to their tenant's owners, admins and operators;
  // the role check leaves the operators out.
  const [visible] = await deps.db.asUser(caller.claims, (sql) =>
    sql.query<{ tenant_id: string }>(
      `select tenant_id from public.tenant_tools
        where id = $1 and private.has_tenant_role(tenant_id, array['owner', 'admin'])`,
      [input.toolId],
    ),
  );
  if (!visible) throw new HttpError(404, 'tool_not_found', 'No such tool in your workspace.');

  const limits: RateLimits = [
    [`tool-test:member:${caller.claims.sub}`, deps.limits.perMemberPerMinute],
    [`tool-test:tenant:${visible.tenant_id}`, deps.limits.perTenantPerMinute],
  ];
  const tool = await deps.db.asService(async (sql) => {
    await takeRateLimits(sql, limits);
    const [row] = await sql.query<ToolRow>(
      `select id, tenant_id, name, webhook_url, secret, previous_secret, previous_secret_expires_at,
              timeout_ms, parameters
         from public.tenant_tools where id = $1`,
      [input.toolId],
    );
    return row;
  });
  if (!tool) throw new HttpError(404, 'tool_not_found', 'No such tool in your workspace.');

  const validation = validateArguments(tool.parameters, input.arguments);
  if (!validation.ok) {
    throw new HttpError(
      422,
      'invalid_arguments',
      `The arguments do not match the tool's schema: ${validation.errors.join('; ')}`,
    );
  }

  const secrets = activeSecrets(
    {
      secret: tool.secret,
      previousSecret: tool.previous_secret,
      previousExpiresAt: tool.previous_secret_expires_at,
    },
    Math.floor(now() / 1000),
  );
  const callId = `test_${crypto.randomUUID()}`;
  const recorder = recording(deps.fetch);
  const result = await callToolWebhook({
    url: tool.webhook_url,
    secret: secrets,
    timeoutMs: tool.timeout_ms,
    maxAttempts: 1,
    fetch: recorder.fetch,
    now,
    body: {
      tool: tool.name,
      arguments: input.arguments,
      call_id: callId,
      test: true,
      conversation: { id: null, tenant_id: tool.tenant_id, contact: null },
    },
  });

  const [execution] = await deps.db.asService((sql) =>
    sql.query<{ id: string }>(
      `insert into public.tool_executions
         (tenant_id, tenant_tool_id, tool_name, call_id, delivery_id, arguments, response, success,
          error, http_status, attempts, duration_ms, n8n_execution_id, test)
       values ($1, $2, $3, $4, $5::uuid, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12, $13, true)
       returning id`,
      [
        tool.tenant_id,
        tool.id,
        tool.name,
        callId,
        result.deliveryId,
        input.arguments,
        result.response ?? null,
        result.ok,
        result.ok ? null : (result.error ?? 'failed'),
        result.status ?? null,
        result.attempts,
        result.durationMs,
        result.n8nExecutionId ?? null,
      ],
    ),
  );

  return {
    ok: result.ok,
    status: result.status ?? null,
    duration_ms: result.durationMs,
    response: result.response ?? null,
    error: result.ok ? null : (result.error ?? 'failed'),
    request: recorder.sent(),
    signatures: secrets.length,
    execution_id: execution?.id ?? null,
    n8n_execution_id: result.n8nExecutionId ?? null,
  };
}
