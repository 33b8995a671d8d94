import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { session, signOut } from '../data/session.ts';
import { currentMembership, memberships, type Role } from '../data/tenants.ts';
import { type MessageKey, t } from '../i18n/index.ts';
import { pagesFor } from '../pages/index.ts';
import { href, navigate, route } from '../router.ts';
import { Notices } from './notices.tsx';
import { Preferences } from './preferences.tsx';
import { ShortcutsDialog } from './shortcuts-dialog.tsx';

const ROLE_LABEL: Record<Role, MessageKey> = {
  owner: 'roleOwner',
  admin: 'roleAdmin',
  agent: 'roleAgent',
  platform: 'rolePlatform',
};

/** The frame around every page: workspace switcher, role-aware navigation, preferences. */
export function Shell({ children }: { children: ComponentChildren }) {
  const current = currentMembership.value;
  const page = route.value.page;
  const main = useRef<HTMLElement>(null);

  // A new page moves focus to its content, as a page load would, unless something in it already
  // took focus (a field the page focuses on purpose).
  useEffect(() => {
    if (!main.current?.contains(document.activeElement)) main.current?.focus();
  }, [page, current?.tenantId]);

  return (
    <div class="shell">
      <button type="button" class="skip" onClick={() => main.current?.focus()}>
        {t('skipToContent')}
      </button>
      <header class="topbar">
        <span class="brand">{t('appName')}</span>
        {current && (memberships.value?.length ?? 0) > 1 ? (
          <label class="tenant-switcher">
            <span class="visually-hidden">{t('tenant')}</span>
            <select
              data-admin="tenant"
              value={current.tenantId}
              onChange={(e) => navigate((e.currentTarget as HTMLSelectElement).value, 'inbox')}
            >
              {memberships.value?.map((m) => (
                <option key={m.tenantId} value={m.tenantId}>
                  {m.name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          current && <span class="tenant-name">{current.name}</span>
        )}
        {current && <span class="role-badge">{t(ROLE_LABEL[current.role])}</span>}
        <nav aria-label={t('navigation')}>
          <ul>
            {current &&
              pagesFor(current.role)
                .filter((p) => p.nav !== false)
                .map((p) => (
                  <li key={p.id}>
                    <a
                      href={href(current.tenantId, p.id)}
                      aria-current={p.id === page ? 'page' : undefined}
                    >
                      {t(p.label)}
                    </a>
                  </li>
                ))}
          </ul>
        </nav>
        <span class="spacer" />
        <Preferences />
        <span class="user" title={session.value?.user.email ?? ''}>
          {session.value?.user.email}
        </span>
        <button type="button" onClick={() => void signOut()} data-admin="sign-out">
          {t('signOut')}
        </button>
        {current && <Notices tenantId={current.tenantId} role={current.role} />}
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
      <ShortcutsDialog />
    </div>
  );
}
