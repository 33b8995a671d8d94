import { useEffect, useState } from 'preact/hooks';
import {
  type BotSettings,
  embedSnippet,
  loadBotSettings,
  originLines,
  originOf,
  saveTenant,
  TONES,
  type Tone,
  type WidgetLoad,
  widgetLoads,
} from '../../data/bot-settings.ts';
import { must, problem, supabase } from '../../data/client.ts';
import { ACCEPT, addCrawl, MAX_FILE_BYTES, typeOf, uploadDocument } from '../../data/knowledge.ts';
import { session } from '../../data/session.ts';
import { loadMemberships } from '../../data/tenants.ts';
import { t } from '../../i18n/index.ts';
import { href, navigate } from '../../router.ts';
import { Copyable } from '../settings/copyable.tsx';
import type { PageProps } from '../types.ts';
import { m } from './messages.ts';

// From a new account to a bot live on the tenant's site: the workspace, the bot's voice, a first
// source, the snippet, and a check that turns green once the widget has loaded on the site (the
// chat function records each load's origin; this page watches for it).

// The languages the widget speaks, each with the greeting a new bot starts with.
const GREETINGS: Record<string, string> = {
  en: 'Hi! How can we help you today?',
  he: 'שלום! איך אפשר לעזור היום?',
  es: '¡Hola! ¿En qué podemos ayudarte hoy?',
  fr: 'Bonjour ! Comment pouvons-nous vous aider ?',
  de: 'Hallo! Wie können wir helfen?',
  pt: 'Olá! Como podemos ajudar hoje?',
};
const LANGUAGE_NAMES: Record<string, string> = {
  en: 'English',
  he: 'עברית',
  es: 'Español',
  fr: 'Français',
  de: 'Deutsch',
  pt: 'Português',
};

const POLL_MS = 3000;

function slugFrom(name: string) {
  const base = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  // A random tail: the slug is unique platform-wide and nobody chooses it here.
  return `${base || 'shop'}-${crypto.randomUUID().slice(0, 6)}`;
}

type Feedback = { ok: boolean; text: string } | null;

function Said({ feedback, name }: { feedback: Feedback; name: string }) {
  if (!feedback) return null;
  return (
    <p
      class={feedback.ok ? 'ok' : 'error'}
      role={feedback.ok ? 'status' : 'alert'}
      data-admin={name}
    >
      {feedback.text}
    </p>
  );
}

function CreateWorkspace() {
  const [name, setName] = useState('');
  const [website, setWebsite] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = must(
        await supabase().rpc('create_workspace', {
          p_name: name.trim(),
          p_slug: slugFrom(name),
          p_website: website.trim() ? (originOf(website) ?? website.trim()) : null,
        }),
      ) as unknown as { id: string };
      navigate(created.id, 'onboarding');
      const userId = session.value?.user.id;
      if (userId) await loadMemberships(userId);
    } catch (e) {
      setError(problem(e));
      setBusy(false);
    }
  };
  return (
    <form class="onboarding-form" onSubmit={submit}>
      <label>
        {m('name')}
        <input
          name="workspace-name"
          required
          maxLength={120}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label>
        {m('website')}
        <input
          name="website"
          type="url"
          placeholder="https://"
          value={website}
          onInput={(e) => setWebsite(e.currentTarget.value)}
        />
      </label>
      <button class="primary" type="submit" disabled={busy} data-admin="create-workspace">
        {busy ? t('creating') : m('create')}
      </button>
      {error && (
        <p class="error" role="alert">
          {m('createFailed', { reason: error })}
        </p>
      )}
    </form>
  );
}

function Step(props: {
  id: string;
  title: string;
  done?: boolean;
  children: preact.ComponentChildren;
}) {
  return (
    <section
      class="card onboarding-step"
      aria-labelledby={`onboarding-${props.id}`}
      data-admin={`step-${props.id}`}
    >
      <h2 id={`onboarding-${props.id}`}>
        {props.title}
        {props.done && <span class="tag ok-tag"> {m('done')}</span>}
      </h2>
      {props.children}
    </section>
  );
}

