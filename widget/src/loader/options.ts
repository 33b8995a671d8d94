import type { EmbedOptions } from '../shared/types.ts';

declare const __PARLEY_SUPABASE_URL__: string;
declare const __PARLEY_SUPABASE_KEY__: string;

/** The script tag that loaded us; `currentScript` is gone once an async script yields. */
export function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  return document.querySelector<HTMLScriptElement>('script[data-key][src*="widget"]');
}

/**
 * A build without a baked project (the local stack's) talks to whatever served the script: the
 * stack serves the widget on its own origin, whichever port it is on.
 */
function defaultSupabaseUrl(script: HTMLScriptElement | null): string {
  if (__PARLEY_SUPABASE_URL__) return __PARLEY_SUPABASE_URL__;
  try {
    return new URL(script?.src ?? '', location.href).origin;
  } catch {
    return location.origin;
  }
}

export function readOptions(script: HTMLScriptElement | null): EmbedOptions {
  const data = script?.dataset ?? {};
  const position =
    data.position === 'left' || data.position === 'right' ? data.position : undefined;
  const open = data.open !== undefined && data.open !== 'false';
  return {
    key: data.key ?? '',
    supabaseUrl: (data.supabaseUrl || defaultSupabaseUrl(script)).replace(/\/+$/, ''),
    supabaseKey: data.supabaseKey || __PARLEY_SUPABASE_KEY__,
    position,
    color: data.color,
    locale: data.locale,
    greeting: data.greeting,
    open,
  };
}
