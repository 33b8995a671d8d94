import { useEffect, useRef } from 'preact/hooks';
import { imageUrl } from '../../shared/safe-url.ts';
import type { Host } from '../../shared/types.ts';
import type { Chat } from '../chat.ts';
import { isRtlLocale, stringsFor } from '../i18n.ts';
import { Composer } from './composer.tsx';
import { Conversation } from './conversation.tsx';
import { trapTab } from './focus.ts';
import { CloseIcon, NewIcon } from './icons.tsx';
import { Prechat } from './prechat.tsx';

export function Window({ chat, host }: { chat: Chat; host: Host }) {
  const { state, actions } = chat;
  const dialog = useRef<HTMLDivElement>(null);
  const open = state.open.value;
  const locale = state.locale.value;
  const t = stringsFor(locale);
  const uiDir = isRtlLocale(locale) ? 'rtl' : 'ltr';
  const config = state.config.value;
  const name = config?.name || t.title;
  const status = state.conversation.value?.status;
  const resolved = status === 'resolved';
  const connection = state.connection.value;
  const notice = state.notice.value;
  const avatar = imageUrl(config?.avatar_url);
  const prechat = chat.prechatFields.value;
  const refused = notice === 'identityRequired';

  // Also when the form gives way to the composer, so keyboard users are not dropped on the page.
  useEffect(() => {
    if (open)
      dialog.current
        ?.querySelector<HTMLElement>('input:not([disabled]),textarea:not([disabled])')
        ?.focus();
  }, [open, !!prechat]);

  return (
    <div
      ref={dialog}
      class="window"
      data-parley="window"
      role="dialog"
      aria-label={name}
      hidden={!open}
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
        {avatar && <img src={avatar} alt="" />}
        <div class="who">
          <h2>{name}</h2>
          <p
            class="status"
            data-parley="status"
            data-state={connection === 'online' ? 'online' : 'offline'}
          >
            {t[connection]}
          </p>
        </div>
        <button
          type="button"
          class="icon"
          data-parley="new-conversation"
          aria-label={t.newConversation}
          title={t.newConversation}
          onClick={() => void actions.newConversation()}
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
      <Conversation
        chat={chat}
        t={t}
        uiDir={uiDir}
        greeting={host.options.greeting || config?.greeting || null}
      />
      {notice && (
        <p class="notice" role="status" data-parley="notice">
          {t[notice as 'error' | 'handoffRequested' | 'identityRequired'] ?? t.error}
        </p>
      )}
      {prechat ? (
        <Prechat t={t} locale={locale} fields={prechat} onSubmit={actions.submitPrechat} />
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
          </div>
        )
      )}
      {!prechat && <Composer t={t} disabled={resolved || refused} onSend={actions.send} />}
    </div>
  );
}
