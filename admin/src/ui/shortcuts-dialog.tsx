import { useRef } from 'preact/hooks';
import { t } from '../i18n/index.ts';
import { activeShortcuts, useShortcut } from './shortcuts.ts';

/** "?" lists the shortcuts that work on the current page. A native dialog traps focus and closes on Escape. */
export function ShortcutsDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  useShortcut('?', 'keyHelp', () => dialog.current?.showModal());
  return (
    <dialog ref={dialog} class="card shortcuts" aria-labelledby="shortcuts-title">
      <h2 id="shortcuts-title">{t('shortcuts')}</h2>
      <dl>
        {activeShortcuts.value.map((s) => (
          <div key={s.key}>
            <dt>
              <kbd>{s.key}</kbd>
            </dt>
            <dd>{t(s.label)}</dd>
          </div>
        ))}
        <div>
          <dt>
            <kbd>Ctrl</kbd>+<kbd>Enter</kbd>
          </dt>
          <dd>{t('send')}</dd>
        </div>
        <div>
          <dt>
            <kbd>Esc</kbd>
          </dt>
          <dd>{t('keyLeave')}</dd>
        </div>
      </dl>
      <form method="dialog">
        <button type="submit">{t('close')}</button>
      </form>
    </dialog>
  );
}
