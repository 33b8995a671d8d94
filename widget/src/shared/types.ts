/** What the embedding page asked for, from the script tag's data attributes and the build. */
export interface EmbedOptions {
  key: string;
  supabaseUrl: string;
  supabaseKey: string;
  position?: 'left' | 'right';
  color?: string;
  locale?: string;
  greeting?: string;
  open: boolean;
}

export interface Identity {
  identifier: string;
  identityHash?: string;
  name?: string;
  email?: string;
  attributes?: Record<string, string | number | boolean | null>;
}

export type WidgetEvent = 'open' | 'close' | 'message' | 'unread';

/** What the loader lends the lazily loaded app: the shadow root and the launcher it painted. */
export interface Host {
  options: EmbedOptions;
  root: ShadowRoot;
  element: HTMLElement;
  launcher: HTMLButtonElement;
  locale: string;
  identity: Identity | null;
  isOpen(): boolean;
  close(): void;
  emit(event: WidgetEvent, data?: unknown): void;
  setUnread(count: number): void;
  setLook(look: CachedLook): void;
}

export interface App {
  setOpen(open: boolean): void;
  identify(identity: Identity): Promise<void>;
  setLocale(locale: string): void;
  reset(): Promise<void>;
}

export interface AppModule {
  mount(host: Host): App;
}

/** Kept by the app so the loader can paint the tenant's launcher before anything is fetched. */
export interface CachedLook {
  color?: string;
  position?: 'left' | 'right';
  /** bot_config.launcher and .proactive as the server sent them; the loader checks them. */
  launcher?: unknown;
  proactive?: unknown;
}

export const lookCacheKey = (key: string) => `parley:${key}:look`;
export const DEFAULT_COLOR = '#2563eb';
