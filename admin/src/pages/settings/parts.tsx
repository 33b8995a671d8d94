import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { t } from '../../i18n/index.ts';
import { m } from './messages.ts';

// A settings section that saves on its own and says how it went.

type Status = { kind: 'idle' | 'busy' | 'saved' } | { kind: 'failed'; reason: string };

export function Section(props: {
  id: string;
  title: string;
  readOnly: boolean;
  onSave?: () => Promise<void>;
  children: ComponentChildren;
}) {
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!props.onSave) return;
    setStatus({ kind: 'busy' });
    try {
      await props.onSave();
      setStatus({ kind: 'saved' });
    } catch (error) {
      setStatus({ kind: 'failed', reason: problem(error) });
    }
  };
  const headingId = `settings-${props.id}-title`;
  return (
    <section
      class="card settings-section"
      aria-labelledby={headingId}
      data-admin={`section-${props.id}`}
    >
      <h2 id={headingId}>{props.title}</h2>
      <form
        onSubmit={submit}
        onInput={() => status.kind === 'saved' && setStatus({ kind: 'idle' })}
      >
        <fieldset disabled={props.readOnly}>
          <legend class="visually-hidden">{props.title}</legend>
          {props.children}
          {props.onSave && (
            <div class="settings-actions">
              <button
                class="primary"
                type="submit"
                disabled={status.kind === 'busy'}
                data-admin={`save-${props.id}`}
              >
                {status.kind === 'busy' ? t('saving') : m('save')}
              </button>
              <span role="status" class="ok" data-admin={`saved-${props.id}`}>
                {status.kind === 'saved' ? t('saved') : ''}
              </span>
            </div>
          )}
        </fieldset>
        {status.kind === 'failed' && (
          <p class="error" role="alert" data-admin={`error-${props.id}`}>
            {m('saveFailed', { reason: status.reason })}
          </p>
        )}
      </form>
    </section>
  );
}