function Voice({
  tenantId,
  settings,
  onSaved,
}: {
  tenantId: string;
  settings: BotSettings;
  onSaved(): void;
}) {
  const config = settings.bot_config;
  const [language, setLanguage] = useState(config.locale ?? 'en');
  const [tone, setTone] = useState<Tone>(config.tone ?? 'friendly');
  const [feedback, setFeedback] = useState<Feedback>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setFeedback(null);
    try {
      const fresh = await loadBotSettings(tenantId);
      const greeting =
        typeof fresh.bot_config.greeting === 'object' && fresh.bot_config.greeting
          ? fresh.bot_config.greeting
          : {};
      await saveTenant(tenantId, {
        bot_config: {
          ...fresh.bot_config,
          locale: language,
          tone,
          // A language the bot speaks gets a greeting in it, unless it has one.
          greeting: { [language]: GREETINGS[language] ?? GREETINGS.en ?? '', ...greeting },
        },
      });
      setFeedback({ ok: true, text: t('saved') });
      onSaved();
    } catch (e) {
      setFeedback({ ok: false, text: m('failed', { reason: problem(e) }) });
    }
  };
  return (
    <form class="onboarding-form" onSubmit={submit}>
      <label>
        {t('language')}
        <select
          name="bot-language"
          value={language}
          onChange={(e) => setLanguage(e.currentTarget.value)}
        >
          {Object.entries(LANGUAGE_NAMES).map(([code, label]) => (
            <option key={code} value={code} lang={code}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        {m('tone')}
        <select
          name="bot-tone"
          value={tone}
          onChange={(e) => setTone(e.currentTarget.value as Tone)}
        >
          {TONES.map((t) => (
            <option key={t} value={t}>
              {m(`tone_${t}` as const)}
            </option>
          ))}
        </select>
      </label>
      <button class="primary" type="submit" data-admin="save-voice">
        {m('saveVoice')}
      </button>
      <Said feedback={feedback} name="voice-feedback" />
    </form>
  );
}

interface Source {
  id: string;
  title: string;
  status: 'pending' | 'processing' | 'ready' | 'failed';
}

function FirstSource({ tenantId }: { tenantId: string }) {
  const [sources, setSources] = useState<Source[]>([]);
  const [title, setTitle] = useState('');
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    const { data } = await supabase()
      .from('documents')
      .select('id, title, status')
      .eq('tenant_id', tenantId)
      .order('created_at', { ascending: false })
      .limit(5);
    setSources((data ?? []) as Source[]);
  };
  useEffect(() => {
    void load();
  }, [tenantId]);
  // A source being read is watched until it is ready or failed.
  // A website being read adds its pages as they come, so it is watched from its start on.
  const [crawling, setCrawling] = useState(false);
  const reading =
    crawling || sources.some((s) => s.status === 'pending' || s.status === 'processing');
  useEffect(() => {
    if (!reading) return;
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [reading, tenantId]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      must(
        await supabase()
          .from('documents')
          .insert({
            tenant_id: tenantId,
            title: title.trim(),
            content: text,
            mime_type: 'text/plain',
          })
          .select('id'),
      );
      setTitle('');
      setText('');
      await load();
    } catch (e) {
      setError(problem(e));
    }
    setBusy(false);
  };
  return (
    <>
      <form class="onboarding-form" onSubmit={submit}>
        <label>
          {m('sourceTitle')}
          <input
            name="source-title"
            required
            maxLength={500}
            value={title}
            onInput={(e) => setTitle(e.currentTarget.value)}
          />
        </label>
        <label>
          {m('sourceText')}
          <textarea
            name="source-text"
            required
            rows={6}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button class="primary" type="submit" disabled={busy} data-admin="add-source">
          {busy ? m('adding') : m('addSource')}
        </button>
        {error && (
          <p class="error" role="alert">
            {m('sourceFailed', { reason: error })}
          </p>
        )}
      </form>
      <p class="muted">{m('or')}</p>
      <FileSource tenantId={tenantId} onAdded={() => void load()} />
      <SiteSource
        tenantId={tenantId}
        onAdded={() => {
          setCrawling(true);
          void load();
        }}
      />
      {sources.length > 0 && (
        <>
          <h3>{m('sources')}</h3>
          <ul class="onboarding-sources" data-admin="sources">
            {sources.map((s) => (
              <li key={s.id} data-status={s.status}>
                {s.title} — {m(`status_${s.status}` as const)}
              </li>
            ))}
          </ul>
        </>
      )}
      <p>
        <a href={href(tenantId, 'knowledge')}>{m('moreSources')}</a>
      </p>
    </>
  );
}

function FileSource({ tenantId, onAdded }: { tenantId: string; onAdded(): void }) {
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    if (!typeOf(file.name) || file.size > MAX_FILE_BYTES) {
      setError(m('badFile'));
      return;
    }
    setError(null);
    setProgress(0);
    try {
      await uploadDocument(tenantId, file, setProgress);
      setFile(null);
      (event.target as HTMLFormElement).reset();
      onAdded();
    } catch (e) {
      setError(m('sourceFailed', { reason: problem(e) }));
    }
    setProgress(null);
  };
  return (
    <form class="onboarding-form" onSubmit={submit}>
      <label>
        {m('file')}
        <input
          name="source-file"
          type="file"
          accept={ACCEPT}
          required
          onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
        />
      </label>
      {progress !== null && <progress value={progress} max={1} aria-label={m('uploading')} />}
      <button type="submit" disabled={progress !== null} data-admin="upload-source">
        {progress !== null ? m('uploading') : m('upload')}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function SiteSource({ tenantId, onAdded }: { tenantId: string; onAdded(): void }) {
  const [url, setUrl] = useState('');
  const [feedback, setFeedback] = useState<Feedback>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setFeedback(null);
    try {
      await addCrawl(tenantId, { kind: 'site', url: url.trim(), resync: 'off' });
      setFeedback({ ok: true, text: m('crawlStarted', { url: url.trim() }) });
      onAdded();
    } catch (e) {
      setFeedback({ ok: false, text: m('sourceFailed', { reason: problem(e) }) });
    }
  };
  return (
    <form class="onboarding-form" onSubmit={submit}>
      <label>
        {m('site')}
        <input
          name="source-url"
          type="url"
          required
          placeholder="https://"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
        />
      </label>
      <button type="submit" data-admin="crawl-source">
        {m('crawl')}
      </button>
      <Said feedback={feedback} name="crawl-feedback" />
    </form>
  );
}

function Install({
  tenantId,
  settings,
  onSaved,
}: {
  tenantId: string;
  settings: BotSettings;
  onSaved(): void;
}) {
  const [text, setText] = useState(settings.allowed_origins.join('\n'));
  const [feedback, setFeedback] = useState<Feedback>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setFeedback(null);
    try {
      await saveTenant(tenantId, { allowed_origins: originLines(text) });
      setFeedback({ ok: true, text: t('saved') });
      onSaved();
    } catch (e) {
      setFeedback({ ok: false, text: m('failed', { reason: problem(e) }) });
    }
  };
  return (
    <>
      <form class="onboarding-form" onSubmit={submit}>
        <label>
          {m('origins')}
          <textarea
            name="allowed-origins"
            rows={2}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit" data-admin="save-origins">
          {m('saveOrigins')}
        </button>
        <Said feedback={feedback} name="origins-feedback" />
      </form>
      <Copyable
        copy={t('copy')}
        copied={t('copied')}
        label={m('snippet')}
        value={embedSnippet(settings.widget_key)}
        name="snippet"
        multiline
      />
    </>
  );
}

