import type { Embedder } from './embedder.ts';
import { createGteSmallEmbedder, type SupabaseAiGlobal } from './gte-small.ts';
import { createHashingEmbedder } from './hashing.ts';
import {
  createOpenAiCompatibleEmbedder,
  DEFAULT_OPENAI_EMBEDDINGS_MODEL,
} from './openai-compatible.ts';

// One embedder per deployment, chosen by environment. Documents and questions must be embedded by
// the same model, so every caller builds its embedder here from the same variables.

export const EMBEDDINGS_PROVIDERS = ['hashing', 'openai', 'gte-small'] as const;
export type EmbeddingsProvider = (typeof EMBEDDINGS_PROVIDERS)[number];

export interface EmbedderDeps {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** The edge runtime's `Supabase` global, where there is one. */
  supabase?: SupabaseAiGlobal | null;
}

export class EmbeddingsConfigError extends Error {
  override readonly name = 'EmbeddingsConfigError';
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const hasSupabaseAi = (
  supabase: SupabaseAiGlobal | null | undefined,
): supabase is SupabaseAiGlobal => typeof supabase?.ai?.Session === 'function';

/**
 * EMBEDDINGS_PROVIDER picks the model:
 * - `gte-small`: Supabase's built-in model (the default inside the Supabase edge runtime);
 * - `openai`: an OpenAI-compatible endpoint, EMBEDDINGS_BASE_URL (default OpenAI's),
 *   EMBEDDINGS_API_KEY or OPENAI_API_KEY, EMBEDDINGS_MODEL (default text-embedding-3-small);
 * - `hashing`: the deterministic local embedder (the default everywhere else).
 */
export function createEmbedder(
  env: Readonly<Record<string, string | undefined>>,
  deps: EmbedderDeps = {},
): Embedder {
  const configured = env.EMBEDDINGS_PROVIDER?.trim().toLowerCase();
  const provider = configured || (hasSupabaseAi(deps.supabase) ? 'gte-small' : 'hashing');
  switch (provider) {
    case 'hashing':
      return createHashingEmbedder();
    case 'gte-small':
      if (!hasSupabaseAi(deps.supabase)) {
        throw new EmbeddingsConfigError(
          'EMBEDDINGS_PROVIDER=gte-small needs the Supabase edge runtime (Supabase.ai)',
        );
      }
      return createGteSmallEmbedder(deps.supabase);
    case 'openai': {
      const baseUrl = env.EMBEDDINGS_BASE_URL?.trim() || OPENAI_BASE_URL;
      const apiKey = env.EMBEDDINGS_API_KEY?.trim() || env.OPENAI_API_KEY?.trim() || undefined;
      // Self-hosted servers (Ollama, vLLM) often need no key; OpenAI always does.
      let host: string;
      try {
        host = new URL(baseUrl).hostname;
      } catch {
        throw new EmbeddingsConfigError(`EMBEDDINGS_BASE_URL is not a URL: ${baseUrl}`);
      }
      if (!apiKey && host === 'api.openai.com') {
        throw new EmbeddingsConfigError(
          'EMBEDDINGS_PROVIDER=openai needs EMBEDDINGS_API_KEY or OPENAI_API_KEY',
        );
      }
      return createOpenAiCompatibleEmbedder({
        baseUrl,
        apiKey,
        model: env.EMBEDDINGS_MODEL?.trim() || DEFAULT_OPENAI_EMBEDDINGS_MODEL,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      });
    }
    default:
      throw new EmbeddingsConfigError(
        `unknown EMBEDDINGS_PROVIDER ${JSON.stringify(configured)}; expected one of ${EMBEDDINGS_PROVIDERS.join(', ')}`,
      );
  }
}
