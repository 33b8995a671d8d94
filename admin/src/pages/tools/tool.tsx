import { signal } from '@preact/signals';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import {
  createTool,
  deleteTool,
  draftOf,
  type Execution,
  listExecutions,
  listTemplates,
  loadTool,
  rotateSecret,
  type TestCallResult,
  type Tool,
  type ToolDraft,
  type ToolStats,
  testCall,
  toolStats,
  updateTool,
} from '../../data/tools.ts';
import { t } from '../../i18n/index.ts';
import { href, navigate } from '../../router.ts';
import { millis, percent } from './format.ts';
import { m } from './messages.ts';
import { checkArguments, checkSchema, exampleArguments } from './schema.ts';

/** A secret just made, shown on the tool's page until the person leaves it: never again. */
const revealed = signal<{ toolId: string; secret: string } | null>(null);

const NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
const BLANK_SCHEMA = { type: 'object', properties: {}, additionalProperties: false };
const pretty = (value: unknown) => JSON.stringify(value, null, 2);

interface Props {
  tenantId: string;
  toolId?: string;
  template?: string;
}

export function ToolPage({ tenantId, toolId, template }: Props) {
  const [tool, setTool] = useState<Tool | null>(null);
  const [draft, setDraft] = useState<ToolDraft | null>(null);
  const [schemaText, setSchemaText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [showErrors, setShowErrors] = useState(false);

  useEffect(() => {
    let live = true;
    const start = (next: ToolDraft) => {
      if (!live) return;
      setDraft(next);
      setSchemaText(pretty(next.parameters));
    };
    if (toolId) {
      loadTool(toolId)
        .then((row) => {
          if (!live) return;
          if (!row) return setError(problem({ message: 'No such tool.' }));
          setTool(row);
          start(draftOf(row));
        })
        .catch((e) => live && setError(problem(e)));
    } else {
      listTemplates()
        .then((templates) => {
          const chosen = templates.find((t) => t.slug === template);
          start({
            tool_id: chosen?.id ?? null,
            name: chosen?.slug ?? '',
            description: chosen?.description ?? '',
            enabled: true,
            webhook_url: '',
            timeout_ms: 10000,
            parameters: chosen?.parameters ?? BLANK_SCHEMA,
          });
        })
        .catch((e) => live && setError(problem(e)));
    }
    return () => {
      live = false;
    };
  }, [toolId, template]);

  // Leaving the page forgets a secret just shown.
  useEffect(
    () => () => {
      if (revealed.value?.toolId === toolId) revealed.value = null;
    },
    [toolId],
  );

  const check = useMemo(() => checkSchema(schemaText), [schemaText]);
  if (!draft) {
    return (
      <section class="page tools">
        <p>
          <a href={href(tenantId, 'tools')}>{m('back')}</a>
        </p>
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : (
          <p aria-live="polite">{t('loading')}</p>
        )}
      </section>
    );
  }

  const problems = [
    ...(NAME.test(draft.name) ? [] : [m('invalidName')]),
    ...(/^https?:\/\/\S+$/i.test(draft.webhook_url) && URL.canParse(draft.webhook_url)
      ? []
      : [m('invalidUrl')]),
    ...(draft.timeout_ms >= 100 && draft.timeout_ms <= 60000 ? [] : [m('invalidTimeout')]),
    ...(check.ok ? [] : check.errors.map((e) => `${m('schema')}: ${e}`)),
  ];
  const set = (patch: Partial<ToolDraft>) => setDraft({ ...draft, ...patch });

  const save = async (event: Event) => {
    event.preventDefault();
    setStatus(null);
    setError(null);
    if (problems.length || !check.ok) {
      setShowErrors(true);
      return;
    }
    setBusy(true);
    const next = { ...draft, parameters: check.schema };
    try {
      if (tool) {
        setTool(await updateTool(tool.id, next));
        setStatus(t('saved'));
      } else {
        const created = await createTool(tenantId, next);
        // The first secret is made now, so that it can be shown: the one the insert generated was
        // never seen by anyone and is dropped without overlap. Should that fail, the tool exists
        // all the same, and its page offers the rotation again.
        try {
          const { secret } = await rotateSecret(created.id, 0);
          revealed.value = { toolId: created.id, secret };
        } finally {
          navigate(tenantId, 'tools', created.id);
        }
      }
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!tool || !window.confirm(m('confirmDelete', { name: tool.name }))) return;
    try {
      await deleteTool(tool.id);
      navigate(tenantId, 'tools');
    } catch (e) {
      setError(problem(e));
    }
  };

  return (
    <section class="page tools" aria-labelledby="tool-title">
      <p>
        <a href={href(tenantId, 'tools')}>{m('back')}</a>
      </p>
      <h1 id="tool-title">{tool ? m('editTitle', { name: tool.name }) : m('createTitle')}</h1>
      <form class="form tool-form" onSubmit={save} noValidate data-admin="tool-form">
        <label>
          <span>{m('name')}</span>
          <input
            name="name"
            value={draft.name}
            required
            maxLength={64}
            aria-describedby="tool-name-hint"
            onInput={(e) => set({ name: e.currentTarget.value })}
          />
          <small id="tool-name-hint" class="muted">
            {m('nameHint')}
          </small>
        </label>
        <label>
          <span>{m('description')}</span>
          <textarea
            name="description"
            rows={3}
            value={draft.description}
            aria-describedby="tool-description-hint"
            onInput={(e) => set({ description: e.currentTarget.value })}
          />
          <small id="tool-description-hint" class="muted">
            {m('descriptionHint')}
          </small>
        </label>
        <label>
          <span>{m('url')}</span>
          <input
            name="webhook_url"
            type="url"
            inputMode="url"
            dir="ltr"
            value={draft.webhook_url}
            required
            aria-describedby="tool-url-hint"
            onInput={(e) => set({ webhook_url: e.currentTarget.value.trim() })}
          />
          <small id="tool-url-hint" class="muted">
            {m('urlHint')}
          </small>
        </label>
        <div class="form-row">
          <label>
            <span>{m('timeout')}</span>
            <input
              name="timeout_ms"
              type="number"
              min={100}
              max={60000}
              step={100}
              value={draft.timeout_ms}
              onInput={(e) => set({ timeout_ms: Number(e.currentTarget.value) })}
            />
          </label>
          <label class="check">
            <input
              name="enabled"
              type="checkbox"
              checked={draft.enabled}
              onChange={(e) => set({ enabled: e.currentTarget.checked })}
            />
            <span>{m('enabledLabel')}</span>
          </label>
        </div>
        <label>
          <span>{m('schema')}</span>
          <textarea
            name="parameters"
            class="code"
            dir="ltr"
            rows={12}
            spellcheck={false}
            value={schemaText}
            aria-invalid={!check.ok}
            aria-describedby="tool-schema-check"
            onInput={(e) => setSchemaText(e.currentTarget.value)}
          />
          <small id="tool-schema-check" class={check.ok ? 'ok' : 'error'} data-admin="schema-check">
            {check.ok ? m('schemaValid') : check.errors.join(' · ')}
          </small>
        </label>
        {showErrors && problems.length > 0 && (
          <div role="alert" class="error" data-admin="form-errors">
            <p>{m('errorsTitle')}</p>
            <ul>
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy} data-admin="tool-save">
            {busy ? t('saving') : tool ? t('save') : m('create')}
          </button>
          {tool && (
            <button type="button" class="danger" onClick={remove}>
              {m('delete')}
            </button>
          )}
          <span role="status">{status}</span>
        </div>
      </form>
      {tool ? (
        <>
          <SecretPanel tool={tool} onRotated={setTool} />
          <TestPanel tool={tool} />
          <LogPanel tenantId={tenantId} tool={tool} />
        </>
      ) : (
        <p class="muted">{m('saveFirst')}</p>
      )}
    </section>
  );
}

const OVERLAPS = [
  { seconds: 0, label: 'overlapNone' },
  { seconds: 3600, label: 'overlapHour' },
  { seconds: 86400, label: 'overlapDay' },
  { seconds: 604800, label: 'overlapWeek' },
] as const;

function SecretPanel({ tool, onRotated }: { tool: Tool; onRotated: (tool: Tool) => void }) {
  const [overlap, setOverlap] = useState(86400);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const shown = revealed.value?.toolId === tool.id ? revealed.value.secret : null;
  const until = tool.previous_secret_expires_at ? new Date(tool.previous_secret_expires_at) : null;

  const rotate = async () => {
    if (overlap === 0 && !window.confirm(m('confirmRotateNow'))) return;
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const result = await rotateSecret(tool.id, overlap);
      revealed.value = { toolId: tool.id, secret: result.secret };
      onRotated({ ...tool, previous_secret_expires_at: result.previous_secret_expires_at });
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(false);
    }
  };
  const copy = async () => {
    if (!shown) return;
    try {
      await navigator.clipboard.writeText(shown);
      setCopied(true);
    } catch (e) {
      setError(problem(e));
    }
  };

  return (
    <section class="panel" aria-labelledby="secret-title" data-admin="secret-panel">
      <h2 id="secret-title">{m('secretTitle')}</h2>
      <p class="muted">{m('secretIntro')}</p>
      {shown && (
        <div class="secret-once">
          <code dir="ltr" data-admin="tool-secret">
            {shown}
          </code>
          <button type="button" onClick={copy}>
            {t('copy')}
          </button>
          <p role="status">{copied ? t('copied') : m('secretOnce')}</p>
        </div>
      )}
      {until && until.getTime() > Date.now() && (
        <p data-admin="overlap-until">{m('previousValid', { time: until.toLocaleString() })}</p>
      )}
      <div class="form-row">
        <label>
          <span>{m('overlap')}</span>
          <select
            data-admin="overlap"
            value={String(overlap)}
            onChange={(e) => setOverlap(Number(e.currentTarget.value))}
          >
            {OVERLAPS.map((o) => (
              <option key={o.seconds} value={String(o.seconds)}>
                {m(o.label)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={rotate} disabled={busy} data-admin="rotate">
          {busy ? m('rotating') : m('rotate')}
        </button>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
    </section>
  );
}

function TestPanel({ tool }: { tool: Tool }) {
  const [text, setText] = useState(() => pretty(exampleArguments(tool.parameters)));
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestCallResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const check = useMemo(() => checkArguments(tool.parameters, text), [tool.parameters, text]);

  const send = async (event: Event) => {
    event.preventDefault();
    if (!check.ok) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await testCall(tool.id, check.value));
    } catch (e) {
      setError(problem(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="test-title" data-admin="test-panel">
      <h2 id="test-title">{m('testTitle')}</h2>
      <p class="muted">{m('testIntro')}</p>
      <form class="form" onSubmit={send} noValidate>
        <label>
          <span>{m('arguments')}</span>
          <textarea
            class="code"
            dir="ltr"
            rows={6}
            spellcheck={false}
            value={text}
            data-admin="test-args"
            aria-invalid={!check.ok}
            aria-describedby="test-args-check"
            onInput={(e) => setText(e.currentTarget.value)}
          />
          <small id="test-args-check" class={check.ok ? 'muted' : 'error'}>
            {check.ok ? '' : check.errors.join(' · ')}
          </small>
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || !check.ok} data-admin="test-send">
            {busy ? m('sending') : m('send')}
          </button>
        </div>
      </form>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {result && (
        <div
          class="test-result"
          data-admin="test-result"
          data-ok={String(result.ok)}
          aria-live="polite"
        >
          <p>
            <strong class={result.ok ? 'ok' : 'error'}>
              {result.ok ? m('resultOk') : m('resultFailed')}
            </strong>
            {' · '}
            {result.status ? m('httpStatus', { status: result.status }) : m('noAnswer')}
            {' · '}
            {m('duration', { ms: result.duration_ms })}
            {result.signatures > 1 && <> · {m('signatures', { count: result.signatures })}</>}
          </p>
          {result.error && <p class="error">{result.error}</p>}
          <h3>{m('response')}</h3>
          <pre dir="ltr" data-admin="test-response">
            {pretty(result.response)}
          </pre>
          {result.request && (
            <details>
              <summary>{m('request')}</summary>
              <pre dir="ltr" data-admin="test-request">
                {`${result.request.method} ${result.request.url}\n${Object.entries(
                  result.request.headers,
                )
                  .map(([k, v]) => `${k}: ${v}`)
                  .join('\n')}\n\n${result.request.body}`}
              </pre>
            </details>
          )}
        </div>
      )}
    </section>
  );
}

function LogPanel({ tenantId, tool }: { tenantId: string; tool: Tool }) {
  const [rows, setRows] = useState<Execution[] | null>(null);
  const [stats, setStats] = useState<ToolStats | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    Promise.all([listExecutions(tool.id), toolStats(tenantId)])
      .then(([list, numbers]) => {
        if (!live) return;
        setRows(list);
        setStats(numbers.find((s) => s.tenant_tool_id === tool.id) ?? null);
      })
      .catch((e) => live && setError(problem(e)));
    return () => {
      live = false;
    };
  }, [tenantId, tool.id, version]);

  return (
    <section class="panel" aria-labelledby="log-title" data-admin="tool-log">
      <div class="panel-head">
        <h2 id="log-title">{m('logTitle')}</h2>
        <button type="button" onClick={() => setVersion((v) => v + 1)} data-admin="log-refresh">
          {m('refresh')}
        </button>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p data-admin="tool-stats" data-calls={stats?.calls ?? 0}>
        {m('statsLine', {
          calls: stats?.calls ?? 0,
          rate: percent(stats?.success_rate),
          p50: millis(stats?.p50_ms),
          p95: millis(stats?.p95_ms),
        })}
      </p>
      {rows?.length === 0 && <p class="empty-note">{m('noCalls')}</p>}
      {rows && rows.length > 0 && (
        <div class="table-scroll">
          <table class="data-table">
            <thead>
              <tr>
                <th scope="col">{m('time')}</th>
                <th scope="col">{m('result')}</th>
                <th scope="col">{m('durationColumn')}</th>
                <th scope="col">{m('attempts')}</th>
                <th scope="col">{m('error')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id} data-execution={row.id} data-success={String(row.success)}>
                  <td>
                    {new Date(row.created_at).toLocaleString()}{' '}
                    {row.test ? (
                      <span class="badge">{m('test')}</span>
                    ) : (
                      row.conversation_id && (
                        <a href={href(tenantId, 'inbox', row.conversation_id)}>
                          {m('conversation')}
                        </a>
                      )
                    )}
                  </td>
                  <td class={row.success ? 'ok' : 'error'}>
                    {row.success ? m('resultOk') : m('resultFailed')}
                    {row.http_status ? ` · ${row.http_status}` : ''}
                  </td>
                  <td>{millis(row.duration_ms)}</td>
                  <td>{row.attempts}</td>
                  <td>{row.error ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
