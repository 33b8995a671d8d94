import { useEffect, useRef, useState } from 'preact/hooks';
import { problem, supabase } from '../../data/client.ts';
import { session } from '../../data/session.ts';
import { t } from '../../i18n/index.ts';
import { m } from './messages.ts';

// Sign-up, part of the first load (as a chunk of its own it cost 0.5 KB more in all). With email
// confirmations on, Auth mails a link and a 6-digit code; the code confirms the address here and
// signs the person in, and the SPA takes them to onboarding (they have no workspace yet).

export default function SignUp({ onBack }: { onBack(): void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [awaitingCode, setAwaitingCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), [awaitingCode]);

  const signUp = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const { data, error: failure } = await supabase().auth.signUp({
      email: email.trim(),
      password,
    });
    setBusy(false);
    if (failure) return setError(m('failed', { reason: problem(failure) }));
    if (data.session) session.value = data.session;
    else setAwaitingCode(true);
  };

  const verify = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const { data, error: failure } = await supabase().auth.verifyOtp({
      email: email.trim(),
      token: code.trim(),
      type: 'signup',
    });
    setBusy(false);
    if (failure || !data.session)
      return setError(m('codeFailed', { reason: problem(failure ?? 'no session') }));
    session.value = data.session;
  };

  return (
    <form
      class="card signin-form"
      onSubmit={awaitingCode ? verify : signUp}
      aria-labelledby="signup-title"
      data-admin="signup"
    >
      <h1 id="signup-title">{m('title')}</h1>
      {awaitingCode ? (
        <>
          <p role="status">{m('codeSent', { email: email.trim() })}</p>
          <label>
            {m('code')}
            <input
              ref={first}
              name="code"
              inputMode="numeric"
              autocomplete="one-time-code"
              pattern="[0-9]{6}"
              required
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
          </label>
        </>
      ) : (
        <>
          <label>
            {t('email')}
            <input
              ref={first}
              type="email"
              name="email"
              autocomplete="username"
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </label>
          <label>
            {m('passwordHint')}
            <input
              type="password"
              name="password"
              autocomplete="new-password"
              minLength={8}
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
        </>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button class="primary" type="submit" disabled={busy}>
        {awaitingCode
          ? busy
            ? m('confirming')
            : m('confirm')
          : busy
            ? t('creating')
            : m('create')}
      </button>
      <button type="button" class="link" onClick={onBack}>
        {m('back')}
      </button>
    </form>
  );
}
