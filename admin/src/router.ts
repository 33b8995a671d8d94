import { signal } from '@preact/signals';

// Hash routing (#/<tenant>/<page>/<param>…): works on any static host, no server rewrite needed.
// The tenant is part of the route so a link to a conversation opens the right workspace.

export interface Route {
  tenantId: string | null;
  page: string;
  params: string[];
}

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  const [tenantId = null, page = 'inbox', ...params] = parts;
  return { tenantId, page, params };
}

export const route = signal<Route>(parseRoute(window.location.hash));

window.addEventListener('hashchange', () => {
  route.value = parseRoute(window.location.hash);
});

export function href(tenantId: string, page: string, ...params: string[]): string {
  return `#/${[tenantId, page, ...params].map(encodeURIComponent).join('/')}`;
}

export function navigate(tenantId: string, page: string, ...params: string[]) {
  const next = href(tenantId, page, ...params);
  if (window.location.hash !== next) window.location.hash = next;
}

/** Rewrites the address without a new history entry (e.g. the tenant filled in by default). */
export function replaceRoute(tenantId: string, page: string, ...params: string[]) {
  const next = href(tenantId, page, ...params);
  if (window.location.hash === next) return;
  history.replaceState(null, '', next);
  route.value = parseRoute(next);
}
