import { signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { MessageKey } from '../i18n/index.ts';

// Single-key shortcuts for the whole SPA. They never fire while someone is typing in a field
// (except Escape), so typing "j" in a reply stays a "j".

export interface Shortcut {
  key: string;
  label: MessageKey;
}

const handlers = new Map<string, () => void>();
export const activeShortcuts = signal<Shortcut[]>([]);

function typingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return (
    target.isContentEditable ||
    target instanceof HTMLInputElement ||
    target instanceof HTMLTextAreaElement ||
    target instanceof HTMLSelectElement
  );
}

window.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key !== 'Escape' && typingTarget(event.target)) return;
  if (document.querySelector('dialog[open]') && event.key !== 'Escape') return;
  const handler = handlers.get(event.key);
  if (!handler) return;
  event.preventDefault();
  handler();
});

/** Registers a shortcut while the calling component is mounted. */
export function useShortcut(key: string, label: MessageKey, handler: () => void) {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const run = () => latest.current();
    handlers.set(key, run);
    activeShortcuts.value = [...activeShortcuts.value.filter((s) => s.key !== key), { key, label }];
    return () => {
      if (handlers.get(key) === run) handlers.delete(key);
      activeShortcuts.value = activeShortcuts.value.filter((s) => s.key !== key);
    };
  }, [key, label]);
}
