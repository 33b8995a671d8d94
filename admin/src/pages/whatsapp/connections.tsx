import { useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { t } from '../../i18n/index.ts';
import {
  type Connection,
  deleteConnection,
  SETTINGS,
  type SettingName,
  saveConnection,
  syncTemplates,
  type Template,
  webhookUrl,
} from './data.ts';
import { type MessageKey, m } from './messages.ts';

const SETTING_LABEL: Record<SettingName, MessageKey> = {
  phone_number_id: 'phoneNumberId',
  business_account_id: 'businessAccountId',
  access_token: 'accessToken',
  app_secret: 'appSecret',
  verify_token: 'verifyToken',
};
const SECRET: ReadonlySet<SettingName> = new Set(['access_token', 'app_secret', 'verify_token']);

interface Props {
  tenantId: string;
  connections: Connection[];
  templates: Template[];
  readOnly: boolean;
  onChange: () => Promise<void>;
}

/** The tenant's numbers with their webhook URL and which settings are set, and their templates. */
export function Connections({ tenantId, connections, templates, readOnly, onChange }: Props) {
  const [editing, setEditing] = useState<Connection | 'new' | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const sync = async (c: Connection) => {
    setError(null);
    try {
      await syncTemplates(c.id);
      setNote(m('syncQueued', { label: c.label }));
      // The job reads Meta in the background: look again a few times.
      for (const wait of [2000, 4000, 8000]) setTimeout(() => void onChange(), wait);
    } catch (e) {
      setError(m('failed', { reason: problem(e) }));
    }
  };

  const remove = async (c: Connection) => {
    if (!window.confirm(m('confirmDeleteConnection', { label: c.label }))) return;
    setError(null);
    try {
      await deleteConnection(c.id);
      setNote(m('deleted', { label: c.label }));
      await onChange();
    } catch (e) {
      setError(m('failed', { reason: problem(e) }));
    }
  };

  return (
    <>
      <section class="panel" aria-labelledby="wa-connections" data-admin="wa-connections">
        <div class="panel-head">
          <h2 id="wa-connections">{m('connections')}</h2>
          {!readOnly && editing === null && (
            <button type="button" data-admin="wa-add-connection" onClick={() => setEditing('new')}>
              {m('addConnection')}
            </button>
          )}
        </div>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <p aria-live="polite" class="muted">
          {note}
        </p>
        {editing !== null && (
          <ConnectionForm
            tenantId={tenantId}
            connection={editing === 'new' ? null : editing}
            onDone={async (saved) => {
              setEditing(null);
              if (saved) {
                setNote(t('saved'));
                await onChange();
              }
            }}
          />
        )}
        {connections.length === 0 && <p class="empty-note">{m('noConnections')}</p>}
        <ul class="wa-cards">
          {connections.map((c) => (
            <li key={c.id} class="card" data-connection={c.id}>
              <h3>
                {c.label}{' '}
                <span class="badge" data-admin="wa-connection-status">
                  {c.enabled ? m('enabled') : m('disabled')}
                </span>
              </h3>
              <label class="wa-url">
                <span>{m('webhookUrl')}</span>
                <input readOnly dir="ltr" value={webhookUrl(c.id)} data-admin="wa-webhook-url" />
              </label>
              <p class="muted small">{m('webhookHelp')}</p>
              <h4>{m('settingsOf')}</h4>
              <dl class="wa-settings">
                {SETTINGS.map((s) => (
                  <div key={s} data-setting={s} data-set={String(c.settings[s])}>
                    <dt>{m(SETTING_LABEL[s])}</dt>
                    <dd>{c.settings[s] ? m('set') : m('notSet')}</dd>
                  </div>
                ))}
              </dl>
              {!readOnly && (
                <div class="actions">
                  <button type="button" onClick={() => setEditing(c)}>
                    {m('edit')}
                  </button>
                  <button
                    type="button"
                    data-admin="wa-sync"
                    disabled={!c.settings.business_account_id}
                    onClick={() => void sync(c)}
                  >
                    {m('sync', { label: c.label })}
                  </button>
                  <button
                    type="button"
                    class="danger"
                    data-admin="wa-delete-connection"
                    onClick={() => void remove(c)}
                  >
                    {m('deleteConnection', { label: c.label })}
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      </section>
      <Templates connections={connections} templates={templates} onRefresh={onChange} />
    </>
  );
}

function ConnectionForm({
  tenantId,
  connection,
  onDone,
}: {
  tenantId: string;
  connection: Connection | null;
  onDone: (saved: boolean) => void;
}) {
  const [label, setLabel] = useState(connection?.label ?? 'WhatsApp');
  const [enabled, setEnabled] = useState(connection?.enabled ?? true);
  const [values, setValues] = useState<Record<SettingName, string>>(
    Object.fromEntries(SETTINGS.map((s) => [s, ''])) as Record<SettingName, string>,
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const fieldProps = (s: SettingName) => ({
    name: s,
    dir: 'ltr' as const,
    autoComplete: 'off',
    value: values[s],
    onInput: (e: Event) =>
      setValues({ ...values, [s]: (e.currentTarget as HTMLInputElement).value }),
  });

  const submit = async (event: Event) => {
    event.preventDefault();
    const missing = connection
      ? []
      : SETTINGS.filter((s) => s !== 'business_account_id' && !values[s].trim());
    if (missing.length > 0) {
      setError(missing.map((s) => m('required', { field: m(SETTING_LABEL[s]) })).join(' '));
      return;
    }
    const fields: Record<string, string | boolean> = { label: label.trim(), enabled };
    for (const s of SETTINGS) if (values[s].trim()) fields[s] = values[s].trim();
    setBusy(true);
    setError(null);
    try {
      await saveConnection(tenantId, connection?.id ?? null, fields);
      onDone(true);
    } catch (e) {
      setError(m('failed', { reason: problem(e) }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={submit} noValidate data-admin="wa-connection-form">
      <h3>{connection ? m('editConnection', { label: connection.label }) : m('addConnection')}</h3>
      {connection && <p class="muted">{m('keepHint')}</p>}
      <label>
        <span>{m('label')}</span>
        <input name="label" value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
      </label>
      {SETTINGS.map((s) => (
        <label key={s}>
          <span>
            {m(SETTING_LABEL[s])}
            {connection && ` (${connection.settings[s] ? m('set') : m('notSet')})`}
          </span>
          <input
            // Secrets are typed unseen; the ids are plain numbers.
            type={(SECRET.has(s) ? 'password' : 'text') as 'text'}
            {...fieldProps(s)}
          />
        </label>
      ))}
      <label class="check">
        <input
          type="checkbox"
          name="enabled"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        <span>{m('enabled')}</span>
      </label>
      {error && (
        <p role="alert" class="error" data-admin="wa-form-error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-admin="wa-connection-save">
          {busy ? t('saving') : t('save')}
        </button>
        <button type="button" onClick={() => onDone(false)}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}

function Templates({
  connections,
  templates,
  onRefresh,
}: {
  connections: Connection[];
  templates: Template[];
  onRefresh: () => Promise<void>;
}) {
  const labelOf = (id: string) => connections.find((c) => c.id === id)?.label ?? '';
  return (
    <section class="panel" aria-labelledby="wa-templates" data-admin="wa-templates">
      <div class="panel-head">
        <h2 id="wa-templates">{m('templates')}</h2>
        <button type="button" data-admin="wa-templates-refresh" onClick={() => void onRefresh()}>
          {m('refresh')}
        </button>
      </div>
      {templates.length === 0 ? (
        <p class="empty-note">{m('noTemplates')}</p>
      ) : (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling table is reached by keyboard
        <div class="table-scroll" tabIndex={0}>
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">{m('name')}</th>
                <th scope="col">{m('language')}</th>
                <th scope="col">{m('category')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{m('number')}</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((t) => (
                <tr key={t.id} data-template={t.name} data-status={t.status}>
                  <th scope="row">
                    <bdi>{t.name}</bdi>
                  </th>
                  <td>
                    <bdi>{t.language}</bdi>
                  </td>
                  <td>{t.category ?? ''}</td>
                  <td>
                    <span class="badge">{t.status}</span>
                  </td>
                  <td>{labelOf(t.connection_id)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
