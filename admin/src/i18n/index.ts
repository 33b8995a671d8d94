import { computed, effect, signal } from '@preact/signals';
import { en, type MessageKey } from './en.ts';
import { he } from './he.ts';

// The admin's languages. Hebrew is written right to left: the whole document flips, and the
// layout uses logical CSS properties so nothing else has to know.

export const LOCALES = { en, he } as const;
export type Locale = keyof typeof LOCALES;
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', he: 'עברית' };
const RTL = new Set<Locale>(['he']);
const STORAGE_KEY = 'parley-admin-locale';

const isLocale = (value: unknown): value is Locale =>
  typeof value === 'string' && Object.hasOwn(LOCALES, value);

function initialLocale(): Locale {
  const stored = safeStorage()?.getItem(STORAGE_KEY);
  if (isLocale(stored)) return stored;
  const preferred = (navigator.language || 'en').slice(0, 2).toLowerCase();
  return isLocale(preferred) ? preferred : 'en';
}

/** localStorage, unless the browser refuses it (private modes, sandboxed frames). */
export function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export const locale = signal<Locale>(initialLocale());
export const direction = computed(() => (RTL.has(locale.value) ? 'rtl' : 'ltr'));

export function setLocale(next: Locale) {
  locale.value = next;
  safeStorage()?.setItem(STORAGE_KEY, next);
}

effect(() => {
  document.documentElement.lang = locale.value;
  document.documentElement.dir = direction.value;
});

/** The message in the current locale, with {name} placeholders filled in. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  const text: string = LOCALES[locale.value][key] ?? en[key];
  return params ? text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? '')) : text;
}

export function formatTime(value: string | null | undefined): string {
  if (!value) return '';
  const date = new Date(value);
  const sameDay = new Date().toDateString() === date.toDateString();
  return new Intl.DateTimeFormat(locale.value, {
    ...(sameDay ? {} : { day: 'numeric', month: 'short' }),
    hour: '2-digit',
    minute: '2-digit',
  }).format(date);
}

export type { MessageKey };
