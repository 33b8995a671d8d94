import {
  createClient,
  FunctionsHttpError,
  type RealtimeChannel,
  type SupabaseClient,
} from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { Db } from '../../functions/_shared/db/port.ts';
import { createPostgresDb } from '../../functions/_shared/db/postgres.ts';
import { FAKE_API_KEY, FAKE_MODEL, type FakeLlm, startFakeLlm } from './fake-llm.ts';
import { type StackProcess, startStack } from './stack.ts';
import { startToolReceiver, type ToolReceiver } from './tool-receiver.ts';

// The conversation engine under test: the local stack as a child process, a fake LLM and an n8n
// stand-in (tool receiver) in this process, and visitors using the official client.

export const TOOL_SECRET = 'whsec_dG9vbC1zZWNyZXQtZm9yLXRlc3RzLTAxMjM0NTY3ODk=';

export interface ChatHarness {
  stack: StackProcess;
  db: Db;
  llm: FakeLlm;
  receiver: ToolReceiver;
  close(): Promise<void>;
}

export async function startChatHarness(env: Record<string, string> = {}): Promise<ChatHarness> {
  const [stack, llm, receiver] = await Promise.all([
    startStack({ env: { CHAT_VISITOR_MESSAGES_PER_MINUTE: '8', ...env } }),
    startFakeLlm(),
    startToolReceiver({ secret: TOOL_SECRET }),
  ]);
  const db = createPostgresDb(stack.dbUrl, { max: 1 });
  return {
    stack,
    db,
    llm,
    receiver,
    async close() {
      await stack.stop();
      await db.close();
      await llm.close();
      await receiver.close();
    },
  };
}

export interface TenantOptions {
  llm?: 'openai' | 'anthropic' | null;
  tools?: {
    name: string;
    path: string;
    parameters?: Record<string, unknown>;
    timeoutMs?: number;
  }[];
  allowedOrigins?: string[];
  enforceIdentity?: boolean;
  engine?: 'ai' | 'n8n';
  n8nPath?: string;
  documents?: { title: string; content: string }[];
  /** Merged over the default bot settings (prechat_form, greeting, …). */
  botConfig?: Record<string, unknown>;
}

export interface TestTenant {
  id: string;
  key: string;
  identitySecret: string;
  n8nSecret: string;
}

export async function createTenant(
  h: ChatHarness,
  options: TenantOptions = {},
): Promise<TestTenant> {
  const slug = `t-${crypto.randomUUID().slice(0, 12)}`;
  const llmConfig =
    options.llm === null || options.llm === undefined
      ? {}
      : { provider: options.llm, base_url: h.llm.url[options.llm], model: FAKE_MODEL };
  return h.db.asService(async (sql) => {
    const [tenant] = await sql.query<{ id: string; widget_key: string }>(
      `insert into public.tenants (name, slug, allowed_origins, llm_config, enforce_identity, bot_engine, n8n_webhook_url, bot_config)
       values ($1, $2, $3::text[], $4::jsonb, $5, $6, $7, $8::jsonb) returning id, widget_key`,
      [
        `Shop ${slug}`,
        slug,
        options.allowedOrigins ?? [],
        llmConfig,
        options.enforceIdentity ?? false,
        options.engine ?? 'ai',
        options.n8nPath ? h.receiver.url(options.n8nPath) : null,
        {
          name: 'Test bot',
          greeting: { en: 'Hi!', es: '¡Hola!' },
          system_prompt: 'You help a test shop.',
          ...options.botConfig,
        },
      ],
    );
    if (!tenant) throw new Error('no tenant');
    await sql.query(
      'update public.tenant_secrets set llm_api_key = $2, n8n_secret = $3 where tenant_id = $1',
      [tenant.id, options.llm ? FAKE_API_KEY : null, TOOL_SECRET],
    );
    for (const tool of options.tools ?? []) {
      await sql.query(
        `insert into public.tenant_tools (tenant_id, name, description, webhook_url, secret, parameters, timeout_ms)
         values ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
        [
          tenant.id,
          tool.name,
          `Test tool ${tool.name}`,
          h.receiver.url(tool.path),
          TOOL_SECRET,
          tool.parameters ?? { type: 'object', properties: {} },
          tool.timeoutMs ?? 2000,
        ],
      );
    }
    for (const [i, doc] of (options.documents ?? []).entries()) {
      // Inserting a pending document queues its ingestion.
      await sql.query(
        `insert into public.documents (tenant_id, title, content, mime_type, status, source_url)
         values ($1, $2, $3, 'text/markdown', 'pending', $4)`,
        [tenant.id, doc.title, doc.content, `https://docs.example/${i}`],
      );
    }
    const [secrets] = await sql.query<{ identity_secret: string; n8n_secret: string }>(
      'select identity_secret, n8n_secret from public.tenant_secrets where tenant_id = $1',
      [tenant.id],
    );
    return {
      id: tenant.id,
      key: tenant.widget_key,
      identitySecret: secrets?.identity_secret ?? '',
      n8nSecret: secrets?.n8n_secret ?? '',
    };
  });
}

