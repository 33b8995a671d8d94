import { useCallback, useEffect, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { t } from '../../i18n/index.ts';
import {
  type Broadcast,
  createBroadcast,
  type Flow,
  listBroadcasts,
  listFlows,
  type Summary,
  setPaused,
  startableFlows,
  summaryOf,
  type Template,
  variableCount,
} from './data.ts';
import { type MessageKey, m } from './messages.ts';

const COUNTS: [keyof Summary, MessageKey][] = [
  ['total', 'total'],
  ['queued', 'queued'],
  ['sent', 'sent'],
  ['delivered', 'delivered'],
  ['read', 'read'],
  ['replied', 'replied'],
  ['failed', 'failedCount'],
  ['skipped', 'skipped'],
];
const RUNNING = new Set(['scheduled', 'sending']);
/** How often the counts of a running broadcast are read again. */
const REFRESH_MS = 3000;

/** Broadcasts: a form for a new one, and each one's counts, live while it sends. */
export function Broadcasts({
  tenantId,
  templates,
  readOnly,
}: {
  tenantId: string;
  templates: Template[];
  readOnly: boolean;
}) {
  const [broadcasts, setBroadcasts] = useState<Broadcast[] | null>(null);
  const [summaries, setSummaries] = useState<Record<string, Summary | null>>({});
  const [creating, setCreating] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      const list = await listBroadcasts(tenantId);
      const counts = await Promise.all(list.map((b) => summaryOf(b.id)));
      setBroadcasts(list);
      setSummaries(Object.fromEntries(list.map((b, i) => [b.id, counts[i] ?? null])));
    } catch (e) {
      setError(m('loadFailed', { reason: problem(e) }));
    }
  }, [tenantId]);
  useEffect(() => {
    void reload();
  }, [reload]);
  const running = Object.values(summaries).some((s) => s && RUNNING.has(s.status));
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => void reload(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [running, reload]);

  const pause = async (b: Broadcast, paused: boolean) => {
    setError(null);
    try {
      await setPaused(b.id, paused);
      await reload();
    } catch (e) {
      setError(m('failed', { reason: problem(e) }));
    }
  };

  const approved = templates.filter((t) => t.status === 'APPROVED');
  return (
    <section class="panel" aria-labelledby="wa-broadcasts" data-admin="wa-broadcasts">
      <div class="panel-head">
        <h2 id="wa-broadcasts">{m('broadcasts')}</h2>
        {!readOnly && !creating && (
          <button type="button" data-admin="wa-new-broadcast" onClick={() => setCreating(true)}>
            {m('newBroadcast')}
          </button>
        )}
      </div>
      <p class="muted">{m('broadcastsIntro')}</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p aria-live="polite" class="muted">
        {note}
      </p>
      {creating && (
        <BroadcastForm
          tenantId={tenantId}
          templates={approved}
          onDone={async (name) => {
            setCreating(false);
            if (name) {
              setNote(m('created', { name }));
              await reload();
            }
          }}
        />
      )}
      {broadcasts === null && !error && <p>{t('loading')}</p>}
      {broadcasts?.length === 0 && <p class="empty-note">{m('noBroadcasts')}</p>}
      <ul class="wa-cards">
        {(broadcasts ?? []).map((b) => {
          const s = summaries[b.id];
          const status = s?.status ?? b.status;
          return (
            <li key={b.id} class="card" data-broadcast={b.name} data-status={status}>
              <h3>
                {b.name} <span class="badge">{m(`st_${status}` as MessageKey)}</span>
              </h3>
              {s?.stopped_reason && (
                <p class="error">{m('stoppedBecause', { reason: s.stopped_reason })}</p>
              )}
              {s && (
                <dl class="wa-counts" aria-label={m('summaryOf', { name: b.name })}>
                  {COUNTS.map(([key, label]) => (
                    <div key={key} data-count={key}>
                      <dt>{m(label)}</dt>
                      <dd>{s[key] ?? 0}</dd>
                    </div>
                  ))}
                </dl>
              )}
              {!readOnly && RUNNING.has(status) && (
                <button type="button" data-admin="wa-pause" onClick={() => void pause(b, true)}>
                  {m('pause')}
                </button>
              )}
              {!readOnly && status === 'paused' && (
                <button type="button" data-admin="wa-resume" onClick={() => void pause(b, false)}>
                  {m('resume')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function BroadcastForm({
  tenantId,
  templates,
  onDone,
}: {
  tenantId: string;
  templates: Template[];
  onDone: (createdName: string | null) => void;
}) {
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState(templates[0]?.id ?? '');
  const [variables, setVariables] = useState<string[]>([]);
  const [conditions, setConditions] = useState([{ key: '', value: '' }]);
  const [flows, setFlows] = useState<Flow[]>([]);
  const [flowId, setFlowId] = useState('');
  const [at, setAt] = useState('');
  const [rate, setRate] = useState('80');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const template = templates.find((t) => t.id === templateId);
  const wanted = template ? variableCount(template) : 0;
  useEffect(() => {
    // Without the list the broadcast can still go out with the template alone.
    listFlows(tenantId).then(
      (list) => setFlows(startableFlows(list)),
      () => setFlows([]),
    );
  }, [tenantId]);
  const setCondition = (i: number, part: 'key' | 'value', text: string) =>
    setConditions(conditions.map((c, j) => (j === i ? { ...c, [part]: text } : c)));

  const submit = async (event: Event) => {
    event.preventDefault();
    const missing = [
      !name.trim() && m('name'),
      !template && m('template'),
      ...Array.from(
        { length: wanted },
        (_, i) => !variables[i]?.trim() && m('variable', { n: i + 1 }),
      ),
    ].filter((x): x is string => !!x);
    if (missing.length > 0) {
      setError(missing.map((field) => m('required', { field })).join(' '));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await createBroadcast({
        templateId,
        name: name.trim(),
        variables: Array.from({ length: wanted }, (_, i) => variables[i]?.trim() ?? ''),
        conditions,
        scheduledAt: at ? new Date(at).toISOString() : null,
        perSecond: Number(rate) || 80,
        flowId: flowId || null,
      });
      onDone(name.trim());
    } catch (e) {
      setError(m('failed', { reason: problem(e) }));
    } finally {
      setBusy(false);
    }
  };

  if (templates.length === 0)
    return (
      <div>
        <p class="empty-note">{m('noApproved')}</p>
        <button type="button" onClick={() => onDone(null)}>
          {t('cancel')}
        </button>
      </div>
    );
  return (
    <form class="form" onSubmit={submit} noValidate data-admin="wa-broadcast-form">
      <h3>{m('newBroadcast')}</h3>
      <label>
        <span>{m('name')}</span>
        <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        <span>{m('template')}</span>
        <select
          name="template"
          value={templateId}
          onChange={(e) => {
            setTemplateId(e.currentTarget.value);
            setVariables([]);
          }}
        >
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({t.language})
            </option>
          ))}
        </select>
      </label>
      {Array.from({ length: wanted }, (_, i) => (
        <label key={`${templateId}-${i}`}>
          <span>{m('variable', { n: i + 1 })}</span>
          <input
            name={`variable-${i + 1}`}
            value={variables[i] ?? ''}
            onInput={(e) => {
              const next = [...variables];
              next[i] = e.currentTarget.value;
              setVariables(next);
            }}
          />
        </label>
      ))}
      <fieldset class="wa-segment" data-admin="wa-segment">
        <legend>{m('segment')}</legend>
        <p class="muted small">{m('segmentHelp')}</p>
        {conditions.map((c, i) => (
          <div class="form-row" key={i} data-condition={i + 1}>
            <label>
              <span>{m('segmentKey', { n: i + 1 })}</span>
              <input
                name={`segment_key-${i + 1}`}
                dir="ltr"
                value={c.key}
                onInput={(e) => setCondition(i, 'key', e.currentTarget.value)}
              />
            </label>
            <label>
              <span>{m('segmentValue', { n: i + 1 })}</span>
              <input
                name={`segment_value-${i + 1}`}
                value={c.value}
                onInput={(e) => setCondition(i, 'value', e.currentTarget.value)}
              />
            </label>
            {conditions.length > 1 && (
              <button
                type="button"
                data-admin="wa-remove-condition"
                aria-label={m('removeCondition', { n: i + 1 })}
                onClick={() => setConditions(conditions.filter((_, j) => j !== i))}
              >
                ×
              </button>
            )}
          </div>
        ))}
        <button
          type="button"
          data-admin="wa-add-condition"
          disabled={conditions.length >= 10}
          onClick={() => setConditions([...conditions, { key: '', value: '' }])}
        >
          {m('addCondition')}
        </button>
      </fieldset>
      <label>
        <span>{m('startFlow')}</span>
        <select
          name="flow"
          value={flowId}
          aria-describedby="wa-start-flow-help"
          onChange={(e) => setFlowId(e.currentTarget.value)}
        >
          <option value="">{m('noFlow')}</option>
          {flows.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
      </label>
      <p class="muted small" id="wa-start-flow-help">
        {m('startFlowHelp')}
      </p>
      <div class="form-row">
        <label>
          <span>{m('scheduledAt')}</span>
          <input
            type="datetime-local"
            name="scheduled_at"
            value={at}
            onInput={(e) => setAt(e.currentTarget.value)}
          />
        </label>
        <label>
          <span>{m('rate')}</span>
          <input
            type="number"
            name="rate"
            min={1}
            max={1000}
            value={rate}
            onInput={(e) => setRate(e.currentTarget.value)}
          />
        </label>
      </div>
      {error && (
        <p role="alert" class="error" data-admin="wa-broadcast-error">
          {error}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy} data-admin="wa-broadcast-create">
          {busy ? t('saving') : m('create')}
        </button>
        <button type="button" onClick={() => onDone(null)}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
