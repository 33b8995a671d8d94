import { type FunctionComponent, h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { markdown } from '../../shared/markdown.ts';
import { imageUrl } from '../../shared/safe-url.ts';
import type { Host } from '../../shared/types.ts';
import type { Chat } from '../chat.ts';
import { isRtlLocale } from '../i18n.ts';
import type { TeamMember } from '../types.ts';
import { Composer } from './composer.tsx';
import { Conversation } from './conversation.tsx';
import { openTranscript } from './extras.tsx';
import { trapTab } from './focus.ts';
import type { HistoryProps } from './history.ts';
import { CloseIcon, NewIcon } from './icons.tsx';
import { prechatPart } from './parts.ts';

export function Window({ chat, host }: { chat: Chat; host: Host }) {
  const { state, actions } = chat;
  const dialog = useRef<HTMLDivElement>(null);
  const open = state.open.value;
  const locale = state.locale.value;
  const t = state.strings.value;
  const uiDir = isRtlLocale(locale) ? 'rtl' : 'ltr';
  const config = state.config.value;
  const name = config?.name || t.title;
  const status = state.conversation.value?.status;
  const resolved = status === 'resolved';
  const connection = state.connection.value;
  // Derived from the status, so a request made before a reload still shows.
  const notice = state.notice.value ?? (status === 'handoff' ? 'handoffRequested' : null);
  // Whoever of the team wrote last is who the visitor is talking to now.
  const agent =
    status === 'open'
      ? state.messages.value.findLast((m) => m.role === 'agent' && m.author?.name)?.author
      : null;
  const avatar = imageUrl(agent ? agent.avatar_url : config?.avatar_url);
  const prechat = chat.prechatFields.value;
  const Prechat = prechatPart.part.value;
  if (prechat && !Prechat) void prechatPart.preload();
  // A window that would open on a form still on its way waits for it rather than showing a
  // composer that then gives way (the app preloads it with the configuration, so this is rare).
  const waiting = !!prechat && !Prechat && !prechatPart.failed.value;
  const refused = notice === 'identityRequired' || notice === 'unavailable';
  const [confirming, setConfirming] = useState(false);
  const [Past, setPast] = useState<FunctionComponent<HistoryProps> | null>(null);
  const team = (config?.team ?? [])
    .map((m: TeamMember) => ({ ...m, src: imageUrl(m.avatar_url) }))
    .filter((m) => m.src);
  const started = state.messages.value.some((m) => m.role === 'user');

  // Also when the form gives way to the composer, so keyboard users are not dropped on the page.
  // On touch screens focusing a field pops the keyboard over the conversation, so focus goes to
  // the dialog itself there.
  useEffect(() => {
    if (!open || !dialog.current) return;
    const field = dialog.current.querySelector<HTMLElement>(
      'input:not([disabled]):not([hidden]),textarea:not([disabled])',
    );
    if (field && !matchMedia('(pointer: coarse)').matches) field.focus();
    else dialog.current.focus();
  }, [open && !waiting, !!prechat]);

  // The full-screen phone view would otherwise scroll the page underneath it.
  useEffect(() => {
    if (!open || !matchMedia('(max-width: 480px)').matches) return;
    const html = document.documentElement;
    const had = html.hasAttribute('style');
    const value = html.style.getPropertyValue('overflow');
    const priority = html.style.getPropertyPriority('overflow');
    html.style.setProperty('overflow', 'hidden', 'important');
    return () => {
      // Only our one property goes back; whatever else the page set meanwhile stays.
      if (value) html.style.setProperty('overflow', value, priority);
      else html.style.removeProperty('overflow');
      if (!had && !html.getAttribute('style')) html.removeAttribute('style');
    };
  }, [open]);

  const startNew = () => {
    setConfirming(false);
    void actions.newConversation();
  };

  return (
    <div
      ref={dialog}
      class="window"
      data-parley="window"
      role="dialog"
      tabIndex={-1}
      aria-label={name}
      hidden={!open || waiting}
      dir={uiDir}
      lang={locale}
      style={config?.font ? { '--p-font': config.font } : undefined}
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          host.close();
        } else if (dialog.current) trapTab(event, dialog.current);
      }}
    >
      <div class="head">
        {team.length > 0 && !agent ? (
          <span class="team" data-parley="team">
            {team.map((m) => (
              <img key={m.src} src={m.src} alt={m.name} title={m.name} />
            ))}
          </span>
        ) : (
          avatar && <img src={avatar} alt="" />
        )}
        <div class="who">
          <h2 data-parley="title">{agent?.name || name}</h2>
          {/* Trouble is news; a connection being set up, or working, is not. */}
          <p class="status" data-parley="status" data-state={connection}>
            {connection === 'offline' ? t.offline : config?.reply_time || null}
          </p>
        </div>
        <button
          type="button"
          class="icon"
          data-parley="new-conversation"
          aria-label={t.newConversation}
          title={t.newConversation}
          aria-expanded={confirming}
          // Nothing is lost by starting over before the visitor wrote anything.
          onClick={() => (started && !resolved ? setConfirming(!confirming) : startNew())}
        >
          <NewIcon />
        </button>
        <button
          type="button"
          class="icon"
          data-parley="close"
          aria-label={t.close}
          title={t.close}
          onClick={() => host.close()}
        >
          <CloseIcon />
        </button>
      </div>
      {confirming && (
        <div class="confirm" data-parley="confirm-new">
          <p>{t.confirmNew}</p>
          <button type="button" class="go" data-parley="confirm-new-yes" onClick={startNew}>
            {t.confirmYes}
          </button>
          <button type="button" data-parley="confirm-new-no" onClick={() => setConfirming(false)}>
            {t.cancel}
          </button>
        </div>
      )}
      {Past ? (
        <Past chat={chat} onClose={() => setPast(null)} />
      ) : (
        <Conversation
          chat={chat}
          t={t}
          uiDir={uiDir}
          greeting={host.options.greeting || config?.greeting || null}
        />
      )}
      {notice && (
        <p class="notice" role="status" data-parley="notice">
          {t[notice as 'error' | 'handoffRequested' | 'identityRequired' | 'unavailable'] ??
            t.error}
        </p>
      )}
      {prechat ? (
        Prechat && (
          <Prechat t={t} locale={locale} fields={prechat} onSubmit={actions.submitPrechat} />
        )
      ) : refused ? null : resolved ? (
        <p class="notice">
          {t.resolved}{' '}
          <button type="button" class="link" onClick={() => void actions.newConversation()}>
            {t.newConversation}
          </button>
        </p>
      ) : (
        status !== 'handoff' && (
          <div class="actions">
            <button
              type="button"
              class="link"
              data-parley="human"
              onClick={() => void actions.handoff()}
            >
              {t.human}
            </button>
            <button
              type="button"
              class="link"
              data-parley="history"
              onClick={() =>
                import('./history.ts')
                  .then((m) => setPast(() => m.createHistory(h, useState, useEffect, markdown)))
                  .catch(() => {
                    state.notice.value = 'error';
                  })
              }
            >
              {t.history}
            </button>
            <button
              type="button"
              class="link"
              data-parley="transcript-button"
              onClick={(event) => void openTranscript(event.currentTarget)}
            >
              {t.transcript}
            </button>
          </div>
        )
      )}
      {/* A resolved conversation still takes the visitor's message: it reopens for a person. */}
      {!prechat && (
        <Composer t={t} disabled={refused} onSend={actions.send} onTyping={actions.typing} />
      )}
    </div>
  );
}
