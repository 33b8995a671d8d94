import { useEffect, useState } from 'preact/hooks';
import {
  type BotConfig,
  type BotSettings,
  type Engine,
  embedSnippet,
  lines,
  loadBotSettings,
  originLines,
  type PrechatField,
  rotate,
  type SecretsStatus,
  saveTenant,
  secretsStatus,
  setLlmApiKey,
  TONES,
  type WidgetLoad,
  widgetLoads,
} from '../../data/bot-settings.ts';
import { problem } from '../../data/client.ts';
import { currentMembership } from '../../data/tenants.ts';
import { t } from '../../i18n/index.ts';
import { href } from '../../router.ts';
import type { PageProps } from '../types.ts';
import { Copyable } from './copyable.tsx';
import { LauncherSettings } from './launcher.tsx';
import { LiveChatSettings } from './live-chat.tsx';
import { m } from './messages.ts';
import { Section } from './parts.tsx';

// The bot's settings, one section per concern, each saved on its own so a refused value in one
// never loses the edits of another. Owners and admins edit; a platform operator only looks.

interface Ctx {
  tenantId: string;
  settings: BotSettings;
  readOnly: boolean;
  /** Saves columns of the tenant, then reloads the page's copy. */
  save(patch: Parameters<typeof saveTenant>[1]): Promise<void>;
  /** Saves keys of bot_config over the current ones. */
  saveConfig(patch: Partial<BotConfig>): Promise<void>;
}

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;

export default function SettingsPage({ tenantId }: PageProps) {
  const [settings, setSettings] = useState<BotSettings | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const readOnly = currentMembership.value?.role === 'platform';

  useEffect(() => {
    loadBotSettings(tenantId).then(setSettings, (error) => setFailed(problem(error)));
  }, [tenantId]);

  if (failed) {
    return (
      <p class="error" role="alert">
        {m('loadFailed', { reason: failed })}
      </p>
    );
  }
  if (!settings) return <p class="empty" aria-busy="true" />;

  const save: Ctx['save'] = async (patch) => {
    await saveTenant(tenantId, patch);
    setSettings(await loadBotSettings(tenantId));
  };
  const ctx: Ctx = {
    tenantId,
    settings,
    readOnly,
    save,
    // Re-read first: another section (or person) may have saved other keys since.
    saveConfig: async (patch) => {
      const fresh = await loadBotSettings(tenantId);
      await save({ bot_config: { ...fresh.bot_config, ...patch } });
    },
  };
  return (
    <div class="settings-page">
      <h1>{m('title')}</h1>
      {readOnly && <p class="note">{m('readOnly')}</p>}
      <p>
        <a href={href(tenantId, 'onboarding')}>{m('toOnboarding')}</a>
      </p>
      <Persona {...ctx} />
      <EngineSection {...ctx} />
      <Model {...ctx} />
      <Words {...ctx} />
      <Look {...ctx} />
      <LauncherSettings {...ctx} />
      <Prechat {...ctx} />
      <LiveChatSettings tenantId={tenantId} readOnly={readOnly} />
      <Origins {...ctx} />
      <Identity {...ctx} />
      <WidgetKey {...ctx} />
    </div>
  );
}

