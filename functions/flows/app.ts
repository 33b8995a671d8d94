import { Hono } from 'hono';
import { z } from 'zod';
import { type ClaimsVerifier, createClaimsVerifier } from '../_shared/auth/claims.ts';
import { isManager, requireStaff, type StaffEnv } from '../_shared/auth/staff.ts';
import type { Db, JwtClaims } from '../_shared/db/port.ts';
import { type Flow, flowSchema, toolsNamed } from '../_shared/flows/schema.ts';
import { publicCors } from '../_shared/http/cors.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, jsonBody } from '../_shared/http/validation.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';

// Saving a tenant's keyword flows. A flow is JSON the bot walks for every customer, so it is
// validated whole (steps, links between them, button sizes) before it is stored; that is why
// flows are written here and not through the Data API, where owners and admins may still switch
// one off or delete it. Whether the caller may is asked of the database as the caller.

export interface FlowsDeps {
  db: Db;
  verifier: ClaimsVerifier;
  log: (message: string, error?: unknown) => void;
}

const createSchema = z.object({ tenant_id: z.string().uuid(), flow: flowSchema });
const updateSchema = z.object({ flow: flowSchema });
const flowId = z.string().uuid();

export function createFlowsApp(deps: FlowsDeps) {
  const { db } = deps;
  const app = new Hono<StaffEnv>();
  app.use('*', publicCors());
  // A hundred steps in several languages stay far below this.
  app.use('*', guardInput(256 * 1024));

  const signedIn = requireStaff(deps.verifier);
  app.use('/flows', signedIn);
  app.use('/flows/*', signedIn);

  /** Owners and admins of the tenant keep its flows; agents use them. */
  async function mayEdit(user: JwtClaims, tenantId: string) {
    if (!(await db.asUser(user, (sql) => isManager(sql, tenantId))))
      throw new HttpError(403, 'forbidden', "Only the workspace's owners and admins edit flows.");
  }

  /** Every call_tool step names one of the tenant's tools; a typo is refused now, not at run time. */
  async function knownTools(tenantId: string, flow: Flow) {
    const named = toolsNamed(flow.steps);
    if (named.length === 0) return;
    const rows = await db.asService((sql) =>
      sql.query<{ name: string }>(
        'select name from public.tenant_tools where tenant_id = $1 and name = any($2::text[])',
        [tenantId, [...new Set(named.map((n) => n.tool))]],
      ),
    );
    const known = new Set(rows.map((r) => r.name));
    const unknown = named.find((n) => !known.has(n.tool));
    if (unknown) {
      const step = flow.steps[unknown.index];
      throw new HttpError(
        422,
        'unknown_tool',
        `steps.${unknown.index}.tool: step ${step?.id} calls ${unknown.tool}, which is not one of this workspace's tools.`,
      );
    }
  }

  app.post('/flows', async (c) => {
    const body = await jsonBody(c, createSchema);
    await mayEdit(c.get('staff'), body.tenant_id);
    await knownTools(body.tenant_id, body.flow);
    const { name, enabled, triggers, timeout_minutes, steps } = body.flow;
    const [row] = await db.asService((sql) =>
      sql.query<{ id: string; created: boolean }>(
        `insert into public.bot_flows (tenant_id, name, enabled, triggers, timeout_minutes, definition)
         values ($1, $2, $3, $4::text[], $5, $6::jsonb)
         on conflict (tenant_id, name) do update
            set enabled = excluded.enabled, triggers = excluded.triggers,
                timeout_minutes = excluded.timeout_minutes, definition = excluded.definition
         returning id, (xmax = 0) as created`,
        [body.tenant_id, name, enabled, triggers, timeout_minutes, { steps }],
      ),
    );
    if (!row) throw new Error('flow not stored');
    return c.json({ id: row.id, triggers }, row.created ? 201 : 200);
  });

  app.put('/flows/:id', async (c) => {
    const id = flowId.safeParse(c.req.param('id'));
    if (!id.success) throw new HttpError(404, 'not_found', 'No such flow.');
    const body = await jsonBody(c, updateSchema);
    const user = c.get('staff');
    // Found as the caller: another tenant's flow is simply not there.
    const [owner] = await db.asUser(user, (sql) =>
      sql.query<{ tenant_id: string }>('select tenant_id from public.bot_flows where id = $1', [
        id.data,
      ]),
    );
    if (!owner) throw new HttpError(404, 'not_found', 'No such flow.');
    await mayEdit(user, owner.tenant_id);
    await knownTools(owner.tenant_id, body.flow);
    const { name, enabled, triggers, timeout_minutes, steps } = body.flow;
    try {
      await db.asService((sql) =>
        sql.query(
          `update public.bot_flows
              set name = $2, enabled = $3, triggers = $4::text[], timeout_minutes = $5,
                  definition = $6::jsonb
            where id = $1`,
          [id.data, name, enabled, triggers, timeout_minutes, { steps }],
        ),
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505')
        throw new HttpError(409, 'name_taken', 'Another flow already has this name.');
      throw error;
    }
    return c.json({ id: id.data, triggers });
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createFlowsApp({
    db: context.db,
    verifier: createClaimsVerifier(context.env),
    log: context.log,
  });
}
