import { useEffect, useRef, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import {
  type AuditEntry,
  loadAudit,
  loadTenants,
  type PlatformTenant,
  setSuspended,
  type TenantView,
  viewTenant,
} from '../../data/platform.ts';
import { formatTime, locale, t } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { m } from './messages.ts';

// The operators' page: every tenant with plan, usage and status; suspend (with a reason) and
// resume; a read-only view of one tenant, which the database writes to the audit log before it
// answers; and that log. Only operators get here, and the SQL refuses everyone else anyway.

const int = (v: number) => new Intl.NumberFormat(locale.value).format(v);

export default function PlatformPage(_: PageProps) {
  const [tenants, setTenants] = useState<PlatformTenant[] | null>(null);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<{ text: string; error?: boolean } | null>(null);
  const [suspending, setSuspending] = useState<string | null>(null);
  const [view, setView] = useState<TenantView | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    Promise.all([loadTenants(), loadAudit()])
      .then(([list, log]) => {
        if (!live) return;
        setTenants(list);
        setAudit(log);
        setError(null);
      })
      .catch((e) => live && setError(problem(e)));
    return () => {
      live = false;
    };
  }, [version]);

  const reload = () => setVersion((v) => v + 1);
  const names = new Map((tenants ?? []).map((t) => [t.id, t.name]));

  async function change(tenant: PlatformTenant, suspend: boolean, reason = '') {
    setStatus(null);
    try {
      await setSuspended(tenant.id, suspend, reason);
      setSuspending(null);
      setStatus({ text: m(suspend ? 'suspendedDone' : 'resumedDone', { name: tenant.name }) });
    } catch (e) {
      setStatus({ text: m('failed', { reason: problem(e) }), error: true });
    }
    reload();
  }

  async function open(tenant: PlatformTenant) {
    setStatus(null);
    try {
      setView(await viewTenant(tenant.id));
    } catch (e) {
      setStatus({ text: m('failed', { reason: problem(e) }), error: true });
    }
    reload();
  }

  if (error) {
    return (
      <section class="platform" aria-labelledby="platform-title">
        <h1 id="platform-title">{m('title')}</h1>
        <p class="error" role="alert">
          {m('loadFailed', { reason: error })}
        </p>
      </section>
    );
  }
  if (!tenants) {
    return (
      <p class="empty" aria-busy="true">
        {m('title')}…
      </p>
    );
  }

  return (
    <section class="platform" aria-labelledby="platform-title" data-admin="platform">
      <h1 id="platform-title">{m('title')}</h1>
      <p role="status" class={status?.error ? 'error' : 'muted'} data-admin="platform-status">
        {status?.text ?? ''}
      </p>
      {view && <ViewPanel view={view} onClose={() => setView(null)} />}

      <h2>{m('tenants')}</h2>
      <div class="table-wrap">
        <table class="team-table platform-table">
          <thead>
            <tr>
              <th scope="col">{m('name')}</th>
              <th scope="col">{m('plan')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{m('members')}</th>
              <th scope="col">{m('conversations')}</th>
              <th scope="col">{m('replies')}</th>
              <th scope="col">{m('documents')}</th>
              <th scope="col">{m('lastActivity')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tenants.map((row) => (
              <tr key={row.id} data-tenant={row.slug}>
                <th scope="row">
                  {row.name} <span class="muted">({row.slug})</span>
                </th>
                <td data-label={m('plan')}>{row.plan_id}</td>
                <td data-label={t('status')}>
                  <span
                    class={`tag ${row.status === 'suspended' ? 'tag-danger' : ''}`}
                    data-admin="tenant-status"
                  >
                    {m(row.status)}
                  </span>
                  {row.suspended_at && (
                    <span class="muted">
                      {' '}
                      {m('suspendedSince', { when: formatTime(row.suspended_at) })}
                    </span>
                  )}
                </td>
                <td data-label={m('members')}>{int(row.members)}</td>
                <td data-label={m('conversations')}>{int(row.conversations_this_month)}</td>
                <td data-label={m('replies')}>{int(row.bot_replies_this_month)}</td>
                <td data-label={m('documents')}>{int(row.documents)}</td>
                <td data-label={m('lastActivity')}>
                  {row.last_activity_at ? formatTime(row.last_activity_at) : m('never')}
                </td>
                <td class="platform-actions">
                  <button type="button" data-admin="view-tenant" onClick={() => void open(row)}>
                    {m('view')}
                    <span class="visually-hidden"> {row.name}</span>
                  </button>{' '}
                  {row.status === 'suspended' ? (
                    <button
                      type="button"
                      data-admin="resume-tenant"
                      onClick={() => void change(row, false)}
                    >
                      {m('resume')}
                      <span class="visually-hidden"> {row.name}</span>
                    </button>
                  ) : suspending === row.id ? (
                    <SuspendForm
                      tenant={row}
                      onCancel={() => setSuspending(null)}
                      onConfirm={(reason) => void change(row, true, reason)}
                    />
                  ) : (
                    <button
                      type="button"
                      class="danger"
                      data-admin="suspend-tenant"
                      onClick={() => setSuspending(row.id)}
                    >
                      {m('suspend')}
                      <span class="visually-hidden"> {row.name}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <h2>{m('audit')}</h2>
      <div class="table-wrap">
        <table class="team-table" data-admin="audit-log">
          <thead>
            <tr>
              <th scope="col">{m('when')}</th>
              <th scope="col">{m('action')}</th>
              <th scope="col">{m('name')}</th>
              <th scope="col">{m('detail')}</th>
            </tr>
          </thead>
          <tbody>
            {audit.map((a) => (
              <tr key={a.id}>
                <td data-label={m('when')}>{formatTime(a.created_at)}</td>
                <td data-label={m('action')}>
                  {m(
                    a.action === 'view'
                      ? 'actionView'
                      : a.action === 'suspend'
                        ? 'actionSuspend'
                        : 'actionResume',
                  )}
                </td>
                <td data-label={m('name')}>
                  {(a.tenant_id && names.get(a.tenant_id)) ?? a.tenant_id ?? ''}
                </td>
                <td data-label={m('detail')}>{a.detail.reason ?? a.detail.what ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function SuspendForm(props: {
  tenant: PlatformTenant;
  onCancel: () => void;
  onConfirm: (reason: string) => void;
}) {
  const [reason, setReason] = useState('');
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  return (
    <form
      class="suspend-form"
      onSubmit={(e) => {
        e.preventDefault();
        props.onConfirm(reason);
      }}
    >
      <p>{m('confirmSuspend', { name: props.tenant.name })}</p>
      <label>
        {m('reason')}
        <input
          ref={field}
          name="suspend-reason"
          maxLength={500}
          value={reason}
          onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)}
        />
      </label>{' '}
      <button type="submit" class="danger" data-admin="confirm-suspend">
        {m('suspend')}
      </button>{' '}
      <button type="button" onClick={props.onCancel}>
        {t('cancel')}
      </button>
    </form>
  );
}

function ViewPanel({ view, onClose }: { view: TenantView; onClose: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [view.tenant.id]);
  const tenant = view.tenant;
  return (
    <section class="tenant-view" aria-labelledby="tenant-view-title" data-admin="tenant-view">
      <div class="tenant-view-head">
        <h2 id="tenant-view-title" tabIndex={-1} ref={heading}>
          {m('viewTitle', { name: tenant.name })}
        </h2>
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      </div>
      <p class="muted">{m('viewAudited')}</p>
      <dl class="tenant-facts">
        <dt>{m('slug')}</dt>
        <dd>{tenant.slug}</dd>
        <dt>{m('plan')}</dt>
        <dd>{tenant.plan_id}</dd>
        <dt>{t('status')}</dt>
        <dd>{m(tenant.status === 'suspended' ? 'suspended' : 'active')}</dd>
        <dt>{m('engine')}</dt>
        <dd>{tenant.bot_engine}</dd>
        <dt>{m('origins')}</dt>
        <dd dir="ltr">
          {tenant.allowed_origins.length ? tenant.allowed_origins.join(', ') : m('anyOrigin')}
        </dd>
        <dt>{m('identity')}</dt>
        <dd>{m(tenant.enforce_identity ? 'on' : 'off')}</dd>
        <dt>{m('created')}</dt>
        <dd>{formatTime(tenant.created_at)}</dd>
      </dl>
      <h3>{m('usage')}</h3>
      <table class="team-table">
        <thead>
          <tr>
            <th scope="col">{m('metric')}</th>
            <th scope="col">{m('used')}</th>
            <th scope="col">{m('limit')}</th>
          </tr>
        </thead>
        <tbody>
          {view.usage.map((u) => (
            <tr key={u.metric}>
              <td data-label={m('metric')}>{u.metric}</td>
              <td data-label={m('used')}>{int(u.used)}</td>
              <td data-label={m('limit')}>{u.quota === null ? m('unlimited') : int(u.quota)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{m('team')}</h3>
      <ul>
        {view.members.map((member) => (
          <li key={member.email}>
            {member.email} ({member.role})
          </li>
        ))}
      </ul>
      <h3>{m('recent')}</h3>
      {view.conversations.length === 0 ? (
        <p class="muted">{m('none')}</p>
      ) : (
        <table class="team-table">
          <thead>
            <tr>
              <th scope="col">{m('started')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{m('channel')}</th>
              <th scope="col">{m('lastActivity')}</th>
            </tr>
          </thead>
          <tbody>
            {view.conversations.map((c) => (
              <tr key={c.id}>
                <td data-label={m('started')}>{formatTime(c.created_at)}</td>
                <td data-label={t('status')}>{c.status}</td>
                <td data-label={m('channel')}>{c.channel}</td>
                <td data-label={m('lastActivity')}>
                  {c.last_message_at ? formatTime(c.last_message_at) : m('never')}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{m('docs')}</h3>
      <p>
        {Object.keys(view.documents).length === 0
          ? m('none')
          : Object.entries(view.documents)
              .map(([s, n]) => `${s}: ${int(n)}`)
              .join(', ')}
      </p>
    </section>
  );
}
