import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../../functions/_shared/webhooks/signature.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  startChatHarness,
  TOOL_SECRET,
  Visitor,
} from '../../support/chat.ts';
import { FAKE_API_KEY } from '../../support/fake-llm.ts';
import { type N8nInstance, startN8n } from './n8n-instance.ts';

// Every template in a real n8n, with the Parley node installed from its packed tarball, behind the
// local stack: a visitor's message makes the bot call each tool workflow (the fake LLM asks for
// the call and repeats what the tool answered), and the relay templates write the replies
// themselves, at once (n8n's AI Agent, on the fake LLM) or later through /n8n-callback.

let h: ChatHarness;
let n8n: N8nInstance;
const log = (line: string) => console.log(`[test:n8n] ${line}`);

beforeAll(async () => {
  h = await startChatHarness();
  n8n = await startN8n({
    secret: TOOL_SECRET,
    parleyUrl: h.stack.url,
    openAiUrl: h.llm.url.openai,
    openAiKey: FAKE_API_KEY,
    log,
  });
  // Production webhooks are registered as n8n activates the workflows, a moment after it is ready.
  for (const path of PATHS) await waitForWebhook(n8n.webhookUrl(path));
});
afterAll(async () => {
  await n8n?.stop();
  await h?.close();
});

const VARIANTS = ['parley', 'webhook'] as const;
const PATHS = [
  'order-status',
  'booking',
  'crm-lookup',
  'ai-agent-relay',
  'long-running-relay',
].flatMap((use) => VARIANTS.map((variant) => `parley-${use}-${variant}`));

async function waitForWebhook(url: string) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const status = await fetch(url, { method: 'POST', body: '{}' }).then(
      (res) => res.status,
      () => 0,
    );
    if (status !== 0 && status !== 404) return;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  throw new Error(`${url} never registered:\n${n8n.output()}`);
}

async function visitorSays(tenantKey: string, content: string) {
  const visitor = await Visitor.signIn(h);
  const session = await visitor.call('sessions', { key: tenantKey });
  const conversationId = session.body.conversation.id as string;
  await visitor.subscribe(conversationId);
  await visitor.call('messages', {
    conversation_id: conversationId,
    client_msg_id: 'e2e',
    content,
  });
  const reply = await visitor.waitFor(isReply, 90_000);
  await visitor.close();
  return { conversationId, reply: reply.payload as { content: string; quick_replies?: string[] } };
}

const TOOLS = [
  {
    use: 'order-status',
    tool: 'order_status',
    arguments: { order_number: 'TH-10421' },
    says: 'Where is my order TH-10421?',
    expect: /shipped/,
  },
  {
    use: 'booking',
    tool: 'book_fitting',
    arguments: { store: 'Denver', date: '2026-12-10', time: '10:30', name: 'Ana' },
    says: 'Book me a fitting in Denver on 10 December at 10:30, I am Ana.',
    expect: /FIT-/,
  },
  {
    use: 'crm-lookup',
    tool: 'crm_lookup',
    arguments: { email: 'ana@example.com' },
    says: 'I am ana@example.com, am I a gold member?',
    expect: /gold/,
  },
];

describe.each(VARIANTS)('templates with %s', (variant) => {
  it.each(TOOLS)('$use: the bot calls the workflow and answers from it', async (tool) => {
    const tenant = await createTenant(h, {
      llm: 'openai',
      tools: [{ name: tool.tool, path: '/unused', timeoutMs: 30_000 }],
    });
    await h.db.asService((sql) =>
      sql.query('update public.tenant_tools set webhook_url = $2 where tenant_id = $1', [
        tenant.id,
        n8n.webhookUrl(`parley-${tool.use}-${variant}`),
      ]),
    );
    h.llm.script({ toolCalls: [{ name: tool.tool, arguments: tool.arguments }] }, (request) => ({
      text: `The tool says: ${request.toolResults[0]?.content ?? 'nothing'}`,
    }));
    const { conversationId, reply } = await visitorSays(tenant.key, tool.says);
    expect(reply.content).toMatch(tool.expect);
    const [audit] = await h.db.asService((sql) =>
      sql.query<{ success: boolean; n8n_execution_id: string | null }>(
        'select success, n8n_execution_id from public.tool_executions where conversation_id = $1',
        [conversationId],
      ),
    );
    expect(audit?.success).toBe(true);
    expect(audit?.n8n_execution_id).toMatch(/^\d+$/);
  });

  async function relayTenant(use: string) {
    const tenant = await createTenant(h, { engine: 'n8n', n8nPath: '/unused' });
    await h.db.asService((sql) =>
      sql.query('update public.tenants set n8n_webhook_url = $2 where id = $1', [
        tenant.id,
        n8n.webhookUrl(`parley-${use}-${variant}`),
      ]),
    );
    return tenant;
  }

  it("ai-agent-relay: n8n's AI Agent answers the visitor at once", async () => {
    const tenant = await relayTenant('ai-agent-relay');
    h.llm.script({ text: 'Hello from the n8n AI Agent.' });
    const { reply } = await visitorSays(tenant.key, 'Do you ship to Canada?');
    expect(reply.content).toBe('Hello from the n8n AI Agent.');
    expect(h.llm.lastRequest()?.lastUserText).toContain('Do you ship to Canada?');
  });

  it('long-running-relay: 202 at once, the reply later through the callback', async () => {
    const tenant = await relayTenant('long-running-relay');
    const { reply } = await visitorSays(tenant.key, 'Can someone check my warranty?');
    expect(reply.content).toContain('Thanks for waiting');
    expect(reply.quick_replies).toEqual(['Thanks!', 'Talk to a person']);
  });
});

describe('the Parley Trigger at the door', () => {
  const body = JSON.stringify({
    tool: 'order_status',
    arguments: { order_number: 'TH-10421' },
    call_id: 'call_e2e',
    conversation: { id: '00000000-0000-4000-8000-000000000001', tenant_id: 't', contact: null },
  });
  const post = (headers: Record<string, string>) =>
    fetch(n8n.webhookUrl('parley-order-status-parley'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('refuses an unsigned call, answers a signed one, and refuses its replay', async () => {
    expect((await post({})).status).toBe(401);
    const signed = signRequest({ secret: TOOL_SECRET, body, id: `msg_${crypto.randomUUID()}` });
    const first = await post(signed);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ found: true, status: 'shipped' });
    expect((await post(signed)).status).toBe(409);
  });
});
