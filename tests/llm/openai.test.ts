import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOpenAiProvider } from '../../functions/_shared/llm/openai.ts';
import { LlmError } from '../../functions/_shared/llm/types.ts';
import { FAKE_API_KEY, type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';

// The OpenAI-compatible wire format in detail; the shared behaviour is in providers.test.ts.

let llm: FakeLlm;
beforeAll(async () => {
  llm = await startFakeLlm();
});
afterAll(() => llm.close());
beforeEach(() => llm.reset());

const noSleep = async () => {};

/** A fetch that answers every call with `respond()` and remembers what it was asked. */
function stubFetch(respond: () => Response) {
  const calls: Array<{ url: string; init: RequestInit; body: Record<string, unknown> }> = [];
  const fn = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), init, body: JSON.parse(String(init.body)) });
    return respond();
  }) as typeof fetch;
  return { fetch: fn, calls };
}

function sseResponse(...events: string[]): Response {
  return new Response(events.map((data) => `data: ${data}\n\n`).join(''), {
    headers: { 'content-type': 'text/event-stream' },
  });
}

describe('OpenAI-compatible wire format', () => {
  it('sends messages, tools and settings as Chat Completions expects', async () => {
    llm.script({ text: 'Shipped.' });
    const provider = createOpenAiProvider({
      ...llm.config('openai'),
      temperature: 0.3,
      fetch,
    });

    await provider.complete({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Order TH-1?' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [
            {
              id: 'call_1',
              name: 'order_status',
              arguments: { order_number: 'TH-1' },
              rawArguments: '{"order_number": "TH-1"}',
            },
          ],
        },
        { role: 'tool', toolCallId: 'call_1', name: 'order_status', content: '{"ok":true}' },
      ],
      tools: [
        {
          name: 'order_status',
          description: 'Order lookup',
          parameters: { type: 'object', properties: {} },
        },
      ],
      maxTokens: 200,
    });

    const request = llm.lastRequest();
    expect(request?.path).toBe('/v1/chat/completions');
    expect(request?.headers.authorization).toBe(`Bearer ${FAKE_API_KEY}`);
    expect(request?.body).toEqual({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Order TH-1?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              // The model's own text goes back verbatim, spacing and all.
              function: { name: 'order_status', arguments: '{"order_number": "TH-1"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', name: 'order_status', content: '{"ok":true}' },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'order_status',
            description: 'Order lookup',
            parameters: { type: 'object', properties: {} },
          },
        },
      ],
      max_tokens: 200,
      temperature: 0.3,
    });
  });

  it('asks for usage in the stream, and lets a request override the temperature', async () => {
    llm.script({ text: 'Hi.' });
    const provider = createOpenAiProvider({ ...llm.config('openai'), temperature: 0.3, fetch });

    await provider.complete({
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0,
      onDelta: () => {},
    });

    expect(llm.lastRequest()?.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0,
    });
  });

  it('sends no Authorization header without a key, as Ollama needs none', async () => {
    llm.script({ text: 'Local.' });
    const provider = createOpenAiProvider({
      model: 'llama3.1',
      baseUrl: `${llm.url.openai}/`,
      fetch,
    });

    expect((await provider.complete({ messages: [{ role: 'user', content: 'Hi' }] })).content).toBe(
      'Local.',
    );
    expect(llm.lastRequest()?.headers.authorization).toBeUndefined();
  });

  it("uses max_completion_tokens on OpenAI's own API", async () => {
    const stub = stubFetch(() =>
      Response.json({ choices: [{ message: { content: 'ok' }, finish_reason: 'stop' }] }),
    );
    const provider = createOpenAiProvider({
      model: 'gpt-4o-mini',
      apiKey: 'sk-test',
      fetch: stub.fetch,
    });

    await provider.complete({ messages: [{ role: 'user', content: 'Hi' }], maxTokens: 50 });

    expect(stub.calls[0]?.url).toBe('https://api.openai.com/v1/chat/completions');
    expect(stub.calls[0]?.body).toMatchObject({ max_completion_tokens: 50 });
    expect(stub.calls[0]?.body).not.toHaveProperty('max_tokens');
  });

  it('reports tool calls as such even when the server says stop (Ollama does)', async () => {
    llm.script({
      toolCalls: [{ name: 'order_status', arguments: { order_number: 'TH-9' } }],
      finishReason: 'stop',
    });
    const provider = createOpenAiProvider({ ...llm.config('openai'), fetch });

    const result = await provider.complete({ messages: [{ role: 'user', content: 'TH-9?' }] });

    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls[0]?.arguments).toEqual({ order_number: 'TH-9' });
  });

  it('maps length and unknown finish reasons', async () => {
    llm.script(
      { text: 'Cut', finishReason: 'length' },
      { text: '', finishReason: 'content_filter' },
    );
    const provider = createOpenAiProvider({ ...llm.config('openai'), fetch });
    const messages = [{ role: 'user' as const, content: 'Hi' }];

    expect((await provider.complete({ messages })).finishReason).toBe('length');
    expect((await provider.complete({ messages, onDelta: () => {} })).finishReason).toBe('other');
  });

  it('tolerates servers that leave out usage and tool call ids', async () => {
    const stub = stubFetch(() =>
      Response.json({
        choices: [
          {
            message: {
              content: null,
              tool_calls: [{ function: { name: 'store_hours', arguments: { day: 'mon' } } }],
            },
          },
        ],
      }),
    );
    const provider = createOpenAiProvider({
      model: 'm',
      baseUrl: 'http://local/v1',
      fetch: stub.fetch,
    });

    const result = await provider.complete({ messages: [{ role: 'user', content: 'Hours?' }] });

    expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(result.model).toBe('m');
    expect(result.toolCalls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        name: 'store_hours',
        arguments: { day: 'mon' },
        rawArguments: '{"day":"mon"}',
      },
    ]);
  });

  it('delivers a whole reply as one delta when a server ignores stream: true', async () => {
    const stub = stubFetch(() =>
      Response.json({ choices: [{ message: { content: 'All at once.' }, finish_reason: 'stop' }] }),
    );
    const provider = createOpenAiProvider({
      model: 'm',
      baseUrl: 'http://local/v1',
      fetch: stub.fetch,
    });
    const deltas: string[] = [];

    const result = await provider.complete({
      messages: [{ role: 'user', content: 'Hi' }],
      onDelta: (d) => deltas.push(d),
    });

    expect(deltas).toEqual(['All at once.']);
    expect(result.content).toBe('All at once.');
  });

  it('retries a stream cut off before any text, and fails one cut off after', async () => {
    let calls = 0;
    const cutEarly = stubFetch(() =>
      ++calls === 1
        ? sseResponse('{"choices":[{"delta":{"role":"assistant"}}]}')
        : sseResponse(
            '{"choices":[{"delta":{"content":"Second try."}}]}',
            '{"choices":[{"delta":{},"finish_reason":"stop"}]}',
            '[DONE]',
          ),
    );
    const provider = createOpenAiProvider({
      model: 'm',
      baseUrl: 'http://local/v1',
      fetch: cutEarly.fetch,
      sleep: noSleep,
    });
    const result = await provider.complete({
      messages: [{ role: 'user', content: 'Hi' }],
      onDelta: () => {},
    });
    expect(result.content).toBe('Second try.');
    expect(cutEarly.calls).toHaveLength(2);

    const cutLate = stubFetch(() => sseResponse('{"choices":[{"delta":{"content":"Half a"}}]}'));
    const late = createOpenAiProvider({
      model: 'm',
      baseUrl: 'http://local/v1',
      fetch: cutLate.fetch,
      sleep: noSleep,
    });
    const error = await late
      .complete({ messages: [{ role: 'user', content: 'Hi' }], onDelta: () => {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: 'network', retryable: false });
    expect(cutLate.calls).toHaveLength(1);
  });

  it('turns an error sent mid-stream into an LlmError', async () => {
    const stub = stubFetch(() => sseResponse('{"error":{"message":"model crashed"}}'));
    const provider = createOpenAiProvider({
      model: 'm',
      baseUrl: 'http://local/v1',
      fetch: stub.fetch,
      maxRetries: 0,
    });

    const error = await provider
      .complete({ messages: [{ role: 'user', content: 'Hi' }], onDelta: () => {} })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      kind: 'server',
      message: expect.stringContaining('model crashed'),
    });
  });

  it('does not retry a 429 for an exhausted quota', async () => {
    const stub = stubFetch(() =>
      Response.json(
        { error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } },
        { status: 429 },
      ),
    );
    const provider = createOpenAiProvider({
      model: 'm',
      apiKey: 'k',
      fetch: stub.fetch,
      sleep: noSleep,
    });

    const error = await provider
      .complete({ messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'rate_limited', retryable: false });
    expect(stub.calls).toHaveLength(1);
  });

  it('calls an unreachable server a network error, after retrying', async () => {
    const closed = await startFakeLlm();
    const baseUrl = closed.url.openai;
    await closed.close();
    const sleeps: number[] = [];
    const provider = createOpenAiProvider({
      model: 'm',
      baseUrl,
      fetch,
      maxRetries: 1,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    const error = await provider
      .complete({ messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'network', retryable: true });
    expect(sleeps).toHaveLength(1);
  });

  it('calls a 2xx that is not a completion an invalid response', async () => {
    const stub = stubFetch(() => new Response('<html>proxy login</html>', { status: 200 }));
    const provider = createOpenAiProvider({
      model: 'm',
      baseUrl: 'http://local/v1',
      fetch: stub.fetch,
    });

    const error = await provider
      .complete({ messages: [{ role: 'user', content: 'Hi' }] })
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ kind: 'invalid_response', retryable: false });
  });
});
