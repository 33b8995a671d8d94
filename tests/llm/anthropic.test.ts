import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createAnthropicProvider,
  toWireConversation,
} from '../../functions/_shared/llm/anthropic.ts';
import { FAKE_API_KEY, type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';

// Anthropic's Messages wire format in detail; the shared behaviour is in providers.test.ts.

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => llm.reset());

function stubFetch(respond: () => Response) {
  const calls: Array<{ url: string; body: Record<string, unknown> }> = [];
  const fn = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), body: JSON.parse(String(init.body)) });
    return respond();
  }) as typeof fetch;
  return { fetch: fn, calls };
}

function sseResponse(...events: Array<Record<string, unknown> & { type: string }>): Response {
  const body = events
    .map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
    .join('');
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

describe('Anthropic wire format', () => {
  it('sends headers, system, tools and a merged conversation as the Messages API expects', async () => {
    llm.script({ text: 'Both are on their way.' });
    const provider = createAnthropicProvider({
      ...llm.config('anthropic'),
      temperature: 1.5,
      fetch,
    });

    await provider.complete({
      messages: [
        { role: 'system', content: 'You are Tidehouse support.' },
        { role: 'system', content: 'Context: orders ship in 2 days.' },
        { role: 'user', content: 'Where are TH-1 and TH-2?' },
        {
          role: 'assistant',
          content: 'Checking.',
          toolCalls: [
            { id: 'toolu_1', name: 'order_status', arguments: { n: 'TH-1' }, rawArguments: '' },
            { id: 'toolu_2', name: 'order_status', arguments: { n: 'TH-2' }, rawArguments: '' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_1', name: 'order_status', content: 'shipped' },
        {
          role: 'tool',
          toolCallId: 'toolu_2',
          name: 'order_status',
          content: 'lookup failed',
          isError: true,
        },
        { role: 'user', content: 'Thanks!' },
      ],
      tools: [
        {
          name: 'order_status',
          description: 'Order lookup',
          parameters: { type: 'object', properties: { n: { type: 'string' } } },
        },
      ],
    });

    const request = llm.lastRequest();
    expect(request?.path).toBe('/v1/messages');
    expect(request?.headers['x-api-key']).toBe(FAKE_API_KEY);
    expect(request?.headers['anthropic-version']).toBe('2023-06-01');
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({
      model: 'fake-model',
      max_tokens: 1024,
      system: 'You are Tidehouse support.\n\nContext: orders ship in 2 days.',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Where are TH-1 and TH-2?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'order_status', input: { n: 'TH-1' } },
            { type: 'tool_use', id: 'toolu_2', name: 'order_status', input: { n: 'TH-2' } },
          ],
        },
        {
          // Both results and the next user message make one user turn, results first.
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'shipped' },
            {
              type: 'tool_result',
              tool_use_id: 'toolu_2',
              content: 'lookup failed',
              is_error: true,
            },
            { type: 'text', text: 'Thanks!' },
          ],
        },
      ],
      tools: [
        {
          name: 'order_status',
          description: 'Order lookup',
          input_schema: { type: 'object', properties: { n: { type: 'string' } } },
        },
      ],
      // Clamped to Anthropic's range.
      temperature: 1,
    });
  });

  it('uses the caller’s max_tokens, and reports max_tokens as length', async () => {
    llm.script({ text: 'Trunc', finishReason: 'max_tokens' });
    const provider = createAnthropicProvider({ ...llm.config('anthropic'), fetch });

    const result = await provider.complete({
      messages: [{ role: 'user', content: 'Long answer please' }],
      maxTokens: 5,
      onDelta: () => {},
    });

    expect(llm.lastRequest()?.body.max_tokens).toBe(5);
    expect(result.finishReason).toBe('length');
  });

  it('streams a call without arguments as {}', async () => {
    llm.script({ toolCalls: [{ name: 'store_hours', arguments: {} }] });
    const provider = createAnthropicProvider({ ...llm.config('anthropic'), fetch });

    const result = await provider.complete({
      messages: [{ role: 'user', content: 'Open now?' }],
      onDelta: () => {},
    });

    expect(result.toolCalls).toEqual([
      {
        id: expect.stringMatching(/^toolu_/),
        name: 'store_hours',
        arguments: {},
        rawArguments: '{}',
      },
    ]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('retries 529 overloaded', async () => {
    llm.script({ status: 529, error: 'Overloaded' }, { text: 'Here now.' });
    const sleeps: number[] = [];
    const provider = createAnthropicProvider({
      ...llm.config('anthropic'),
      fetch,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    const result = await provider.complete({ messages: [{ role: 'user', content: 'Hi' }] });

    expect(result.content).toBe('Here now.');
    expect(sleeps).toHaveLength(1);
  });

  it('counts cache reads and writes as input tokens', async () => {
    const stub = stubFetch(() =>
      Response.json({
        model: 'claude-3-5-haiku-20241022',
        content: [{ type: 'text', text: 'ok' }],
        stop_reason: 'end_turn',
        usage: {
          input_tokens: 10,
          cache_creation_input_tokens: 100,
          cache_read_input_tokens: 1000,
          output_tokens: 3,
        },
      }),
    );
    const provider = createAnthropicProvider({
      model: 'claude-3-5-haiku-latest',
      apiKey: 'k',
      fetch: stub.fetch,
    });

    const result = await provider.complete({ messages: [{ role: 'user', content: 'Hi' }] });

    expect(stub.calls[0]?.url).toBe('https://api.anthropic.com/v1/messages');
    expect(result.usage).toEqual({ inputTokens: 1110, outputTokens: 3 });
    expect(result.model).toBe('claude-3-5-haiku-20241022');
  });

  it('turns an error event mid-stream into an LlmError of the right kind', async () => {
    const stub = stubFetch(() =>
      sseResponse(
        {
          type: 'message_start',
          message: { model: 'm', usage: { input_tokens: 5, output_tokens: 1 } },
        },
        { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
      ),
    );
    const provider = createAnthropicProvider({
      model: 'm',
      baseUrl: 'http://local',
      fetch: stub.fetch,
      maxRetries: 0,
    });

    const error = await provider
      .complete({ messages: [{ role: 'user', content: 'Hi' }], onDelta: () => {} })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'server', message: expect.stringContaining('Overloaded') });
  });

  it('ignores blocks it does not use (thinking) and keeps block order for tool calls', async () => {
    const stub = stubFetch(() =>
      Response.json({
        model: 'm',
        content: [
          { type: 'thinking', thinking: '…', signature: 'x' },
          { type: 'text', text: 'Looking.' },
          { type: 'tool_use', id: 'toolu_a', name: 'a', input: { x: 1 } },
          { type: 'tool_use', id: 'toolu_b', name: 'b', input: {} },
        ],
        stop_reason: 'tool_use',
        usage: { input_tokens: 1, output_tokens: 1 },
      }),
    );
    const provider = createAnthropicProvider({
      model: 'm',
      baseUrl: 'http://local',
      fetch: stub.fetch,
    });

    const result = await provider.complete({ messages: [{ role: 'user', content: 'Hi' }] });

    expect(result.content).toBe('Looking.');
    expect(result.toolCalls.map((call) => [call.id, call.arguments, call.rawArguments])).toEqual([
      ['toolu_a', { x: 1 }, '{"x":1}'],
      ['toolu_b', {}, '{}'],
    ]);
    expect(result.finishReason).toBe('tool_calls');
  });
});

describe('toWireConversation', () => {
  it('hoists every system message, merges same-role turns and drops empty text', () => {
    expect(
      toWireConversation([
        { role: 'system', content: 'Rules.' },
        { role: 'user', content: 'Hello' },
        { role: 'user', content: 'Anyone there?' },
        { role: 'system', content: 'The visitor is waiting.' },
        { role: 'assistant', content: '' },
        { role: 'assistant', content: 'Yes!' },
        { role: 'user', content: '' },
      ]),
    ).toEqual({
      system: 'Rules.\n\nThe visitor is waiting.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello' },
            { type: 'text', text: 'Anyone there?' },
          ],
        },
        { role: 'assistant', content: [{ type: 'text', text: 'Yes!' }] },
      ],
    });
  });

  it('sends arguments that were not JSON as an empty input object', () => {
    const { messages } = toWireConversation([
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: '',
        toolCalls: [{ id: 't1', name: 'x', arguments: undefined, rawArguments: '{"broken' }],
      },
    ]);
    expect(messages[1]?.content).toEqual([{ type: 'tool_use', id: 't1', name: 'x', input: {} }]);
  });
});
