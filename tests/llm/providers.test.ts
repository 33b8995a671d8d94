import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlmProvider } from '../../functions/_shared/llm/factory.ts';
import {
  type ChatMessage,
  LlmError,
  type LlmProvider,
  type ToolSpec,
} from '../../functions/_shared/llm/types.ts';
import { type FakeFormat, type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';

// Behaviour both providers owe the chat engine, each checked against its own wire format.

let llm: FakeLlm;
let sleeps: number[];

beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => {
  llm.reset();
  sleeps = [];
});

const ORDER_STATUS: ToolSpec = {
  name: 'order_status',
  description: 'Looks up an order by its number',
  parameters: {
    type: 'object',
    properties: { order_number: { type: 'string' } },
    required: ['order_number'],
  },
};

const question: ChatMessage[] = [
  { role: 'system', content: 'You are the support assistant of Tidehouse.' },
  { role: 'user', content: 'Where is my order TH-10421?' },
];

function provider(format: FakeFormat, options: { timeoutMs?: number; maxRetries?: number } = {}) {
  return createLlmProvider(
    { ...llm.config(format), ...options },
    {
      fetch,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
}

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmError);
  return error as LlmError;
}

describe.each<FakeFormat>(['openai', 'anthropic'])('%s provider', (format) => {
  let llmProvider: LlmProvider;
  beforeEach(() => {
    llmProvider = provider(format);
  });

  it('answers a plain question, with usage and the model that answered', async () => {
    llm.script({
      text: 'It left our warehouse yesterday.',
      usage: { inputTokens: 42, outputTokens: 7 },
    });

    const result = await llmProvider.complete({ messages: question });

    expect(result).toEqual({
      content: 'It left our warehouse yesterday.',
      toolCalls: [],
      usage: { inputTokens: 42, outputTokens: 7 },
      model: 'fake-model',
      finishReason: 'stop',
    });
    expect(llm.requests).toHaveLength(1);
    expect(llm.lastRequest()?.stream).toBe(false);
    expect(llm.lastRequest()?.lastUserText).toBe('Where is my order TH-10421?');
  });

  it('streams: the deltas concatenate to the content, and usage still arrives', async () => {
    const text = 'Your order TH-10421 shipped on Monday and arrives within two days.';
    llm.script({ text, usage: { inputTokens: 120, outputTokens: 18 } });
    const deltas: string[] = [];

    const result = await llmProvider.complete({
      messages: question,
      onDelta: (delta) => deltas.push(delta),
    });

    expect(llm.lastRequest()?.stream).toBe(true);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(text);
    expect(result.content).toBe(text);
    expect(result.usage).toEqual({ inputTokens: 120, outputTokens: 18 });
    expect(result.finishReason).toBe('stop');
  });

  it.each([false, true])('runs a tool round trip (streaming: %s)', async (streaming) => {
    llm.script(
      { toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-10421' } }] },
      { text: 'Your order shipped.' },
    );
    const onDelta = streaming ? () => {} : undefined;

    const first = await llmProvider.complete({
      messages: question,
      tools: [ORDER_STATUS],
      onDelta,
    });

    expect(first.finishReason).toBe('tool_calls');
    expect(first.toolCalls).toHaveLength(1);
    const [call] = first.toolCalls;
    expect(call).toMatchObject({
      name: 'order_status',
      arguments: { order_number: 'TH-10421' },
    });
    expect(call?.id).toBeTruthy();
    expect(JSON.parse(call?.rawArguments ?? '')).toEqual({ order_number: 'TH-10421' });

    const second = await llmProvider.complete({
      messages: [
        ...question,
        { role: 'assistant', content: first.content, toolCalls: first.toolCalls },
        {
          role: 'tool',
          toolCallId: call?.id ?? '',
          name: 'order_status',
          content: '{"status":"shipped"}',
        },
      ],
      tools: [ORDER_STATUS],
      onDelta,
    });

    expect(second.content).toBe('Your order shipped.');
    expect(second.finishReason).toBe('stop');
    // The fake refuses results that do not answer the calls before them, as the real APIs do.
    expect(llm.requests[1]?.toolResults).toEqual([
      { toolCallId: call?.id, content: '{"status":"shipped"}' },
    ]);
  });

  it.each([false, true])(
    'returns parallel tool calls in order (streaming: %s)',
    async (streaming) => {
      llm.script(
        {
          text: 'Let me check both.',
          toolCalls: [
            { name: 'order_status', arguments: { order_number: 'TH-1' } },
            { name: 'order_status', arguments: { order_number: 'TH-2' } },
            { name: 'store_hours', arguments: {} },
          ],
        },
        { text: 'Both shipped; we open at nine.' },
      );
      const onDelta = streaming ? () => {} : undefined;

      const first = await llmProvider.complete({
        messages: question,
        tools: [ORDER_STATUS],
        onDelta,
      });

      expect(first.content).toBe('Let me check both.');
      expect(first.toolCalls.map((call) => [call.name, call.arguments])).toEqual([
        ['order_status', { order_number: 'TH-1' }],
        ['order_status', { order_number: 'TH-2' }],
        ['store_hours', {}],
      ]);
      expect(new Set(first.toolCalls.map((call) => call.id)).size).toBe(3);

      const second = await llmProvider.complete({
        messages: [
          ...question,
          { role: 'assistant', content: first.content, toolCalls: first.toolCalls },
          ...first.toolCalls.map(
            (call, i): ChatMessage => ({
              role: 'tool',
              toolCallId: call.id,
              name: call.name,
              content: `result ${i}`,
            }),
          ),
        ],
        onDelta,
      });
      expect(second.content).toBe('Both shipped; we open at nine.');
      expect(llm.requests[1]?.toolResults).toEqual(
        first.toolCalls.map((call, i) => ({ toolCallId: call.id, content: `result ${i}` })),
      );
    },
  );

  it('keeps tool arguments that are not JSON as rawArguments, without throwing', async () => {
    llm.script({ toolCalls: [{ name: 'order_status', arguments: '{"order_number": "TH-1' }] });

    // Anthropic's non-streaming API always sends an object, so only a stream can break it.
    const result = await llmProvider.complete({
      messages: question,
      tools: [ORDER_STATUS],
      onDelta: () => {},
    });

    expect(result.toolCalls).toEqual([
      expect.objectContaining({
        name: 'order_status',
        arguments: undefined,
        rawArguments: '{"order_number": "TH-1',
      }),
    ]);
  });

  it('can send a malformed call back in the conversation', async () => {
    llm.script({ text: 'Which order number?' });
    await llmProvider.complete({
      messages: [
        ...question,
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            { id: 'call_bad', name: 'order_status', arguments: undefined, rawArguments: '{"x' },
          ],
        },
        {
          role: 'tool',
          toolCallId: 'call_bad',
          name: 'order_status',
          content: 'Invalid arguments',
          isError: true,
        },
      ],
    });
    expect(llm.lastRequest()?.toolResults).toEqual([
      { toolCallId: 'call_bad', content: 'Invalid arguments' },
    ]);
  });

  it('retries a 429 and honours retry-after', async () => {
    llm.script(
      { status: 429, error: 'Slow down', headers: { 'retry-after': '2' } },
      { text: 'Back again.' },
    );

    const result = await llmProvider.complete({ messages: question });

    expect(result.content).toBe('Back again.');
    expect(llm.requests).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
  });

  it('retries a 429 during streaming before any text has arrived', async () => {
    llm.script(
      { status: 429, headers: { 'retry-after-ms': '350' } },
      { text: 'Streamed after all.' },
    );
    const deltas: string[] = [];

    const result = await llmProvider.complete({
      messages: question,
      onDelta: (d) => deltas.push(d),
    });

    expect(result.content).toBe('Streamed after all.');
    expect(deltas.join('')).toBe('Streamed after all.');
    expect(sleeps).toEqual([350]);
  });

  it('gives up after maxRetries + 1 server errors, backing off exponentially', async () => {
    llm.script({ status: 500 }, { status: 502 }, { status: 503 }, { text: 'too late' });

    const error = await failure(llmProvider.complete({ messages: question }));

    expect(error.kind).toBe('server');
    expect(error.status).toBe(503);
    expect(error.message).toContain('scripted failure');
    expect(llm.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    // Equal jitter: each wait lies in [step/2, step], the step doubling from 500 ms.
    expect(sleeps[0]).toBeGreaterThanOrEqual(250);
    expect(sleeps[0]).toBeLessThanOrEqual(500);
    expect(sleeps[1]).toBeGreaterThanOrEqual(500);
    expect(sleeps[1]).toBeLessThanOrEqual(1000);
    expect(llm.pending()).toBe(1);
  });

  it('does not retry a 400', async () => {
    llm.script({ status: 400, error: 'context_length_exceeded' }, { text: 'never' });

    const error = await failure(llmProvider.complete({ messages: question }));

    expect(error).toMatchObject({ kind: 'bad_request', status: 400, retryable: false });
    expect(error.message).toContain('context_length_exceeded');
    expect(llm.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('reports a rejected key as auth, without retrying', async () => {
    const guarded = await startFakeLlm({ apiKey: 'the-right-key' });
    try {
      const wrongKey = createLlmProvider(
        { ...guarded.config(format), apiKey: 'a-wrong-key' },
        { fetch, sleep: async () => {} },
      );
      const error = await failure(wrongKey.complete({ messages: question }));
      expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
      expect(guarded.requests).toHaveLength(1);

      const rightKey = createLlmProvider(
        { ...guarded.config(format), apiKey: 'the-right-key' },
        { fetch },
      );
      expect((await rightKey.complete({ messages: question })).content).toBeTruthy();
    } finally {
      await guarded.close();
    }
  });

  it('times out a slow answer as kind timeout', async () => {
    llm.script({ text: 'too slow', delayMs: 2_000 });
    const impatient = provider(format, { timeoutMs: 100, maxRetries: 0 });

    const error = await failure(impatient.complete({ messages: question }));

    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('retries a timeout, and the timeout applies to each attempt', async () => {
    llm.script({ text: 'too slow', delayMs: 2_000 }, { text: 'On time.' });
    const impatient = provider(format, { timeoutMs: 300, maxRetries: 1 });

    const result = await impatient.complete({ messages: question });

    expect(result.content).toBe('On time.');
    expect(llm.requests).toHaveLength(2);
  });

  it('times out a stream that stalls halfway, without retrying text already delivered', async () => {
    llm.script({ text: 'One. Two. Three. Four.', chunkDelayMs: 400 }, { text: 'never' });
    const impatient = provider(format, { timeoutMs: 300, maxRetries: 2 });
    const deltas: string[] = [];

    const error = await failure(
      impatient.complete({ messages: question, onDelta: (d) => deltas.push(d) }),
    );

    expect(error).toMatchObject({ kind: 'timeout', retryable: false });
    expect(deltas.length).toBeGreaterThan(0);
    expect(llm.requests).toHaveLength(1);
  });

  it("stops at the caller's abort, as kind aborted", async () => {
    llm.script({ text: 'too slow', delayMs: 2_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    const error = await failure(
      llmProvider.complete({ messages: question, signal: controller.signal }),
    );

    expect(error).toMatchObject({ kind: 'aborted', retryable: false });
    expect(llm.requests).toHaveLength(1);
  });

  it('lets an exception from onDelta through untouched and does not retry', async () => {
    llm.script({ text: 'Some streamed text.' }, { text: 'never' });
    const boom = new Error('widget gone');

    const error = await llmProvider
      .complete({
        messages: question,
        onDelta: () => {
          throw boom;
        },
      })
      .catch((e: unknown) => e);

    expect(error).toBe(boom);
    expect(llm.requests).toHaveLength(1);
  });
});
