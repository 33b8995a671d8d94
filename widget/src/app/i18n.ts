// UI strings for the built-in languages; anything else falls back to English.

import { en, type Strings } from './locales/en.ts';

export type { Strings };

// Other languages are chunks of their own, fetched when a visitor uses one: each dictionary is
// text the chat window's budget would otherwise pay for in every language at once.
const chunks: Record<string, () => Promise<{ default: Strings }>> = {
  es: () => import('./locales/es.ts'),
  pt: () => import('./locales/pt.ts'),
  fr: () => import('./locales/fr.ts'),
  de: () => import('./locales/de.ts'),
  he: () => import('./locales/he.ts'),
};
const catalog: Record<string, Strings> = { en };

/** Loads the dictionary of `locale`'s language; resolves true once it is there. */
export async function loadStrings(locale: string): Promise<boolean> {
  const language = baseLanguage(locale);
  if (catalog[language]) return true;
  const chunk = chunks[language];
  if (!chunk) return false;
  catalog[language] = (await chunk()).default;
  return true;
}

/** The base language, shaped the way the chat API accepts it. */
export function baseLanguage(locale: string): string {
  const base = /^[a-z]{2,3}/i.exec(locale.trim())?.[0]?.toLowerCase();
  return base ?? 'en';
}

export function stringsFor(locale: string): Strings {
  return catalog[baseLanguage(locale)] ?? en;
}

const RTL_LANGUAGES = new Set(['he', 'ar', 'fa', 'ur', 'yi']);
export const isRtlLocale = (locale: string) => RTL_LANGUAGES.has(baseLanguage(locale));

export const format = (template: string, values: Record<string, string | number>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
