import { useSignal } from '@preact/signals';
import { setSound, soundOn } from '../../data/alerts.ts';
import { problem } from '../../data/client.ts';
import { m } from './messages.ts';

/** The chime for new visitor messages elsewhere: off until the person turns it on. */
export function SoundToggle() {
  const failure = useSignal<string | null>(null);
  const on = soundOn.value;
  return (
    <>
      <button
        type="button"
        class="chip sound-toggle"
        aria-pressed={on}
        onClick={() => {
          failure.value = null;
          setSound(!on).catch((e) => (failure.value = problem(e)));
        }}
        data-admin="sound"
      >
        {m('sound')}
      </button>
      {failure.value && (
        <p class="error" role="alert">
          {m('soundFailed', { message: failure.value })}
        </p>
      )}
    </>
  );
}
