import type { TokenUsage } from './types.ts';

export interface TokenPrices {
  /** US dollars per million input (prompt) tokens. */
  inputPerMTok: number;
  /** US dollars per million output (completion) tokens. */
  outputPerMTok: number;
}

/**
 * List prices of the models Parley is usually run with, by model-name prefix (providers append
 * dates and tags: `gpt-4o-mini-2024-07-18`, `claude-3-5-haiku-latest`). Longer prefixes first, so
 * `gpt-4o-mini` is not priced as `gpt-4o`. Self-hosted models cost nothing per token.
 */
const PRICES: ReadonlyArray<readonly [prefix: string, prices: TokenPrices]> = [
  ['gpt-4o-mini', { inputPerMTok: 0.15, outputPerMTok: 0.6 }],
  ['gpt-4o', { inputPerMTok: 2.5, outputPerMTok: 10 }],
  ['gpt-4.1-nano', { inputPerMTok: 0.1, outputPerMTok: 0.4 }],
  ['gpt-4.1-mini', { inputPerMTok: 0.4, outputPerMTok: 1.6 }],
  ['gpt-4.1', { inputPerMTok: 2, outputPerMTok: 8 }],
  ['claude-3-5-haiku', { inputPerMTok: 0.8, outputPerMTok: 4 }],
  ['claude-haiku-4-5', { inputPerMTok: 1, outputPerMTok: 5 }],
  ['claude-3-5-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-3-7-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-sonnet-4', { inputPerMTok: 3, outputPerMTok: 15 }],
];

export function knownPrices(model: string): TokenPrices | undefined {
  // Routers prefix the vendor: `openai/gpt-4o-mini`.
  const name = model.toLowerCase().split('/').at(-1) ?? '';
  let best: readonly [string, TokenPrices] | undefined;
  for (const entry of PRICES) {
    if (name.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1];
}

/**
 * What a completion cost. Overrides (from `LLM_PRICE_INPUT_PER_MTOK` / `LLM_PRICE_OUTPUT_PER_MTOK`)
 * take precedence side by side, for negotiated prices or models missing from the table.
 */
export function estimateCostUsd(
  model: string,
  usage: TokenUsage,
  overrides: Partial<TokenPrices> = {},
): number {
  const known = knownPrices(model);
  const inputPrice = overrides.inputPerMTok ?? known?.inputPerMTok ?? 0;
  const outputPrice = overrides.outputPerMTok ?? known?.outputPerMTok ?? 0;
  const cost = (usage.inputTokens * inputPrice + usage.outputTokens * outputPrice) / 1_000_000;
  // Whole micro-dollars, as cost_usd stores them; also rids the sum of binary-fraction noise.
  return Math.round(cost * 1_000_000) / 1_000_000;
}

/** Reads the price overrides from the environment; unset or malformed values are no override. */
export function priceOverridesFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Partial<TokenPrices> {
  const read = (name: string) => {
    const raw = env[name]?.trim();
    if (!raw) return undefined;
    const value = Number(raw);
    return Number.isFinite(value) && value >= 0 ? value : undefined;
  };
  const inputPerMTok = read('LLM_PRICE_INPUT_PER_MTOK');
  const outputPerMTok = read('LLM_PRICE_OUTPUT_PER_MTOK');
  return {
    ...(inputPerMTok === undefined ? {} : { inputPerMTok }),
    ...(outputPerMTok === undefined ? {} : { outputPerMTok }),
  };
}
