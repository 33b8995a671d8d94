import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callToolWebhook, executionIdOf } from '../../functions/_shared/tools/call-tool.ts';
import {
  type ChatHarness,
  createTenant,
  isReply,
  startChatHarness,
  TOOL_SECRET,
  Visitor,
} from '../support/chat.ts';

// n8n's execution id in Parley's tool log: the X-N8N-Execution-Id header, or `executionId` in the
// JSON answer.

describe('executionIdOf', () => {
  it('reads the header first, then the answer, then its only item', () => {
    const headers = new Headers({ 'X-N8N-Execution-Id': ' 812 ' });
    expect(executionIdOf(headers, { executionId: 'body' })).toBe('812');
    expect(executionIdOf(new Headers(), { executionId: 913 })).toBe('913');
    expect(executionIdOf(new Headers(), [{ executionId: '77' }])).toBe('77');
    expect(executionIdOf(new Headers(), [{ executionId: '1' }, { executionId: '2' }])).toBeNull();
    expect(executionIdOf(new Headers(), { executionId: 'x'.repeat(101) })).toBeNull();
    expect(executionIdOf(new Headers({ 'x-n8n-execution-id': 'has space' }), {})).toBeNull();
  });

  it('is part of a tool call result, failed ones included', async () => {
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      (async () =>
        new Response(JSON.stringify(body), {
          status,
          headers: { 'content-type': 'application/json', ...headers },
        })) as typeof fetch;
    const base = {
      url: 'https://tools.example/order',
      secret: TOOL_SECRET,
      timeoutMs: 1_000,
      body: { tool: 'order_status', arguments: {}, call_id: 'c', conversation: {} },
      sleep: async () => {},
    };
    const ok = await callToolWebhook({
      ...base,
      fetch: answer(200, { found: true, executionId: 5 }),
    });
    expect(ok).toMatchObject({ ok: true, n8nExecutionId: '5' });
    const failed = await callToolWebhook({
      ...base,
      fetch: answer(500, { error: 'boom' }, { 'x-n8n-execution-id': '6' }),
    });
    expect(failed).toMatchObject({ ok: false, n8nExecutionId: '6' });
    const none = await callToolWebhook({ ...base, fetch: answer(200, { found: true }) });
    expect(none.n8nExecutionId).toBeUndefined();
  });
});

describe('tool_executions.n8n_execution_id', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness();
  }, 120_000);
  afterAll(() => h?.close());

  it("records the relay's execution id from n8n's response header", async () => {
    h.receiver.on('/n8n-exec', {
      status: 200,
      body: { output: 'Answered by the agent.' },
      headers: { 'X-N8N-Execution-Id': '4711' },
    });
    const tenant = await createTenant(h, { engine: 'n8n', n8nPath: '/n8n-exec' });
    const visitor = await Visitor.signIn(h);
    const session = await visitor.call('sessions', { key: tenant.key });
    const conversationId = session.body.conversation.id as string;
    await visitor.subscribe(conversationId);
    await visitor.call('messages', {
      conversation_id: conversationId,
      client_msg_id: 'e1',
      content: 'Which run answers me?',
    });
    expect((await visitor.waitFor(isReply)).payload.content).toBe('Answered by the agent.');
    const rows = await h.db.asService((sql) =>
      sql.query<{ tool_name: string; n8n_execution_id: string | null }>(
        'select tool_name, n8n_execution_id from public.tool_executions where conversation_id = $1',
        [conversationId],
      ),
    );
    expect(rows).toEqual([{ tool_name: 'parley.reply', n8n_execution_id: '4711' }]);
    await visitor.close();
  });
});
