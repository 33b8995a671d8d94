import { effect, signal } from '@preact/signals';
import { safeStorage } from '../i18n/index.ts';

// Light, dark, or whatever the system prefers; the CSS reads data-theme on <html>.

export type Theme = 'system' | 'light' | 'dark';
const KEY = 'parley-admin-theme';
const stored = safeStorage()?.getItem(KEY);

export const theme = signal<Theme>(stored === 'light' || stored === 'dark' ? stored : 'system');

export function setTheme(next: Theme) {
  theme.value = next;
  safeStorage()?.setItem(KEY, next);
}

const media = window.matchMedia('(prefers-color-scheme: dark)');
const systemDark = signal(media.matches);
media.addEventListener('change', () => {
  systemDark.value = media.matches;
});

effect(() => {
  const dark = theme.value === 'dark' || (theme.value === 'system' && systemDark.value);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
});
