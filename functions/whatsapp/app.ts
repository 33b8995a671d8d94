import { Hono } from 'hono';
import { z } from 'zod';
import type { Db } from '../_shared/db/port.ts';
import { HttpError, notFound, onError } from '../_shared/http/errors.ts';
import { guardInput, queryParams } from '../_shared/http/validation.ts';
import { createJobHandlers } from '../_shared/job-handlers.ts';
import { createContextRunner } from '../_shared/jobs/context-runner.ts';
import type { DrainOptions, DrainResult } from '../_shared/jobs/runner.ts';
import type { FunctionContext } from '../_shared/platform/context.ts';
import { requireActiveTenant } from '../_shared/tenants/suspended.ts';
import {
  type Connection,
  readDelivery,
  storeInbound,
  storeStatus,
  storeTemplateUpdate,
  webhookSchema,
} from '../_shared/whatsapp/inbound.ts';
import { sameSecret, verifyHubSignature } from '../_shared/whatsapp/signature.ts';

// Meta's webhook for one tenant's WhatsApp number: GET /whatsapp/<connection_id> is the
// subscription handshake, POST the deliveries. A delivery is stored and acknowledged at once;
// the reply, the sends and the media downloads are jobs, worked right after the answer and by the
// worker if this instance goes away.

export interface WhatsappDeps {
  db: Db;
  runner: { drain(options?: DrainOptions): Promise<DrainResult> };
  waitUntil(promise: Promise<unknown>): void;
  log: (message: string, error?: unknown) => void;
}

// Meta batches up to 1,000 updates in one delivery; 3 MB is far above such a batch.
const MAX_BODY = 3 * 1024 * 1024;

const connectionParam = z.object({ connection_id: z.string().uuid() });
const handshake = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string().min(1).max(200),
  'hub.challenge': z.string().min(1).max(200),
});

interface ConnectionSecrets extends Connection {
  business_account_id: string | null;
  app_secret: string;
  verify_token: string;
  enabled: boolean;
}

export function createWhatsappApp(deps: WhatsappDeps) {
  const app = new Hono();
  app.use('*', guardInput(MAX_BODY));

  async function connection(id: string): Promise<ConnectionSecrets | null> {
    const [row] = await deps.db.asService((sql) =>
      sql.query<ConnectionSecrets>(
        `select id, tenant_id, phone_number_id, business_account_id, app_secret, verify_token, enabled
           from public.whatsapp_connections where id = $1`,
        [id],
      ),
    );
    return row?.enabled ? row : null;
  }

  function connectionId(raw: string): string {
    const parsed = connectionParam.safeParse({ connection_id: raw });
    if (!parsed.success)
      throw new HttpError(404, 'not_found', 'No WhatsApp connection at this address.');
    return parsed.data.connection_id;
  }

  app.get('/whatsapp/:connection_id', async (c) => {
    const id = connectionId(c.req.param('connection_id'));
    const query = queryParams(c, handshake);
    const target = await connection(id);
    // An unknown connection and a wrong token answer alike.
    if (!target || !(await sameSecret(query['hub.verify_token'], target.verify_token)))
      throw new HttpError(403, 'bad_verify_token', 'The verify token does not match.');
    return c.text(query['hub.challenge']);
  });

  app.post('/whatsapp/:connection_id', async (c) => {
    const id = connectionId(c.req.param('connection_id'));
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const header = c.req.header('x-hub-signature-256');
    if (!header) throw new HttpError(401, 'missing_signature', 'X-Hub-Signature-256 is required.');
    const target = await connection(id);
    const check = target
      ? await verifyHubSignature(target.app_secret, raw, header)
      : ({ ok: false, code: 'bad_signature' } as const);
    if (!check.ok || !target)
      throw new HttpError(403, 'bad_signature', 'The signature does not verify.');
    // Meta redelivers what is refused for a while, so a tenant resumed soon still gets it.
    await deps.db.asService((sql) => requireActiveTenant(sql, target.tenant_id));

    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(raw));
    } catch {
      throw new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
    }
    const payload = webhookSchema.safeParse(json);
    if (!payload.success)
      throw new HttpError(400, 'invalid_request', 'Not a WhatsApp Business webhook delivery.');
    const delivery = readDelivery(payload.data, target.phone_number_id, target.business_account_id);
    if (delivery.skipped) deps.log(`whatsapp: ${delivery.skipped} part(s) of a delivery skipped`);

    // One transaction per message: a message that cannot be stored fails alone, and Meta's
    // redelivery (after the 500) finds the others already stored.
    const conversations = new Set<string>();
    for (const { message, profileName } of delivery.messages) {
      const stored = await deps.db.asService((sql) =>
        storeInbound(sql, target, message, profileName),
      );
      if (stored) conversations.add(stored.conversationId);
    }
    if (delivery.statuses.length) {
      await deps.db.asService(async (sql) => {
        for (const status of delivery.statuses) await storeStatus(sql, target, status);
      });
    }
    if (delivery.templates.length) {
      await deps.db.asService(async (sql) => {
        for (const update of delivery.templates) await storeTemplateUpdate(sql, target, update);
      });
      deps.waitUntil(
        deps.runner.drain({ orderingKey: `whatsapp_templates:${target.id}`, maxMs: 60_000 }),
      );
    }
    for (const conversationId of conversations) {
      deps.waitUntil(
        (async () => {
          await deps.runner.drain({
            orderingKey: `conversation:${conversationId}`,
            maxMs: 120_000,
          });
          await deps.runner.drain({
            orderingKey: `whatsapp_media:${conversationId}`,
            maxMs: 60_000,
          });
        })(),
      );
    }
    return c.json({ ok: true });
  });

  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}

export function createApp(context: FunctionContext) {
  return createWhatsappApp({
    db: context.db,
    runner: createContextRunner(context, 'whatsapp', createJobHandlers(context)),
    waitUntil: context.waitUntil,
    log: context.log,
  });
}
