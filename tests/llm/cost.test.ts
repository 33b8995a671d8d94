import { describe, expect, it } from 'vitest';
import {
  estimateCostUsd,
  knownPrices,
  priceOverridesFromEnv,
} from '../../functions/_shared/llm/cost.ts';

describe('estimateCostUsd', () => {
  it('prices known models per million tokens', () => {
    expect(
      estimateCostUsd('gpt-4o-mini', { inputTokens: 1_000_000, outputTokens: 1_000_000 }),
    ).toBe(0.75);
    expect(estimateCostUsd('gpt-4o', { inputTokens: 2_000, outputTokens: 500 })).toBe(0.01);
    expect(
      estimateCostUsd('claude-3-5-haiku-20241022', { inputTokens: 10_000, outputTokens: 1_000 }),
    ).toBe(0.012);
  });

  it('matches dated, tagged and routed model names by the longest prefix', () => {
    expect(knownPrices('gpt-4o-mini-2024-07-18')).toEqual({
      inputPerMTok: 0.15,
      outputPerMTok: 0.6,
    });
    expect(knownPrices('gpt-4o-2024-08-06')).toEqual({ inputPerMTok: 2.5, outputPerMTok: 10 });
    expect(knownPrices('openai/GPT-4o-mini')).toEqual({ inputPerMTok: 0.15, outputPerMTok: 0.6 });
    expect(knownPrices('claude-3-5-sonnet-latest')).toEqual({ inputPerMTok: 3, outputPerMTok: 15 });
  });

  it('costs nothing for unknown (self-hosted) models', () => {
    expect(estimateCostUsd('llama3.1:8b', { inputTokens: 5_000, outputTokens: 5_000 })).toBe(0);
  });

  it('applies overrides side by side', () => {
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000 };
    expect(estimateCostUsd('llama3.1:8b', usage, { inputPerMTok: 0.2, outputPerMTok: 0.4 })).toBe(
      0.6,
    );
    expect(estimateCostUsd('gpt-4o-mini', usage, { outputPerMTok: 1 })).toBe(1.15);
  });

  it('rounds to the micro-dollar the database keeps', () => {
    expect(estimateCostUsd('gpt-4o-mini', { inputTokens: 3, outputTokens: 0 })).toBe(0);
    expect(estimateCostUsd('gpt-4o-mini', { inputTokens: 7, outputTokens: 3 })).toBe(0.000003);
  });
});

describe('priceOverridesFromEnv', () => {
  it('reads numbers and ignores blanks and garbage', () => {
    expect(
      priceOverridesFromEnv({ LLM_PRICE_INPUT_PER_MTOK: '0.5', LLM_PRICE_OUTPUT_PER_MTOK: '1.5' }),
    ).toEqual({ inputPerMTok: 0.5, outputPerMTok: 1.5 });
    expect(
      priceOverridesFromEnv({ LLM_PRICE_INPUT_PER_MTOK: '', LLM_PRICE_OUTPUT_PER_MTOK: 'cheap' }),
    ).toEqual({});
    expect(priceOverridesFromEnv({ LLM_PRICE_INPUT_PER_MTOK: '-1' })).toEqual({});
  });
});
