import { Hono } from 'hono';
import { z } from 'zod';
import { type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import { requireStaff, type StaffEnv } from '../_shared/auth/staff.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { notFound, onError } from '../_shared/http/errors.ts';
import { envNumber } from '../_shared/http/rate-limits.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import { createOutboundFetch, loopbackAllowed } from '../_shared/net/outbound.ts';
import { systemResolver } from '../_shared/net/system-resolver.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';
import { runTestCall, type TestCallDeps } from '../_shared/tools/test-call.ts';

// The admin's Tools page calls this for what the Data API cannot do: a test call, which needs the
// tool's signing secret (never readable by anyone) and an outbound request. Creating, editing and
// rotating secrets go through the Data API (public.rotate_tool_secret).

export interface ToolsDeps extends TestCallDeps {
  verifier: ClaimsVerifier;
  log: (message: string, error?: unknown) => void;
}

const testSchema = z.object({
  tool_id: z.string().uuid(),
  // Any JSON value: the tool's own schema judges it, with messages a person can act on.
  arguments: z.unknown().refine((value) => value !== undefined, 'is required'),
});

export function createToolsApp(deps: ToolsDeps) {
  const app = new Hono<StaffEnv>();
  app.use('*', publicCors());
  app.use('*', guardInput(64 * 1024));
  app.use('/tools/*', requireStaff(deps.verifier));

  app.post('/tools/test', async (c) => {
    const body = await jsonBody(c, testSchema);
    const result = await runTestCall(
      deps,
      { claims: c.get('staff') },
      { toolId: body.tool_id, arguments: body.arguments },
    );
    return c.json(result);
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createToolsApp({
    db: context.db,
    verifier: createClaimsVerifier(context.env),
    // The URL is the tenant's: the same guard as the bot's own calls.
    fetch: createOutboundFetch({
      fetch,
      resolve: systemResolver,
      allowLoopback: loopbackAllowed(context.env),
    }),
    limits: {
      perMemberPerMinute: envNumber(context.env, 'TOOLS_TEST_CALLS_PER_MINUTE', 10),
      perTenantPerMinute: envNumber(context.env, 'TOOLS_TEST_CALLS_PER_TENANT_PER_MINUTE', 30),
    },
    log: context.log,
  });
}
