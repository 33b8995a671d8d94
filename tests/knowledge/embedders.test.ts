import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmbedder,
  EmbeddingsConfigError,
} from '../../functions/_shared/embeddings/config.ts';
import { EMBEDDING_DIMENSIONS } from '../../functions/_shared/embeddings/embedder.ts';
import {
  createGteSmallEmbedder,
  type SupabaseAiGlobal,
} from '../../functions/_shared/embeddings/gte-small.ts';
import { hashingEmbedding } from '../../functions/_shared/embeddings/hashing.ts';
import {
  createOpenAiCompatibleEmbedder,
  EmbeddingRequestError,
} from '../../functions/_shared/embeddings/openai-compatible.ts';

// A tiny stand-in for an OpenAI-compatible embeddings server: each request takes the next scripted
// reply (or the default one), and every request is recorded.

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: { model: string; input: string[]; dimensions: number; encoding_format?: string };
}
type Reply = (request: Recorded) => {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
};

const vectorFor = (text: string, dimensions = EMBEDDING_DIMENSIONS) =>
  hashingEmbedding(text).slice(0, dimensions);

/** Answers with the inputs' vectors in reverse order, each with its index, as servers may. */
const ok: Reply = (request) => ({
  status: 200,
  body: {
    object: 'list',
    model: request.body.model,
    data: request.body.input
      .map((text, index) => ({ object: 'embedding', index, embedding: vectorFor(text) }))
      .reverse(),
  },
});

let server: Server;
let baseUrl: string;
let requests: Recorded[] = [];
let script: Reply[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const recorded: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(raw || '{}'),
      };
      requests.push(recorded);
      const reply = (script.shift() ?? ok)(recorded);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  script = [];
});

function embedder(options: { batchSize?: number; maxRetries?: number; apiKey?: string } = {}) {
  const sleeps: number[] = [];
  const instance = createOpenAiCompatibleEmbedder({
    baseUrl: `${baseUrl}/`,
    apiKey: options.apiKey ?? 'sk-test-key',
    model: 'text-embedding-3-small',
    batchSize: options.batchSize ?? 2,
    maxRetries: options.maxRetries ?? 3,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0,
  });
  return { instance, sleeps };
}

const httpError =
  (status: number, message: string, headers?: Record<string, string>): Reply =>
  () => ({
    status,
    body: { error: { message, type: 'test' } },
    ...(headers ? { headers } : {}),
  });

describe('OpenAI-compatible embedder', () => {
  it('posts batches to {baseUrl}/embeddings asking for 384 dimensions, in input order', async () => {
    const { instance } = embedder({ batchSize: 2 });
    const texts = [
      'boots',
      'returns within 60 days',
      'free shipping over $75',
      'warranty',
      'Denver',
    ];
    const vectors = await instance.embed(texts);
    expect(vectors).toEqual(texts.map((t) => vectorFor(t)));
    expect(instance.model).toBe('text-embedding-3-small');
    expect(requests.map((r) => r.body.input)).toEqual([
      ['boots', 'returns within 60 days'],
      ['free shipping over $75', 'warranty'],
      ['Denver'],
    ]);
    for (const request of requests) {
      expect(request.method).toBe('POST');
      expect(request.url).toBe('/v1/embeddings');
      expect(request.headers.authorization).toBe('Bearer sk-test-key');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.body).toMatchObject({ model: 'text-embedding-3-small', dimensions: 384 });
    }
    expect(await instance.embed([])).toEqual([]);
    expect(requests).toHaveLength(3);
  });

  it('sends no authorization header without a key', async () => {
    const instance = createOpenAiCompatibleEmbedder({ baseUrl, model: 'nomic-embed-text' });
    await instance.embed(['hello']);
    expect(requests[0]?.headers.authorization).toBeUndefined();
    expect(requests[0]?.body.model).toBe('nomic-embed-text');
  });

  it('refuses vectors of the wrong size, without retrying', async () => {
    script = [
      (request) => ({
        status: 200,
        body: {
          data: request.body.input.map((text, index) => ({
            index,
            embedding: hashingEmbedding(`${text} ${text}`).concat(hashingEmbedding(text)),
          })),
        },
      }),
    ];
    const { instance } = embedder();
    const failure = instance.embed(['a', 'b']);
    await expect(failure).rejects.toThrow(EmbeddingRequestError);
    await expect(failure).rejects.toThrow(/768 dimensions, expected 384/);
    expect(requests).toHaveLength(1);

    script = [() => ({ status: 200, body: { data: [{ index: 0, embedding: vectorFor('a') }] } })];
    await expect(instance.embed(['a', 'b'])).rejects.toThrow(/1 vectors for 2 inputs/);
  });

  it('retries a 429 after the time Retry-After asks for', async () => {
    script = [httpError(429, 'Rate limit reached', { 'retry-after': '2' })];
    const { instance, sleeps } = embedder();
    expect(await instance.embed(['tent'])).toEqual([vectorFor('tent')]);
    expect(requests).toHaveLength(2);
    expect(sleeps).toEqual([2000]);
  });

  it('retries 5xx with growing backoff, then gives up with the last error', async () => {
    script = [httpError(502, 'bad gateway'), httpError(503, 'overloaded')];
    const { instance, sleeps } = embedder();
    expect(await instance.embed(['x'])).toEqual([vectorFor('x')]);
    expect(sleeps).toEqual([500, 1000]);

    requests = [];
    script = Array.from({ length: 4 }, () => httpError(500, 'boom'));
    const exhausted = embedder({ maxRetries: 3 });
    const error = await exhausted.instance.embed(['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingRequestError);
    expect(error).toMatchObject({ status: 500, retryable: true });
    expect((error as Error).message).toContain('HTTP 500 boom');
    expect(requests).toHaveLength(4);
    expect(exhausted.sleeps).toEqual([500, 1000, 2000]);
  });

  it("does not retry other client errors, and passes the server's reason on", async () => {
    script = [httpError(401, 'Incorrect API key provided')];
    const { instance, sleeps } = embedder();
    const error = await instance.embed(['x']).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect((error as Error).message).toBe(
      'embeddings request failed: HTTP 401 Incorrect API key provided',
    );
  });

  it('retries when the server cannot be reached', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const instance = createOpenAiCompatibleEmbedder({
      baseUrl,
      fetch: async (input, init) => {
        calls++;
        if (calls === 1) throw new TypeError('fetch failed');
        return fetch(input, init);
      },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0,
    });
    expect(await instance.embed(['x'])).toEqual([vectorFor('x')]);
    expect(calls).toBe(2);
    expect(sleeps).toEqual([500]);
  });
});

