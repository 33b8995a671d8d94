import { useCallback, useEffect, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { t } from '../../i18n/index.ts';
import { type Flow, listFlows, saveFlow, setFlowEnabled } from './data.ts';
import { m } from './messages.ts';

const EXAMPLE = {
  name: 'Opening hours',
  triggers: ['hours'],
  steps: [{ id: 'hours', type: 'end', text: 'We are open 12:00-23:00.' }],
};

/** The tenant's keyword flows: listed, switched on and off, written as JSON. */
export function Flows({ tenantId, readOnly }: { tenantId: string; readOnly: boolean }) {
  const [flows, setFlows] = useState<Flow[] | null>(null);
  const [editing, setEditing] = useState<Flow | 'new' | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setFlows(await listFlows(tenantId));
    } catch (e) {
      setError(m('loadFailed', { reason: problem(e) }));
    }
  }, [tenantId]);
  useEffect(() => {
    void reload();
  }, [reload]);

  const toggle = async (flow: Flow) => {
    setError(null);
    try {
      await setFlowEnabled(flow.id, !flow.enabled);
      await reload();
    } catch (e) {
      setError(m('failed', { reason: problem(e) }));
    }
  };

  return (
    <section class="panel" aria-labelledby="wa-flows" data-admin="wa-flows">
      <div class="panel-head">
        <h2 id="wa-flows">{m('flows')}</h2>
        {!readOnly && editing === null && (
          <button type="button" data-admin="wa-new-flow" onClick={() => setEditing('new')}>
            {m('newFlow')}
          </button>
        )}
      </div>
      <p class="muted">{m('flowsIntro')}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p aria-live="polite" class="muted">
        {note}
      </p>
      {editing !== null && (
        <FlowForm
          tenantId={tenantId}
          flow={editing === 'new' ? null : editing}
          onDone={async (name) => {
            setEditing(null);
            if (name) {
              setNote(m('flowSaved', { name }));
              await reload();
            }
          }}
        />
      )}
      {flows === null && !error && <p>{t('loading')}</p>}
      {flows?.length === 0 && <p class="empty-note">{m('noFlows')}</p>}
      {flows && flows.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling table is reached by keyboard
        <div class="table-scroll" tabIndex={0}>
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">{m('name')}</th>
                <th scope="col">{m('triggers')}</th>
                <th scope="col">{t('status')}</th>
                {!readOnly && <th scope="col">{t('actions')}</th>}
              </tr>
            </thead>
            <tbody>
              {flows.map((flow) => (
                <tr key={flow.id} data-flow={flow.name} data-enabled={String(flow.enabled)}>
                  <th scope="row">{flow.name}</th>
                  <td>{flow.triggers.join(', ')}</td>
                  <td>{flow.enabled ? m('enabled') : m('disabled')}</td>
                  {!readOnly && (
                    <td class="actions">
                      <button
                        type="button"
                        aria-label={`${m('edit')}: ${flow.name}`}
                        onClick={() => setEditing(flow)}
                      >
                        {m('edit')}
                      </button>
                      <button
                        type="button"
                        data-admin="wa-flow-toggle"
                        aria-label={`${flow.enabled ? m('disable') : m('enable')}: ${flow.name}`}
                        onClick={() => void toggle(flow)}
                      >
                        {flow.enabled ? m('disable') : m('enable')}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function FlowForm({
  tenantId,
  flow,
  onDone,
}: {
  tenantId: string;
  flow: Flow | null;
  onDone: (savedName: string | null) => void;
}) {
  const initial = flow
    ? {
        name: flow.name,
        enabled: flow.enabled,
        triggers: flow.triggers,
        timeout_minutes: flow.timeout_minutes,
        ...flow.definition,
      }
    : EXAMPLE;
  const [text, setText] = useState(JSON.stringify(initial, null, 2));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      setError(m('notJson', { reason: (e as Error).message }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await saveFlow(tenantId, flow?.id ?? null, parsed);
      onDone(String((parsed as { name?: unknown }).name ?? ''));
    } catch (e) {
      // The flows function names the step and field that are wrong.
      setError(m('failed', { reason: problem(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate data-admin="wa-flow-form">
      <h3>{flow ? m('editFlow', { name: flow.name }) : m('newFlow')}</h3>
      <label>
        <span>{m('definition')}</span>
        <textarea
          class="code"
          name="flow"
          dir="ltr"
          rows={16}
          spellcheck={false}
          value={text}
          aria-describedby={error ? 'wa-flow-error' : undefined}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      {error && (
        <p role="alert" class="error" id="wa-flow-error" data-admin="wa-flow-error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-admin="wa-flow-save">
          {busy ? t('saving') : t('save')}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
