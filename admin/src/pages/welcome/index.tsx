import { useState } from 'preact/hooks';
import { problem, supabase } from '../../data/client.ts';
import { currentMembership } from '../../data/tenants.ts';
import { t } from '../../i18n/index.ts';
import { href } from '../../router.ts';
import type { PageProps } from '../types.ts';
import { m } from './messages.ts';

// Where an accepted invitation lands: which workspace and role, and a password for next time (an
// invited person signed in through the link and may have none yet).

export default function WelcomePage({ tenantId }: PageProps) {
  const membership = currentMembership.value;
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ text: string; error?: boolean } | null>(null);
  if (!membership) return null;
  return (
    <section class="team welcome" aria-labelledby="welcome-title" data-admin="welcome">
      <h1 id="welcome-title">{m('title', { tenant: membership.name })}</h1>
      <p>{m('joined', { role: m(membership.role) })}</p>
      <form
        class="invite-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setResult(null);
          const { error } = await supabase().auth.updateUser({ password });
          setBusy(false);
          setResult(
            error
              ? { text: m('failed', { reason: problem(error) }), error: true }
              : { text: m('saved') },
          );
          if (!error) setPassword('');
        }}
      >
        <h2>{m('passwordTitle')}</h2>
        <p class="muted">{m('passwordHint')}</p>
        <div class="invite-fields">
          <label>
            {m('password')}
            <input
              type="password"
              name="new-password"
              autoComplete="new-password"
              required
              minLength={6}
              value={password}
              onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('saving') : m('save')}
          </button>
        </div>
        <p role="status" class={result?.error ? 'error' : 'muted'}>
          {result?.text ?? ''}
        </p>
      </form>
      <p>
        <a href={href(tenantId, 'inbox')}>{m('start')}</a>
      </p>
    </section>
  );
}