/** A stand-in for the edge runtime's `Supabase` global. */
function fakeSupabase(dimensions = EMBEDDING_DIMENSIONS, asFloat32 = false) {
  const sessions: string[] = [];
  const runs: { input: string; options: unknown }[] = [];
  const supabase: SupabaseAiGlobal = {
    ai: {
      Session: class {
        constructor(model: string) {
          sessions.push(model);
        }
        async run(input: string, options: unknown) {
          runs.push({ input, options });
          const vector = vectorFor(input, dimensions);
          return asFloat32 ? Float32Array.from(vector) : vector;
        }
      },
    },
  };
  return { supabase, sessions, runs };
}

describe('gte-small embedder', () => {
  it('runs each input through one gte-small session, mean-pooled and normalised', async () => {
    const fake = fakeSupabase();
    const instance = createGteSmallEmbedder(fake.supabase);
    expect(instance.model).toBe('gte-small');
    expect(await instance.embed(['boots', 'tent'])).toEqual([
      vectorFor('boots'),
      vectorFor('tent'),
    ]);
    expect(await instance.embed(['river'])).toEqual([vectorFor('river')]);
    expect(fake.sessions).toEqual(['gte-small']);
    expect(fake.runs).toEqual(
      ['boots', 'tent', 'river'].map((input) => ({
        input,
        options: { mean_pool: true, normalize: true },
      })),
    );
  });

  it('accepts typed arrays and refuses a vector of the wrong size', async () => {
    const typed = createGteSmallEmbedder(fakeSupabase(384, true).supabase);
    const [vector] = await typed.embed(['boots']);
    expect(vector).toHaveLength(384);
    expect(Array.isArray(vector)).toBe(true);
    const wrong = createGteSmallEmbedder(fakeSupabase(256).supabase);
    await expect(wrong.embed(['boots'])).rejects.toThrow(/256 dimensions.*expected 384/);
  });
});

describe('createEmbedder', () => {
  it('uses the hashing embedder by default, and gte-small inside the Supabase runtime', () => {
    expect(createEmbedder({}).model).toBe('parley-hashing-384');
    expect(createEmbedder({ EMBEDDINGS_PROVIDER: ' Hashing ' }).model).toBe('parley-hashing-384');
    const { supabase } = fakeSupabase();
    expect(createEmbedder({}, { supabase }).model).toBe('gte-small');
    expect(createEmbedder({ EMBEDDINGS_PROVIDER: 'hashing' }, { supabase }).model).toBe(
      'parley-hashing-384',
    );
  });

  it('builds an OpenAI-compatible embedder from the environment', async () => {
    const env = {
      EMBEDDINGS_PROVIDER: 'openai',
      EMBEDDINGS_BASE_URL: baseUrl,
      OPENAI_API_KEY: 'sk-from-openai-var',
    };
    const fromOpenAiKey = createEmbedder(env);
    expect(fromOpenAiKey.model).toBe('text-embedding-3-small');
    await fromOpenAiKey.embed(['a']);
    expect(requests[0]?.headers.authorization).toBe('Bearer sk-from-openai-var');

    const own = createEmbedder({
      ...env,
      EMBEDDINGS_API_KEY: 'sk-embeddings',
      EMBEDDINGS_MODEL: 'text-embedding-3-large',
    });
    expect(own.model).toBe('text-embedding-3-large');
    await own.embed(['a']);
    expect(requests[1]?.headers.authorization).toBe('Bearer sk-embeddings');
    expect(requests[1]?.body).toMatchObject({ model: 'text-embedding-3-large', dimensions: 384 });

    // A self-hosted server needs no key.
    expect(
      createEmbedder({ EMBEDDINGS_PROVIDER: 'openai', EMBEDDINGS_BASE_URL: baseUrl }).model,
    ).toBe('text-embedding-3-small');
  });

  it('refuses configurations that cannot work', () => {
    expect(() => createEmbedder({ EMBEDDINGS_PROVIDER: 'openai' })).toThrow(EmbeddingsConfigError);
    expect(() =>
      createEmbedder({ EMBEDDINGS_PROVIDER: 'openai', EMBEDDINGS_BASE_URL: 'not a url' }),
    ).toThrow(/not a URL/);
    expect(() => createEmbedder({ EMBEDDINGS_PROVIDER: 'gte-small' })).toThrow(/edge runtime/);
    expect(() => createEmbedder({ EMBEDDINGS_PROVIDER: 'word2vec' })).toThrow(
      /unknown EMBEDDINGS_PROVIDER "word2vec"/,
    );
  });
});