function LiveCheck({ tenantId }: { tenantId: string }) {
  const [loads, setLoads] = useState<WidgetLoad[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const live = loads?.find((l) => l.allowed);
  const isLive = !!live;
  // Watched until it is live; a failed read is retried on the next tick.
  useEffect(() => {
    if (isLive) return;
    let current = true;
    const check = () =>
      widgetLoads(tenantId).then(
        (rows) => {
          if (!current) return;
          setLoads(rows);
          setError(null);
        },
        (e) => current && setError(problem(e)),
      );
    void check();
    const timer = setInterval(() => void check(), POLL_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [tenantId, isLive]);
  const refused = loads?.find((l) => !l.allowed);
  return (
    <div
      aria-live="polite"
      class="live-check"
      data-admin="live-check"
      data-live={live ? 'true' : 'false'}
    >
      {live ? (
        <p class="live ok">
          <span aria-hidden="true">●</span>{' '}
          {m('live', {
            origin: live.origin,
            time: new Date(live.last_seen_at).toLocaleTimeString(),
          })}
        </p>
      ) : refused ? (
        <p class="note">{m('refused', { origin: refused.origin })}</p>
      ) : (
        <p class="muted">{m('waiting')}</p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export default function OnboardingPage({ tenantId }: PageProps) {
  const [settings, setSettings] = useState<BotSettings | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const reload = () => loadBotSettings(tenantId).then(setSettings, (e) => setFailed(problem(e)));
  useEffect(() => {
    if (tenantId) void reload();
  }, [tenantId]);

  return (
    <div class="onboarding">
      <h1>{m('title')}</h1>
      <p class="muted">{m('intro')}</p>
      <Step id="workspace" title={m('step1')} done={!!tenantId}>
        {tenantId ? (
          settings && <p>{m('workspaceReady', { name: settings.name })}</p>
        ) : (
          <CreateWorkspace />
        )}
      </Step>
      {failed && (
        <p class="error" role="alert">
          {m('loadFailed', { reason: failed })}
        </p>
      )}
      {tenantId && settings && (
        <>
          <Step id="voice" title={m('step2')} done={!!settings.bot_config.tone}>
            <Voice tenantId={tenantId} settings={settings} onSaved={() => void reload()} />
          </Step>
          <Step id="source" title={m('step3')}>
            <FirstSource tenantId={tenantId} />
          </Step>
          <Step id="install" title={m('step4')} done={settings.allowed_origins.length > 0}>
            <Install tenantId={tenantId} settings={settings} onSaved={() => void reload()} />
          </Step>
          <Step id="live" title={m('step5')}>
            <LiveCheck tenantId={tenantId} />
          </Step>
          <nav class="onboarding-next" aria-label={m('next')}>
            <a
              class="button primary"
              href={href(tenantId, 'playground')}
              data-admin="to-playground"
            >
              {m('playground')}
            </a>
            <a class="button" href={href(tenantId, 'settings')}>
              {m('settings')}
            </a>
          </nav>
        </>
      )}
    </div>
  );
}
