import { z } from 'zod';
import { stripNul } from '../text/nul.ts';
import { ANTHROPIC_DEFAULT_BASE_URL, createAnthropicProvider } from './anthropic.ts';
import { trimTrailingSlash } from './http.ts';
import { createOpenAiProvider, OPENAI_DEFAULT_BASE_URL } from './openai.ts';
import type { LlmProvider, LlmProviderName } from './types.ts';

export interface LlmConfig {
  provider: LlmProviderName;
  model: string;
  baseUrl?: string;
  apiKey?: string;
  temperature?: number;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface LlmDeps {
  fetch: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export function createLlmProvider(config: LlmConfig, deps: LlmDeps): LlmProvider {
  const options = {
    model: config.model,
    fetch: deps.fetch,
    ...(config.baseUrl === undefined ? {} : { baseUrl: config.baseUrl }),
    ...(config.apiKey === undefined ? {} : { apiKey: config.apiKey }),
    ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
    ...(config.timeoutMs === undefined ? {} : { timeoutMs: config.timeoutMs }),
    ...(config.maxRetries === undefined ? {} : { maxRetries: config.maxRetries }),
    ...(deps.sleep === undefined ? {} : { sleep: deps.sleep }),
    ...(deps.now === undefined ? {} : { now: deps.now }),
  };
  return withoutNul(
    config.provider === 'anthropic'
      ? createAnthropicProvider(options)
      : createOpenAiProvider(options),
  );
}

/**
 * A model can emit U+0000, which Postgres cannot store: the reply (and every retry of it) would
 * fail to save and the visitor would never get an answer. Whatever a model writes reaches the rest
 * of Parley without it.
 */
function withoutNul(provider: LlmProvider): LlmProvider {
  return {
    provider: provider.provider,
    model: provider.model,
    async complete(request) {
      const { onDelta } = request;
      const result = await provider.complete(
        onDelta ? { ...request, onDelta: (text) => onDelta(stripNul(text)) } : request,
      );
      return {
        ...result,
        content: stripNul(result.content),
        model: stripNul(result.model),
        toolCalls: stripNul(result.toolCalls),
      };
    },
  };
}

export interface ResolvedLlmConfig extends LlmConfig {
  baseUrl: string;
  /** Whose key pays for the call: usage billed to the platform is only what it paid for. */
  keySource: 'tenant' | 'platform' | 'none';
}

const DEFAULT_BASE_URL: Record<LlmProviderName, string> = {
  openai: OPENAI_DEFAULT_BASE_URL,
  anthropic: ANTHROPIC_DEFAULT_BASE_URL,
};

/** Used only against the provider's own API, where the name is known to exist. */
const DEFAULT_MODEL: Record<LlmProviderName, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
};

const PROVIDER_KEY_ENV: Record<LlmProviderName, 'OPENAI_API_KEY' | 'ANTHROPIC_API_KEY'> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};

const ProviderName = z.enum(['openai', 'anthropic']);
const HttpUrl = z.url({ protocol: /^https?$/ }).transform(trimTrailingSlash);

/** tenants.llm_config; empty strings and nulls mean "not set", as an admin form leaves them. */
const TenantLlmConfig = z.object({
  provider: z.preprocess(blankToUndefined, ProviderName.optional()),
  model: z.preprocess(blankToUndefined, z.string().max(200).optional()),
  base_url: z.preprocess(blankToUndefined, HttpUrl.optional()),
  temperature: z.preprocess(blankToUndefined, z.number().min(0).max(2).optional()),
});

const PlatformEnv = z.object({
  LLM_PROVIDER: z.preprocess(blankToUndefined, ProviderName.optional()),
  LLM_MODEL: z.preprocess(blankToUndefined, z.string().optional()),
  LLM_BASE_URL: z.preprocess(blankToUndefined, HttpUrl.optional()),
  LLM_API_KEY: z.preprocess(blankToUndefined, z.string().optional()),
  OPENAI_API_KEY: z.preprocess(blankToUndefined, z.string().optional()),
  ANTHROPIC_API_KEY: z.preprocess(blankToUndefined, z.string().optional()),
});

/** Trims strings, and makes blanks and nulls undefined. */
function blankToUndefined(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value === 'string') return value.trim() || undefined;
  return value;
}

/**
 * Which LLM a tenant's bot talks to: the tenant's `llm_config` and key over the platform defaults
 * from the environment. Null means no LLM is configured, and the bot answers from retrieval alone.
 *
 * The platform's key is only ever sent to the platform's own endpoint for that provider: a tenant
 * that points `base_url` at another server gets the tenant's key or none. Hosted APIs (OpenAI's,
 * Anthropic's) need a key; self-hosted ones such as Ollama do not. An invalid tenant config also
 * yields null rather than quietly falling back to the platform's account; an invalid environment
 * throws, being the operator's mistake to fix.
 */
export function resolveLlmConfig(
  tenantLlmConfig: unknown,
  tenantApiKey: string | null,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedLlmConfig | null {
  const platformParsed = PlatformEnv.safeParse(env);
  if (!platformParsed.success) {
    throw new Error(`Invalid LLM environment: ${z.prettifyError(platformParsed.error)}`);
  }
  const platform = platformParsed.data;
  const tenantParsed = TenantLlmConfig.safeParse(tenantLlmConfig ?? {});
  if (!tenantParsed.success) return null;
  const tenant = tenantParsed.data;
  const tenantKey = tenantApiKey?.trim() || undefined;

  const platformProvider: LlmProviderName | undefined =
    platform.LLM_PROVIDER ??
    (platform.LLM_API_KEY || platform.LLM_BASE_URL || platform.LLM_MODEL || platform.OPENAI_API_KEY
      ? 'openai'
      : platform.ANTHROPIC_API_KEY
        ? 'anthropic'
        : undefined);
  // A tenant's own key with nothing else chosen is most likely an OpenAI key.
  const provider = tenant.provider ?? platformProvider ?? (tenantKey ? 'openai' : undefined);
  if (!provider) return null;

  const isPlatformProvider = provider === platformProvider;
  const platformBaseUrl =
    (isPlatformProvider ? platform.LLM_BASE_URL : undefined) ?? DEFAULT_BASE_URL[provider];
  const baseUrl = tenant.base_url ?? platformBaseUrl;
  const onPlatformEndpoint = baseUrl === platformBaseUrl;
  const onHostedApi = baseUrl === DEFAULT_BASE_URL[provider];

  const platformKey =
    (isPlatformProvider ? platform.LLM_API_KEY : undefined) ?? platform[PROVIDER_KEY_ENV[provider]];
  const apiKey = tenantKey ?? (onPlatformEndpoint ? platformKey : undefined);
  if (!apiKey && onHostedApi) return null;

  const model =
    tenant.model ??
    (isPlatformProvider && onPlatformEndpoint ? platform.LLM_MODEL : undefined) ??
    (onHostedApi ? DEFAULT_MODEL[provider] : undefined);
  if (!model) return null;

  return {
    provider,
    model,
    baseUrl,
    ...(apiKey ? { apiKey } : {}),
    ...(tenant.temperature === undefined ? {} : { temperature: tenant.temperature }),
    keySource: tenantKey ? 'tenant' : apiKey ? 'platform' : 'none',
  };
}