function Persona({ settings, readOnly, saveConfig }: Ctx) {
  const config = settings.bot_config;
  const [name, setName] = useState(config.name ?? '');
  const [prompt, setPrompt] = useState(config.system_prompt ?? '');
  const [tone, setTone] = useState(config.tone ?? 'friendly');
  const [rules, setRules] = useState((config.guardrails ?? []).join('\n'));
  return (
    <Section
      id="persona"
      title={m('persona')}
      readOnly={readOnly}
      onSave={() =>
        saveConfig({
          name: name.trim() || undefined,
          system_prompt: prompt.trim() || undefined,
          tone,
          guardrails: lines(rules),
        })
      }
    >
      <label>
        {m('botName')}
        <input
          name="bot-name"
          maxLength={100}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label>
        {m('systemPrompt')}
        <textarea
          name="system-prompt"
          rows={4}
          maxLength={4000}
          value={prompt}
          onInput={(e) => setPrompt(e.currentTarget.value)}
        />
      </label>
      <label>
        {m('tone')}
        <select
          name="tone"
          value={tone}
          onChange={(e) => setTone(e.currentTarget.value as typeof tone)}
        >
          {TONES.map((t) => (
            <option key={t} value={t}>
              {m(`tone_${t}` as const)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {m('guardrails')}
        <textarea
          name="guardrails"
          rows={3}
          value={rules}
          onInput={(e) => setRules(e.currentTarget.value)}
        />
      </label>
    </Section>
  );
}

function ShownOnce({ value, note, name }: { value: string | null; note: string; name: string }) {
  return value ? (
    <Copyable
      copy={t('copy')}
      copied={t('copied')}
      label={m('secretLabel')}
      value={value}
      name={name}
      note={note}
    />
  ) : null;
}

function EngineSection({ tenantId, settings, readOnly, save }: Ctx) {
  const [engine, setEngine] = useState<Engine>(settings.bot_engine);
  const [url, setUrl] = useState(settings.n8n_webhook_url ?? '');
  const [timeout, setTimeoutSeconds] = useState(String(settings.n8n_callback_timeout_seconds));
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const engines: Engine[] = ['ai', 'n8n', 'human'];
  return (
    <Section
      id="engine"
      title={m('engine')}
      readOnly={readOnly}
      onSave={() =>
        save({
          bot_engine: engine,
          n8n_webhook_url: url.trim() || null,
          n8n_callback_timeout_seconds: Number(timeout),
        })
      }
    >
      <fieldset class="choices">
        <legend>{m('engine')}</legend>
        {engines.map((e) => (
          <label key={e} class="choice">
            <input
              type="radio"
              name="engine"
              value={e}
              checked={engine === e}
              onChange={() => setEngine(e)}
            />
            {m(`engine_${e}` as const)}
          </label>
        ))}
      </fieldset>
      {engine === 'n8n' && (
        <>
          <label>
            {m('n8nUrl')}
            <input
              name="n8n-url"
              type="url"
              required
              value={url}
              onInput={(e) => setUrl(e.currentTarget.value)}
            />
          </label>
          <label>
            {m('n8nTimeout')}
            <input
              name="n8n-timeout"
              type="number"
              min={5}
              max={3600}
              required
              value={timeout}
              onInput={(e) => setTimeoutSeconds(e.currentTarget.value)}
            />
          </label>
          <div class="settings-actions">
            <button
              type="button"
              data-admin="rotate-n8n"
              onClick={() => {
                setError(null);
                rotate(tenantId, 'rotate_n8n_secret').then(setSecret, (e) => setError(problem(e)));
              }}
            >
              {m('n8nRotate')}
            </button>
          </div>
          <ShownOnce value={secret} note={m('n8nRotated')} name="n8n-secret" />
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
        </>
      )}
    </Section>
  );
}

function Model({ tenantId, settings, readOnly, save }: Ctx) {
  const llm = settings.llm_config;
  const [provider, setProvider] = useState(llm.provider ?? 'openai');
  const [model, setModel] = useState(llm.model ?? '');
  const [baseUrl, setBaseUrl] = useState(llm.base_url ?? '');
  const [temperature, setTemperature] = useState(
    llm.temperature === undefined ? '' : String(llm.temperature),
  );
  const [status, setStatus] = useState<SecretsStatus | null>(null);
  const [key, setKey] = useState('');
  const [keyMessage, setKeyMessage] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    secretsStatus(tenantId).then(setStatus, (e) => setKeyMessage({ ok: false, text: problem(e) }));
  }, [tenantId]);

  const writeKey = async (value: string | null) => {
    setKeyMessage(null);
    try {
      await setLlmApiKey(tenantId, value);
      setKey('');
      setStatus(await secretsStatus(tenantId));
      setKeyMessage({ ok: true, text: value ? m('keySaved') : m('keyRemoved') });
    } catch (error) {
      setKeyMessage({ ok: false, text: m('saveFailed', { reason: problem(error) }) });
    }
  };

  return (
    <Section
      id="model"
      title={m('model')}
      readOnly={readOnly}
      onSave={() => {
        const { provider: _p, model: _m, base_url: _b, temperature: _t, ...rest } = llm;
        return save({
          llm_config: {
            ...rest,
            provider,
            ...(model.trim() ? { model: model.trim() } : {}),
            ...(baseUrl.trim() ? { base_url: baseUrl.trim() } : {}),
            ...(temperature.trim() ? { temperature: Number(temperature) } : {}),
          },
        });
      }}
    >
      <label>
        {m('provider')}
        <select
          name="provider"
          value={provider}
          onChange={(e) => setProvider(e.currentTarget.value as typeof provider)}
        >
          <option value="openai">{m('provider_openai')}</option>
          <option value="anthropic">{m('provider_anthropic')}</option>
        </select>
      </label>
      <label>
        {m('modelName')}
        <input
          name="model"
          maxLength={200}
          value={model}
          onInput={(e) => setModel(e.currentTarget.value)}
        />
      </label>
      <label>
        {m('baseUrl')}
        <input
          name="base-url"
          type="url"
          value={baseUrl}
          onInput={(e) => setBaseUrl(e.currentTarget.value)}
        />
      </label>
      <label>
        {m('temperature')}
        <input
          name="temperature"
          type="number"
          min={0}
          max={2}
          step={0.1}
          value={temperature}
          onInput={(e) => setTemperature(e.currentTarget.value)}
        />
      </label>
      <fieldset class="subsection">
        <legend>{m('apiKey')}</legend>
        <p
          data-admin="api-key-status"
          data-set={status ? String(status.llm_api_key_set) : undefined}
        >
          {status && (status.llm_api_key_set ? m('apiKeySet') : m('apiKeyUnset'))}
        </p>
        <label>
          {m('newApiKey')}
          <input
            name="api-key"
            type="password"
            autocomplete="off"
            spellcheck={false}
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <div class="settings-actions">
          <button
            type="button"
            data-admin="save-key"
            disabled={!key.trim()}
            onClick={() => void writeKey(key)}
          >
            {m('saveKey')}
          </button>
          {status?.llm_api_key_set && (
            <button type="button" data-admin="remove-key" onClick={() => void writeKey(null)}>
              {m('removeKey')}
            </button>
          )}
        </div>
        {keyMessage && (
          <p class={keyMessage.ok ? 'ok' : 'error'} role={keyMessage.ok ? 'status' : 'alert'}>
            {keyMessage.text}
          </p>
        )}
      </fieldset>
    </Section>
  );
}

/** A localized value as a map (a plain string or list belongs to the default language). */
function perLanguage<T>(
  value: T | Record<string, T> | undefined,
  fallback: string,
  isPlain: (v: unknown) => boolean,
) {
  if (value === undefined || value === null) return {} as Record<string, T>;
  return isPlain(value)
    ? ({ [fallback]: value } as Record<string, T>)
    : (value as Record<string, T>);
}

function Words({ settings, readOnly, saveConfig }: Ctx) {
  const config = settings.bot_config;
  const base = config.locale ?? 'en';
  const [greetings, setGreetings] = useState(() =>
    perLanguage<string>(config.greeting, base, (v) => typeof v === 'string'),
  );
  // Kept as typed (one per line) until saved, so a new line can be started.
  const [starts, setStarts] = useState(
    () =>
      Object.fromEntries(
        Object.entries(perLanguage<string[]>(config.quick_starts, base, Array.isArray)).map(
          ([language, list]) => [language, list.join('\n')],
        ),
      ) as Record<string, string>,
  );
  const [defaultLanguage, setDefaultLanguage] = useState(base);
  const languages = [...new Set([base, ...Object.keys(greetings), ...Object.keys(starts)])];
  const [current, setCurrent] = useState(base);
  const [adding, setAdding] = useState('');
  const [addError, setAddError] = useState<string | null>(null);

  const add = () => {
    const code = adding.trim();
    if (!LANGUAGE.test(code)) {
      setAddError(m('badLanguage'));
      return;
    }
    setAddError(null);
    setGreetings({ ...greetings, [code]: greetings[code] ?? '' });
    setCurrent(code);
    setAdding('');
  };
  const remove = () => {
    const { [current]: _g, ...g } = greetings;
    const { [current]: _s, ...s } = starts;
    setGreetings(g);
    setStarts(s);
    setCurrent(defaultLanguage);
  };

  return (
    <Section
      id="words"
      title={m('words')}
      readOnly={readOnly}
      onSave={() => {
        const greeting = Object.fromEntries(
          Object.entries(greetings).filter(([, text]) => text.trim()),
        );
        const quick = Object.fromEntries(
          Object.entries(starts)
            .map(([language, text]) => [language, lines(text)] as const)
            .filter(([, list]) => list.length > 0),
        );
        return saveConfig({ locale: defaultLanguage, greeting, quick_starts: quick });
      }}
    >
      <label>
        {m('defaultLanguage')}
        <select
          name="default-language"
          value={defaultLanguage}
          onChange={(e) => setDefaultLanguage(e.currentTarget.value)}
        >
          {languages.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
      </label>
      <div class="settings-row">
        <label>
          {t('language')}
          <select
            name="language"
            value={current}
            onChange={(e) => setCurrent(e.currentTarget.value)}
          >
            {languages.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
        <label>
          {m('addLanguage')}
          <input
            name="add-language"
            value={adding}
            onInput={(e) => setAdding(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                add();
              }
            }}
          />
        </label>
        <button type="button" data-admin="add-language" onClick={add}>
          {m('add')}
        </button>
      </div>
      {addError && (
        <p class="error" role="alert">
          {addError}
        </p>
      )}
      <label>
        {m('greeting')} ({current})
        <textarea
          name="greeting"
          rows={2}
          maxLength={2000}
          value={greetings[current] ?? ''}
          onInput={(e) => setGreetings({ ...greetings, [current]: e.currentTarget.value })}
        />
      </label>
      <label>
        {m('quickStarts')} ({current})
        <textarea
          name="quick-starts"
          rows={3}
          value={starts[current] ?? ''}
          onInput={(e) => setStarts({ ...starts, [current]: e.currentTarget.value })}
        />
      </label>
      {current !== defaultLanguage && (
        <button type="button" onClick={remove}>
          {m('removeLanguage')}
        </button>
      )}
    </Section>
  );
}

function Look({ settings, readOnly, saveConfig }: Ctx) {
  const config = settings.bot_config;
  const [color, setColor] = useState(config.color ?? '#2563eb');
  const [position, setPosition] = useState<'left' | 'right'>(config.position ?? 'right');
  const [avatar, setAvatar] = useState(config.avatar_url ?? '');
  return (
    <Section
      id="look"
      title={m('look')}
      readOnly={readOnly}
      onSave={() => saveConfig({ color, position, avatar_url: avatar.trim() || null })}
    >
      <label>
        {m('color')}
        <input
          name="color"
          type="color"
          value={color}
          onInput={(e) => setColor(e.currentTarget.value)}
        />
      </label>
      <fieldset class="choices">
        <legend>{m('position')}</legend>
        {(['right', 'left'] as const).map((p) => (
          <label key={p} class="choice">
            <input
              type="radio"
              name="position"
              value={p}
              checked={position === p}
              onChange={() => setPosition(p)}
            />
            {m(`position_${p}` as const)}
          </label>
        ))}
      </fieldset>
      <label>
        {m('avatarUrl')}
        <input
          name="avatar-url"
          type="url"
          value={avatar}
          onInput={(e) => setAvatar(e.currentTarget.value)}
        />
      </label>
    </Section>
  );
}

const labelText = (label: PrechatField['label']) =>
  typeof label === 'string' ? label : label ? (label.en ?? Object.values(label)[0] ?? '') : '';

function Prechat({ settings, readOnly, saveConfig }: Ctx) {
  const form = settings.bot_config.prechat_form;
  const [enabled, setEnabled] = useState(form?.enabled === true);
  const [fields, setFields] = useState<PrechatField[]>(form?.fields ?? []);
  const change = (i: number, patch: Partial<PrechatField>) =>
    setFields(fields.map((f, j) => (i === j ? { ...f, ...patch } : f)));
  return (
    <Section
      id="prechat"
      title={m('prechat')}
      readOnly={readOnly}
      onSave={() =>
        saveConfig({
          prechat_form: {
            enabled,
            fields: fields.map((f) => ({
              name: f.name.trim(),
              // A label kept per language stays so; a plain one is written as typed.
              label: typeof f.label === 'object' ? f.label : labelText(f.label) || f.name.trim(),
              type: f.type ?? 'text',
              required: f.required === true,
            })),
          },
        })
      }
    >
      <label class="choice">
        <input
          type="checkbox"
          name="prechat-enabled"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        {m('prechatEnabled')}
      </label>
      {fields.length === 0 && <p class="muted">{m('noFields')}</p>}
      <ol class="prechat-fields">
        {fields.map((f, i) => (
          <li key={i} data-admin="prechat-field">
            <fieldset>
              <legend>{m('field', { n: i + 1 })}</legend>
              <label>
                {m('fieldName')}
                <input
                  name="field-name"
                  required
                  pattern="[A-Za-z][A-Za-z0-9_]{0,63}"
                  value={f.name}
                  onInput={(e) => change(i, { name: e.currentTarget.value })}
                />
              </label>
              <label>
                {m('fieldLabel')}
                <input
                  name="field-label"
                  maxLength={200}
                  value={labelText(f.label)}
                  onInput={(e) => change(i, { label: e.currentTarget.value })}
                />
              </label>
              <label>
                {m('fieldType')}
                <select
                  name="field-type"
                  value={f.type ?? 'text'}
                  onChange={(e) => change(i, { type: e.currentTarget.value as 'text' | 'email' })}
                >
                  <option value="text">{m('type_text')}</option>
                  <option value="email">{m('type_email')}</option>
                </select>
              </label>
              <label class="choice">
                <input
                  type="checkbox"
                  name="field-required"
                  checked={f.required === true}
                  onChange={(e) => change(i, { required: e.currentTarget.checked })}
                />
                {m('required')}
              </label>
              <button type="button" onClick={() => setFields(fields.filter((_, j) => j !== i))}>
                {m('removeField', { n: i + 1 })}
              </button>
            </fieldset>
          </li>
        ))}
      </ol>
      <button
        type="button"
        data-admin="add-field"
        disabled={fields.length >= 20}
        onClick={() =>
          setFields([...fields, { name: '', label: '', type: 'text', required: false }])
        }
      >
        {m('addField')}
      </button>
    </Section>
  );
}

export function LoadsList({ loads }: { loads: WidgetLoad[] }) {
  if (loads.length === 0) return <p class="muted">{m('neverSeen')}</p>;
  return (
    <div>
      <p>{m('seenOn')}</p>
      <ul class="widget-loads" data-admin="widget-loads">
        {loads.map((l) => (
          <li key={l.origin}>
            <code>{l.origin}</code>{' '}
            <time dateTime={l.last_seen_at}>{new Date(l.last_seen_at).toLocaleString()}</time>
            {!l.allowed && <strong class="bad"> ({m('notAllowed')})</strong>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Origins({ tenantId, settings, readOnly, save }: Ctx) {
  const [text, setText] = useState(settings.allowed_origins.join('\n'));
  const [loads, setLoads] = useState<WidgetLoad[] | null>(null);
  useEffect(() => {
    widgetLoads(tenantId).then(setLoads, () => setLoads([]));
  }, [tenantId]);
  return (
    <Section
      id="origins"
      title={m('origins')}
      readOnly={readOnly}
      onSave={() => save({ allowed_origins: originLines(text) })}
    >
      <label>
        {m('originsHelp')}
        <textarea
          name="allowed-origins"
          rows={3}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      {originLines(text).length === 0 && <p class="note">{m('originsEmpty')}</p>}
      {loads && <LoadsList loads={loads} />}
    </Section>
  );
}

function Identity({ tenantId, settings, readOnly, save }: Ctx) {
  const [enforce, setEnforce] = useState(settings.enforce_identity);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <Section
      id="identity"
      title={m('identity')}
      readOnly={readOnly}
      onSave={() => save({ enforce_identity: enforce })}
    >
      <p class="muted">{m('identityHelp')}</p>
      <label class="choice">
        <input
          type="checkbox"
          name="enforce-identity"
          checked={enforce}
          onChange={(e) => setEnforce(e.currentTarget.checked)}
        />
        {m('enforce')}
      </label>
      <div class="settings-actions">
        <button
          type="button"
          data-admin="rotate-identity"
          onClick={() => {
            setError(null);
            rotate(tenantId, 'rotate_identity_secret').then(setSecret, (e) => setError(problem(e)));
          }}
        >
          {m('identityRotate')}
        </button>
      </div>
      <ShownOnce value={secret} note={m('identityRotated')} name="identity-secret" />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </Section>
  );
}

function WidgetKey({ tenantId, settings, readOnly }: Ctx) {
  const [key, setKey] = useState(settings.widget_key);
  const [confirming, setConfirming] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const doRotate = async () => {
    setConfirming(false);
    try {
      setKey(await rotate(tenantId, 'rotate_widget_key'));
      setMessage({ ok: true, text: m('keyRotated') });
    } catch (error) {
      setMessage({ ok: false, text: problem(error) });
    }
  };
  return (
    <Section id="widget" title={m('widget')} readOnly={readOnly}>
      <Copyable
        copy={t('copy')}
        copied={t('copied')}
        label={m('widgetKey')}
        value={key}
        name="widget-key"
      />
      <Copyable
        copy={t('copy')}
        copied={t('copied')}
        label={m('snippet')}
        value={embedSnippet(key)}
        name="snippet"
        multiline
      />
      {confirming ? (
        <div class="confirm">
          <p>{m('rotateConfirm')}</p>
          <div class="settings-actions">
            <button
              type="button"
              class="primary"
              data-admin="confirm-rotate-key"
              onClick={() => void doRotate()}
            >
              {m('confirm')}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </div>
        </div>
      ) : (
        <div class="settings-actions">
          <button type="button" data-admin="rotate-key" onClick={() => setConfirming(true)}>
            {m('rotateKey')}
          </button>
        </div>
      )}
      {message && (
        <p class={message.ok ? 'ok' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
    </Section>
  );
}
