import { useLayoutEffect, useRef } from 'preact/hooks';
import { markdown } from '../../shared/markdown.ts';
import type { Chat } from '../chat.ts';
import { textDirection } from '../direction.ts';
import type { Strings } from '../i18n.ts';
import { Csat } from './csat.tsx';
import { MessageItem } from './message-item.tsx';

interface Props {
  chat: Chat;
  t: Strings;
  uiDir: 'ltr' | 'rtl';
  greeting: string | null;
}

/** The message log: greeting, messages, the reply being written, and the closing survey. */
export function Conversation({ chat, t, uiDir, greeting }: Props) {
  const { state, actions } = chat;
  const log = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const messages = state.messages.value;
  const conversation = state.conversation.value;
  const partial = state.partial.value;
  const typing = state.typing.value;
  const locale = state.locale.value;
  const resolved = conversation?.status === 'resolved';
  const last = messages[messages.length - 1];
  const quickReplies =
    last && (last.role === 'assistant' || last.role === 'agent') && !resolved
      ? (last.quick_replies ?? [])
      : messages.length === 0 && !chat.prechatFields.value
        ? (state.config.value?.quick_starts ?? [])
        : [];

  // Follow new messages unless the visitor scrolled up to read.
  useLayoutEffect(() => {
    const el = log.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  });

  return (
    <div
      ref={log}
      class="log"
      data-parley="log"
      role="log"
      aria-live="polite"
      aria-label={t.messages}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
      tabIndex={0}
      onScroll={(event) => {
        const el = event.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {greeting && (
        <div class="greeting" data-parley="greeting" dir={textDirection(greeting, uiDir)}>
          <div class="bubble">{markdown(greeting)}</div>
        </div>
      )}
      {messages.map((message) => (
        <MessageItem
          key={message.client_msg_id ?? message.id}
          message={message}
          t={t}
          locale={locale}
          uiDir={uiDir}
          onRate={actions.rate}
          onRetry={actions.retry}
        />
      ))}
      {partial ? (
        <div
          class="msg"
          data-parley="partial"
          dir={textDirection(partial, uiDir)}
          aria-hidden="true"
        >
          <div class="bubble">{markdown(partial)}</div>
        </div>
      ) : (
        typing !== null && (
          <div
            class="typing"
            data-parley="typing"
            role="status"
            aria-label={`${typing || state.config.value?.name || ''} ${t.typing}`.trim()}
          >
            <i />
            <i />
            <i />
          </div>
        )
      )}
      {quickReplies.length > 0 && (
        <div class="chips">
          {quickReplies.map((reply) => (
            <button
              key={reply}
              type="button"
              class="chip"
              data-parley="quick-reply"
              onClick={() => actions.send(reply)}
            >
              {reply}
            </button>
          ))}
        </div>
      )}
      {resolved && (
        <Csat t={t} rated={state.rated.value === conversation?.id} onRate={actions.csat} />
      )}
    </div>
  );
}
