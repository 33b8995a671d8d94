import { LOCALES, type Locale, locale } from './index.ts';

// A page's own strings, kept beside the page so they load with its chunk. English is the
// reference; every other locale must have exactly the same keys (the type says so).

export type PageMessages<T extends Record<string, string>> = { en: T } & {
  [L in Exclude<Locale, 'en'>]: Record<keyof T, string>;
};

/** A translator for one page's strings, following the admin's current locale. */
export function defineMessages<T extends Record<string, string>>(messages: PageMessages<T>) {
  return (key: keyof T, params?: Record<string, string | number>): string => {
    const table = messages[locale.value] as Record<keyof T, string>;
    const text = table[key] ?? messages.en[key];
    return params ? text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? '')) : text;
  };
}

/** Every locale the admin speaks, for tests that check a page's tables are complete. */
export const ADMIN_LOCALES = Object.keys(LOCALES) as Locale[];
