import { useSignal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { signIn } from '../../data/session.ts';
import { t } from '../../i18n/index.ts';
import { Preferences } from '../../ui/preferences.tsx';
import SignUp from './signup.tsx';

export function SignInPage() {
  const [signingUp, setSigningUp] = useState(false);
  const busy = useSignal(false);
  const failed = useSignal(false);
  const email = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);
  useEffect(() => email.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    busy.value = true;
    failed.value = false;
    const ok = await signIn(email.current?.value.trim() ?? '', password.current?.value ?? '');
    busy.value = false;
    if (!ok) {
      failed.value = true;
      password.current?.select();
    }
  };

  if (signingUp) {
    return (
      <main class="signin" id="main">
        <SignUp onBack={() => setSigningUp(false)} />
        <Preferences />
      </main>
    );
  }

  return (
    <main class="signin" id="main">
      <form class="card signin-form" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">{t('signInTitle')}</h1>
        <label>
          {t('email')}
          <input ref={email} type="email" name="email" autocomplete="username" required />
        </label>
        <label>
          {t('password')}
          <input
            ref={password}
            type="password"
            name="password"
            autocomplete="current-password"
            required
          />
        </label>
        {failed.value && (
          <p class="error" role="alert">
            {t('signInFailed')}
          </p>
        )}
        <button class="primary" type="submit" disabled={busy.value}>
          {busy.value ? t('signingIn') : t('signIn')}
        </button>
        <button
          type="button"
          class="link"
          data-admin="to-signup"
          onClick={() => setSigningUp(true)}
        >
          {t('signUpInstead')}
        </button>
      </form>
      <Preferences />
    </main>
  );
}
