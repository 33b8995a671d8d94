import { effect, signal } from '@preact/signals';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { loadConfig } from './config.ts';
import { initClient, supabase } from './data/client.ts';
import { acceptInvitation } from './data/invitations.ts';
import { session, watchSession } from './data/session.ts';
import {
  chooseTenant,
  clearTenants,
  currentMembership,
  loadMemberships,
  memberships,
} from './data/tenants.ts';
import { t } from './i18n/index.ts';
import { PAGES, pagesFor } from './pages/index.ts';
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

/** Why an invitation in the address could not be accepted, shown above the page. */
const invitationProblem = signal<string | null>(null);

function Workspace({ userId }: { userId: string }) {
  useEffect(() => {
    clearTenants();
    void (async () => {
      // An invitation link lands here with ?accept=…: the new workspace opens on its welcome.
      const accept = new URLSearchParams(window.location.search).get('accept');
      const accepted = accept
        ? await acceptInvitation(accept).catch((error: unknown) => ({ problem: String(error) }))
        : null;
      if (accepted && 'problem' in accepted) invitationProblem.value = accepted.problem;
      await loadMemberships(userId);
      if (accepted && 'tenantId' in accepted) replaceRoute(accepted.tenantId, 'welcome');
      chooseTenant(route.value.tenantId);
    })();
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

  const current = currentMembership.value;
  const { page, params } = route.value;
  // An operator looking into a tenant they do not belong to leaves a line in the audit log.
  useEffect(() => {
    if (current?.role !== 'platform' || page === 'platform') return;
    void supabase()
      .rpc('record_platform_view', { p_tenant_id: current.tenantId, p_page: page })
      .then(({ error }) => error && console.warn('audit', error));
  }, [current?.tenantId, current?.role, page]);

  if (!memberships.value) return <Loading />;
  const invitation = invitationProblem.value && (
    <p class="error" role="alert" data-admin="invitation-problem">
      {t('invitationFailed', { reason: invitationProblem.value })}
    </p>
  );
  if (!current) {
    // A new account has no workspace yet: onboarding creates one.
    const onboarding = PAGES.find((p) => p.id === 'onboarding');
    return (
      <Shell>
        {invitation}
        {onboarding ? (
          <PageView definition={onboarding} tenantId="" params={[]} />
        ) : (
          <p class="empty">{t('noTenants')}</p>
        )}
      </Shell>
    );
  }
  const definition = pagesFor(current.role).find((p) => p.id === page);
  return (
    <Shell>
      {invitation}
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
