import { toJson } from './json.ts';

// Per widget key, so two widgets on one site (or one site's staging and live keys) never mix.
// Storage can be unavailable (privacy modes, sandboxed frames): then nothing persists.

export interface KeyStore {
  get<T>(name: string): T | null;
  set(name: string, value: unknown): void;
  remove(name: string): void;
  /** Calls back when another tab changed `name`. */
  watch(name: string, callback: () => void): void;
}

export function keyStore(widgetKey: string): KeyStore {
  const full = (name: string) => `parley:${widgetKey}:${name}`;
  return {
    get<T>(name: string) {
      try {
        const raw = localStorage.getItem(full(name));
        return raw ? (JSON.parse(raw) as T) : null;
      } catch {
        return null;
      }
    },
    set(name, value) {
      try {
        localStorage.setItem(full(name), toJson(value));
      } catch {}
    },
    remove(name) {
      try {
        localStorage.removeItem(full(name));
      } catch {}
    },
    watch(name, callback) {
      window.addEventListener('storage', (event) => {
        if (event.key === full(name)) callback();
      });
    },
  };
}
