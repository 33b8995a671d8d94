import { describe, expect, it } from 'vitest';
import { createLlmProvider } from '../../functions/_shared/llm/factory.ts';
import { callToolWebhook } from '../../functions/_shared/tools/call-tool.ts';

// U+0000 from upstream (a model's reply or tool call, a tool's answer) is removed before anything
// is stored: Postgres cannot store it, so a reply holding one failed on every retry and the visitor
// never got an answer. Input from callers is refused instead (tests/chat/bad-input.test.ts).

const NUL = '\u0000';

const llm = (answer: (body: Record<string, unknown>) => Response) =>
  createLlmProvider(
    { provider: 'openai', model: 'm', baseUrl: 'http://llm.test/v1', apiKey: 'k', maxRetries: 0 },
    {
      fetch: (async (_url: string, init: RequestInit) =>
        answer(JSON.parse(String(init.body)))) as typeof fetch,
    },
  );

describe('a model’s output', () => {
  it('reaches Parley without U+0000: reply text, tool call and model name', async () => {
    const provider = llm(() =>
      Response.json({
        model: `m${NUL}`,
        choices: [
          {
            message: {
              role: 'assistant',
              content: `Your order${NUL} shipped.`,
              tool_calls: [
                {
                  id: `call${NUL}1`,
                  type: 'function',
                  // The model writes JSON: U+0000 arrives escaped, and is real once parsed.
                  function: { name: 'order_status', arguments: '{"order\\u0000":"TH-1\\u0000"}' },
                },
              ],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4 },
      }),
    );
    const result = await provider.complete({ messages: [{ role: 'user', content: 'Hi' }] });
    expect(result.content).toBe('Your order shipped.');
    expect(result.model).toBe('m');
    expect(result.toolCalls).toEqual([
      {
        id: 'call1',
        name: 'order_status',
        arguments: { order: 'TH-1' },
        rawArguments: '{"order\\u0000":"TH-1\\u0000"}',
      },
    ]);
  });

  it('and when streamed, in every delta too', async () => {
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      `data: ${JSON.stringify({ model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const provider = llm(
      () =>
        new Response(
          `${chunk({ role: 'assistant', content: `Hel${NUL}` })}${chunk({ content: `lo${NUL}` }, 'stop')}data: [DONE]\n\n`,
          { headers: { 'content-type': 'text/event-stream' } },
        ),
    );
    const deltas: string[] = [];
    const result = await provider.complete({
      messages: [{ role: 'user', content: 'Hi' }],
      onDelta: (text) => deltas.push(text),
    });
    expect(result.content).toBe('Hello');
    expect(deltas.join('')).toBe('Hello');
  });
});

describe('a tool’s answer', () => {
  const SECRET = `whsec_${Buffer.from('tool-secret-for-tests').toString('base64')}`;
  const call = (answer: string) =>
    callToolWebhook({
      url: 'http://tool.test/order',
      secret: SECRET,
      timeoutMs: 2_000,
      maxAttempts: 1,
      body: { tool: 'order_status', arguments: {}, call_id: 'c1', conversation: {} },
      fetch: (async () =>
        new Response(answer, { headers: { 'content-type': 'application/json' } })) as typeof fetch,
    });

  it('is stored without U+0000, JSON or not', async () => {
    const json = await call(
      `{"status${NUL}":"shipped${NUL}","items":["a${NUL}"]}`.replaceAll(NUL, '\\u0000'),
    );
    expect(json.ok).toBe(true);
    expect(json.response).toEqual({ status: 'shipped', items: ['a'] });
    const text = await call(`shipped${NUL} today`);
    expect(JSON.stringify(text.response)).not.toContain('\\u0000');
  });
});
