import { signal } from '@preact/signals';

// Hash routing (#/<tenant>/<page>/<param>…): works on any static host, no server rewrite needed.
// The tenant is part of the route so a link to a conversation opens the right workspace.

export interface Route {
  tenantId: string | null;
  page: string;
  params: string[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    // A query after the route (Stripe's ?checkout=success on the way back) is not part of it.
    .replace(/\?.*$/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => decodeURIComponent(p));
  // An address without a tenant (#/billing, where Stripe sends people back) means the current one.
  if (parts[0] && !UUID.test(parts[0]))
    return { tenantId: null, page: parts[0], params: parts.slice(1) };
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