/** Runs queued jobs now (documents to ingest), as pg_cron would within seconds. */
export async function runWorker(h: ChatHarness) {
  const res = await fetch(`${h.stack.url}/functions/v1/worker`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${h.stack.keys.serviceRoleKey}`,
      'content-type': 'application/json',
    },
    body: '{}',
  });
  if (res.status !== 200) throw new Error(`worker answered ${res.status}: ${await res.text()}`);
  return res.json() as Promise<{ processed: number; succeeded: number; failed: number }>;
}

export interface BroadcastEvent {
  event: string;
  payload: Record<string, unknown>;
}

// Response bodies are only ever read by assertions, which check their shape.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyJson = Record<string, any>;

export class Visitor {
  readonly events: BroadcastEvent[] = [];
  private channel: RealtimeChannel | null = null;

  private constructor(
    readonly client: SupabaseClient,
    readonly userId: string,
    readonly token: string,
  ) {}

  static async signIn(h: ChatHarness): Promise<Visitor> {
    let token = '';
    const client = createClient(h.stack.url, h.stack.keys.anonKey, {
      auth: { autoRefreshToken: false, persistSession: false },
      realtime: { transport: WebSocket as never },
    });
    const { data, error } = await client.auth.signInAnonymously();
    if (error || !data.session || !data.user) throw error ?? new Error('no session');
    token = data.session.access_token;
    return new Visitor(client, data.user.id, token);
  }

  /** POST/GET a chat route; returns status and JSON body (errors included), for assertions. */
  async call(
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    method = body === undefined ? 'GET' : 'POST',
  ) {
    const { data, error, response } = await this.client.functions.invoke(`chat/${path}`, {
      method: method as 'GET' | 'POST',
      headers,
      ...(body === undefined ? {} : { body: body as Record<string, unknown> }),
    });
    if (error instanceof FunctionsHttpError) {
      const res = error.context as Response;
      return { status: res.status, body: (await res.json()) as AnyJson };
    }
    if (error) throw error;
    return { status: response?.status ?? 0, body: data as AnyJson };
  }

  async subscribe(conversationId: string) {
    await this.client.realtime.setAuth(this.token);
    await new Promise<void>((resolve, reject) => {
      this.channel = this.client
        .channel(`conversation:${conversationId}`, { config: { private: true } })
        .on('broadcast', { event: '*' }, (message) => {
          this.events.push({
            event: message.event,
            payload: message.payload as Record<string, unknown>,
          });
        })
        .subscribe((status, err) => {
          if (status === 'SUBSCRIBED') resolve();
          else if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
            reject(err ?? new Error(status));
        });
    });
  }

  async waitFor(
    predicate: (e: BroadcastEvent) => boolean,
    timeoutMs = 15_000,
  ): Promise<BroadcastEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no matching broadcast; got ${JSON.stringify(this.events.map((e) => [e.event, e.payload.role]))}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  replies() {
    return this.events.filter(
      (e) => e.event === 'message_created' && e.payload.role === 'assistant',
    );
  }

  async close() {
    await this.client.removeAllChannels();
  }
}

export const isReply = (e: BroadcastEvent) =>
  e.event === 'message_created' && e.payload.role === 'assistant';
