import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmProvider, resolveLlmConfig } from '../../functions/_shared/llm/factory.ts';
import { type FakeLlm, startFakeLlm } from '../support/fake-llm.ts';

describe('resolveLlmConfig', () => {
  it('is null when nothing is configured', () => {
    expect(resolveLlmConfig({}, null, {})).toBeNull();
    expect(resolveLlmConfig(null, null, { LLM_PROVIDER: '', OPENAI_API_KEY: ' ' })).toBeNull();
  });

  it('uses the platform OpenAI key with the default model and endpoint', () => {
    expect(resolveLlmConfig({}, null, { OPENAI_API_KEY: 'sk-platform' })).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'https://api.openai.com/v1',
      apiKey: 'sk-platform',
      keySource: 'platform',
    });
  });

  it('infers Anthropic from its key alone', () => {
    expect(resolveLlmConfig({}, null, { ANTHROPIC_API_KEY: 'sk-ant' })).toMatchObject({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      baseUrl: 'https://api.anthropic.com',
      apiKey: 'sk-ant',
    });
  });

  it('takes LLM_PROVIDER, LLM_MODEL and LLM_API_KEY as the platform default', () => {
    expect(
      resolveLlmConfig({}, null, {
        LLM_PROVIDER: 'anthropic',
        LLM_MODEL: 'claude-3-5-sonnet-latest',
        LLM_API_KEY: 'sk-ant-generic',
        OPENAI_API_KEY: 'sk-openai',
      }),
    ).toEqual({
      provider: 'anthropic',
      model: 'claude-3-5-sonnet-latest',
      baseUrl: 'https://api.anthropic.com',
      apiKey: 'sk-ant-generic',
      keySource: 'platform',
    });
  });

  it('needs no key for a self-hosted server such as Ollama', () => {
    expect(
      resolveLlmConfig({}, null, {
        LLM_PROVIDER: 'openai',
        LLM_BASE_URL: 'http://ollama:11434/v1/',
        LLM_MODEL: 'llama3.1:8b',
      }),
    ).toEqual({
      provider: 'openai',
      model: 'llama3.1:8b',
      baseUrl: 'http://ollama:11434/v1',
      keySource: 'none',
    });
  });

  it('is null for a hosted API without a key', () => {
    expect(resolveLlmConfig({}, null, { LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o' })).toBeNull();
    expect(resolveLlmConfig({ provider: 'anthropic' }, null, { OPENAI_API_KEY: 'sk' })).toBeNull();
  });

  it("lets the tenant choose the model and temperature on the platform's account", () => {
    expect(
      resolveLlmConfig({ model: 'gpt-4o', temperature: 0.2 }, null, {
        LLM_PROVIDER: 'openai',
        LLM_MODEL: 'gpt-4o-mini',
        LLM_API_KEY: 'sk-platform',
      }),
    ).toEqual({
      provider: 'openai',
      model: 'gpt-4o',
      baseUrl: 'https://api.openai.com/v1',
      apiKey: 'sk-platform',
      temperature: 0.2,
      keySource: 'platform',
    });
  });

  it("uses the tenant's own key and provider over the platform's", () => {
    expect(
      resolveLlmConfig({ provider: 'anthropic' }, 'sk-ant-tenant', {
        LLM_PROVIDER: 'openai',
        LLM_MODEL: 'gpt-4o-mini',
        LLM_API_KEY: 'sk-platform',
      }),
    ).toEqual({
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      baseUrl: 'https://api.anthropic.com',
      apiKey: 'sk-ant-tenant',
      keySource: 'tenant',
    });
  });

  it("uses the platform's key for the other provider when it has one", () => {
    expect(
      resolveLlmConfig({ provider: 'anthropic' }, null, {
        LLM_PROVIDER: 'openai',
        LLM_API_KEY: 'sk-openai',
        ANTHROPIC_API_KEY: 'sk-ant',
      }),
    ).toMatchObject({ provider: 'anthropic', apiKey: 'sk-ant', keySource: 'platform' });
  });

  it("never sends the platform's key to a tenant's own server", () => {
    const env = { LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o-mini', LLM_API_KEY: 'sk-platform' };
    expect(
      resolveLlmConfig({ base_url: 'https://llm.tenant.example/v1', model: 'qwen2.5' }, null, env),
    ).toEqual({
      provider: 'openai',
      model: 'qwen2.5',
      baseUrl: 'https://llm.tenant.example/v1',
      keySource: 'none',
    });
    expect(
      resolveLlmConfig({ base_url: 'https://llm.tenant.example/v1', model: 'qwen2.5' }, 'tk', env),
    ).toMatchObject({ apiKey: 'tk', keySource: 'tenant' });
  });

  it("does not guess a model for a tenant's own server", () => {
    expect(
      resolveLlmConfig({ base_url: 'http://10.0.0.5:11434/v1' }, null, {
        LLM_PROVIDER: 'openai',
        LLM_MODEL: 'gpt-4o-mini',
        LLM_API_KEY: 'sk-platform',
      }),
    ).toBeNull();
  });

  it('defaults a lone tenant key to OpenAI', () => {
    expect(resolveLlmConfig({}, 'sk-tenant', {})).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini',
      apiKey: 'sk-tenant',
      keySource: 'tenant',
    });
  });

  it('treats blanks and nulls from the admin form as unset', () => {
    expect(
      resolveLlmConfig({ provider: '', model: null, base_url: '  ', temperature: null }, null, {
        OPENAI_API_KEY: 'sk-platform',
      }),
    ).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-platform' });
  });

  it("is null for an invalid tenant config rather than billing the platform's account", () => {
    const env = { OPENAI_API_KEY: 'sk-platform' };
    expect(resolveLlmConfig({ provider: 'gemini' }, null, env)).toBeNull();
    expect(resolveLlmConfig({ temperature: 7 }, null, env)).toBeNull();
    expect(resolveLlmConfig({ base_url: 'file:///etc/passwd', model: 'x' }, null, env)).toBeNull();
    expect(resolveLlmConfig('not an object', null, env)).toBeNull();
  });

  it('throws on an invalid environment: the operator must fix it', () => {
    expect(() => resolveLlmConfig({}, null, { LLM_PROVIDER: 'gemini' })).toThrow(/LLM_PROVIDER/);
  });
});

describe('createLlmProvider', () => {
  let llm: FakeLlm;
  beforeAll(async () => {
    llm = await startFakeLlm();
  });
  afterAll(() => llm.close());

  it.each(['openai', 'anthropic'] as const)(
    'builds a working %s provider from a resolved config',
    async (format) => {
      const config = resolveLlmConfig({ temperature: 0.5 }, null, llm.env(format));
      expect(config).not.toBeNull();
      if (!config) return;

      const provider = createLlmProvider(config, { fetch });
      expect(provider.provider).toBe(format);
      expect(provider.model).toBe('fake-model');

      llm.script({ text: `Hello via ${format}.` });
      const result = await provider.complete({ messages: [{ role: 'user', content: 'Hi' }] });
      expect(result.content).toBe(`Hello via ${format}.`);
      expect(llm.lastRequest()?.format).toBe(format);
      expect(llm.lastRequest()?.body.temperature).toBe(0.5);
    },
  );
});
