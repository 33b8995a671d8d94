import type { Sql } from '../_shared/db/port.ts';
import { HttpError } from '../_shared/http/errors.ts';
import { tenantSuspended } from '../_shared/tenants/suspended.ts';

export interface WidgetTenant {
  id: string;
  name: string;
  status: string;
  allowed_origins: string[];
  bot_config: Record<string, unknown>;
  enforce_identity: boolean;
}

export async function tenantByKey(sql: Sql, key: string): Promise<WidgetTenant> {
  const [tenant] = await sql.query<WidgetTenant>(
    `select id, name, status, allowed_origins, bot_config, enforce_identity
       from public.tenants where widget_key = $1`,
    [key],
  );
  if (!tenant) throw new HttpError(404, 'unknown_key', 'No widget has this key.');
  if (tenant.status !== 'active') throw tenantSuspended();
  return tenant;
}

/**
 * The embedding page must be one the tenant allowed. Entries are origins ("https://shop.example"),
 * optionally with a wildcard subdomain ("https://*.shop.example") or any port
 * ("http://localhost:*", for development); no entries at all allows any origin, which the admin
 * SPA warns about.
 */
export function originAllowed(allowed: string[], origin: string | null): boolean {
  if (allowed.length === 0) return true;
  if (!origin) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((entry) => {
    const pattern = /^(https?):\/\/(\*\.)?([^/:*]+)(?::(\d+|\*))?\/?$/.exec(entry.trim());
    if (!pattern) return false;
    const [, scheme, wildcardSubdomain, host, port] = pattern;
    if (url.protocol !== `${scheme}:`) return false;
    const hostOk = wildcardSubdomain ? url.hostname.endsWith(`.${host}`) : url.hostname === host;
    const portOk = port === '*' || url.port === (port ?? '');
    return hostOk && portOk;
  });
}

function launcherOf(value: unknown, localized: (value: unknown) => unknown) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const launcher = value as Record<string, unknown>;
  return { ...launcher, label: localized(launcher.label) ?? null };
}

/** The bot's public face for the widget, in the visitor's language where the tenant has one. */
export function publicConfig(tenant: WidgetTenant, locale: string | undefined) {
  const config = tenant.bot_config;
  const language = (locale ?? (typeof config.locale === 'string' ? config.locale : 'en')).slice(
    0,
    2,
  );
  const localized = (value: unknown) => {
    if (typeof value === 'string' || Array.isArray(value)) return value;
    if (value && typeof value === 'object') {
      const map = value as Record<string, unknown>;
      return map[language] ?? map.en ?? Object.values(map)[0] ?? null;
    }
    return null;
  };
  return {
    name: typeof config.name === 'string' ? config.name : tenant.name,
    greeting: localized(config.greeting),
    quick_starts: localized(config.quick_starts) ?? [],
    color: typeof config.color === 'string' ? config.color : '#2563eb',
    font: typeof config.font === 'string' ? config.font : null,
    avatar_url: typeof config.avatar_url === 'string' ? config.avatar_url : null,
    position: config.position === 'left' ? 'left' : 'right',
    locale: language,
    prechat_form: config.prechat_form ?? null,
    identity_required: tenant.enforce_identity,
    // Optional and as the tenant wrote them: the widget's header shows who answers and how soon.
    reply_time: localized(config.reply_time),
    team: Array.isArray(config.team) ? config.team.slice(0, 3) : [],
    // Checked where they are written (tenants_launcher_shape, tenants_proactive_shape); the
    // loader applies them, in the visitor's language.
    launcher: launcherOf(config.launcher, localized),
    proactive: Array.isArray(config.proactive)
      ? config.proactive
          .filter((r): r is Record<string, unknown> => !!r && typeof r === 'object')
          .map((r) => ({ ...r, message: localized(r.message) }))
      : [],
  };
}

/**
 * The origin of the page the widget runs on: the Origin header a cross-origin fetch carries, or the
 * Referer's origin for a page on the API's own origin. Null when neither is an http(s) origin.
 */
export function pageOrigin(origin: string | undefined, referer: string | undefined): string | null {
  for (const candidate of [origin, referer]) {
    if (!candidate || candidate === 'null' || candidate.length > 2048) continue;
    try {
      const url = new URL(candidate);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin.length <= 300)
        return url.origin;
    } catch {
      // not a URL: try the next one
    }
  }
  return null;
}

/** Notes that the tenant's widget loaded on a page of `origin` (onboarding's live check). */
export async function recordWidgetLoad(sql: Sql, tenant: WidgetTenant, origin: string) {
  await sql.query('select private.record_widget_load($1, $2, $3)', [
    tenant.id,
    origin,
    originAllowed(tenant.allowed_origins, origin),
  ]);
}

/**
 * Whether this instance should record a load: the database keeps one per tenant and origin every
 * 30 seconds, so the round trips in between are skipped here (a busy site loads the widget on
 * every page view).
 */
export function widgetLoadThrottle(windowMs = 30_000, maxEntries = 10_000) {
  const recorded = new Map<string, number>();
  return (tenantId: string, origin: string, now = Date.now()): boolean => {
    const key = `${tenantId} ${origin}`;
    const last = recorded.get(key);
    if (last !== undefined && last > now - windowMs) return false;
    if (recorded.size >= maxEntries) recorded.clear();
    recorded.set(key, now);
    return true;
  };
}
