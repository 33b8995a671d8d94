import { contrast, parseHex, readableOn } from '../shared/color.ts';
import {
  type App,
  type AppModule,
  type CachedLook,
  DEFAULT_COLOR,
  type Host,
  type Identity,
  lookCacheKey,
  type WidgetEvent,
} from '../shared/types.ts';
import { launcherLabel } from './labels.ts';
import { applyLauncher, paintLauncher } from './launcher.ts';
import { ownScript, readOptions } from './options.ts';
import type { ProactiveModule } from './proactive.ts';

// The embed: paints the launcher at once, exposes window.Parley, and loads the app (resolved
// next to this file, so the folder can be served from any CDN) on first open or when idle.

function cachedLook(key: string): CachedLook {
  try {
    return JSON.parse(localStorage.getItem(lookCacheKey(key)) ?? '{}') as CachedLook;
  } catch {
    return {};
  }
}

function start(script: HTMLScriptElement | null) {
  const options = readOptions(script);
  // Our own tag marks a widget already started; the id is only a courtesy, since a page may
  // already use it for something else.
  if (!options.key || document.querySelector('parley-chat')) return;
  const chunkUrl = (name: string) => new URL(name, script?.src || location.href).href;
  const appUrl = chunkUrl('parley-app.js');
  let proactive: Promise<unknown> | undefined;

  const element = document.createElement('parley-chat');
  if (!document.getElementById('parley-root')) element.id = 'parley-root';
  const root = element.attachShadow({ mode: 'open' });
  const { button, badge } = paintLauncher(root);

  let locale = options.locale || navigator.language || 'en';
  let identity: Identity | null = null;
  let open = false;
  let unread = 0;
  let app: App | null = null;
  let loading: Promise<App> | null = null;
  const listeners = new Map<WidgetEvent, Set<(data: unknown) => void>>();

  const relabel = () => {
    // A label the tenant shows on the launcher leads its accessible name, as it is read.
    const shown = open ? '' : button.querySelector('.label:not([hidden])')?.textContent;
    const name = launcherLabel(locale, open, unread);
    button.setAttribute('aria-label', shown ? `${shown} (${name})` : name);
    button.setAttribute('aria-expanded', String(open));
  };
  const setLook = (look: CachedLook) => {
    // Attributes on the script tag win over the tenant's settings.
    const color = parseHex(options.color) ?? parseHex(look.color) ?? DEFAULT_COLOR;
    element.style.setProperty('--p-color', color);
    element.style.setProperty('--p-on-color', readableOn(color));
    // The focus ring is the brand's color where it stands out (3:1) on the window's light or
    // dark background, and the text color where it does not.
    element.style.setProperty('--p-ring', contrast(color, '#ffffff') >= 3 ? color : '#111827');
    element.style.setProperty('--p-ring-dark', contrast(color, '#111827') >= 3 ? color : '#f9fafb');
    element.dataset.position = options.position ?? look.position ?? 'right';
    applyLauncher(element, button, look.launcher);
    relabel();
    // Greeting rules are a chunk of their own, fetched only for a tenant that has some.
    if (Array.isArray(look.proactive) && look.proactive.length && !proactive) {
      proactive = import(/* webpackIgnore: true */ chunkUrl('parley-proactive.js'))
        .then((m: ProactiveModule) =>
          m.start({
            key: options.key,
            root,
            rules: look.proactive,
            open: () => setOpen(true),
            isOpen: () => open,
          }),
        )
        .catch(() => {});
    }
  };
  const emit = (event: WidgetEvent, data?: unknown) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(data);
      } catch (error) {
        console.error('[parley]', error);
      }
    }
  };

  const host: Host = {
    options,
    root,
    element,
    launcher: button,
    get locale() {
      return locale;
    },
    get identity() {
      return identity;
    },
    isOpen: () => open,
    close: () => setOpen(false),
    emit,
    setUnread(count) {
      if (count === unread) return;
      unread = count;
      badge.textContent = count > 9 ? '9+' : String(count);
      badge.hidden = count === 0;
      relabel();
      emit('unread', count);
    },
    setLook,
  };

  const load = () => {
    loading ??= (import(/* webpackIgnore: true */ appUrl) as Promise<AppModule>).then(
      (module) => {
        app = module.mount(host);
        app.setOpen(open);
        return app;
      },
      (error) => {
        loading = null;
        throw error;
      },
    );
    return loading;
  };

  function setOpen(next: boolean) {
    if (next === open) return;
    open = next;
    relabel();
    emit(next ? 'open' : 'close');
    if (app) app.setOpen(next);
    else if (next)
      load().catch((error) => console.error('[parley] could not load the chat', error));
    if (!next && root.activeElement && root.activeElement !== button) button.focus();
  }

  button.addEventListener('click', () => setOpen(!open));
  // A hover or focus is a strong hint the visitor is about to open it.
  const warm = () => load().catch(() => {});
  button.addEventListener('pointerenter', warm, { once: true });
  button.addEventListener('focus', warm, { once: true });

  setLook(cachedLook(options.key));
  relabel();
  document.body.append(element);

  window.Parley = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!open),
    async identify(next: Identity) {
      identity = next;
      if (app) await app.identify(next);
    },
    on(event: WidgetEvent, callback: (data: unknown) => void) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(callback);
      return () => set.delete(callback);
    },
    setLocale(next: string) {
      locale = next;
      relabel();
      app?.setLocale(next);
    },
    async reset() {
      identity = null;
      // Revoking the session is the app's job, so it is loaded for this if it was not yet.
      await (app ?? (await load())).reset();
    },
  };

  if (options.open) setOpen(true);
  else {
    const idle = window.requestIdleCallback ?? ((cb: () => void) => setTimeout(cb, 1500));
    idle(() => warm(), { timeout: 5000 });
  }
}

declare global {
  interface Window {
    Parley?: {
      open(): void;
      close(): void;
      toggle(): void;
      identify(identity: Identity): Promise<void>;
      on(event: WidgetEvent, callback: (data: unknown) => void): () => void;
      setLocale(locale: string): void;
      reset(): Promise<void>;
    };
  }
}

const script = ownScript();
if (document.body) start(script);
else document.addEventListener('DOMContentLoaded', () => start(script), { once: true });
