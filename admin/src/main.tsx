import { effect } from '@preact/signals';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { loadConfig } from './config.ts';
import { initClient } from './data/client.ts';
import { session, watchSession } from './data/session.ts';
import {
  chooseTenant,
  clearTenants,
  currentMembership,
  loadMemberships,
  memberships,
} from './data/tenants.ts';
import { t } from './i18n/index.ts';
import { pagesFor } from './pages/index.ts';
import { PageView } from './pages/lazy.tsx';
import { SignInPage } from './pages/signin/index.tsx';
import { replaceRoute, route } from './router.ts';
import { Shell } from './ui/shell.tsx';
import './ui/theme.ts';
import './styles.css';

function Loading() {
  return (
    <main id="main" class="centered" aria-busy="true">
      <p>{t('loading')}</p>
    </main>
  );
}

function Workspace({ userId }: { userId: string }) {
  useEffect(() => {
    clearTenants();
    void loadMemberships(userId).then(() => chooseTenant(route.value.tenantId));
  }, [userId]);

  // The address decides the tenant; an address without one (or with one the person cannot see)
  // is rewritten to the tenant actually shown.
  useEffect(
    () =>
      effect(() => {
        if (!memberships.value) return;
        const { tenantId, page, params } = route.value;
        const chosen = chooseTenant(tenantId);
        if (chosen && chosen !== tenantId) replaceRoute(chosen, page, ...params);
      }),
    [],
  );

  if (!memberships.value) return <Loading />;
  const current = currentMembership.value;
  if (!current) {
    return (
      <Shell>
        <p class="empty">{t('noTenants')}</p>
      </Shell>
    );
  }
  const { page, params } = route.value;
  const definition = pagesFor(current.role).find((p) => p.id === page);
  return (
    <Shell>
      {definition ? (
        <PageView
          key={`${current.tenantId}:${definition.id}`}
          definition={definition}
          tenantId={current.tenantId}
          params={params}
        />
      ) : (
        <p class="empty">{t('notFound')}</p>
      )}
    </Shell>
  );
}

function App() {
  const current = session.value;
  if (current === undefined) return <Loading />;
  if (current === null) return <SignInPage />;
  return <Workspace userId={current.user.id} />;
}

async function boot() {
  const root = document.getElementById('app');
  if (!root) return;
  initClient(await loadConfig());
  watchSession();
  render(<App />, root);
}

void boot();
