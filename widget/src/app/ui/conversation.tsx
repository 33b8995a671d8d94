import { useLayoutEffect, useRef } from 'preact/hooks';
import { markdown } from '../../shared/markdown.ts';
import type { Chat } from '../chat.ts';
import { textDirection } from '../direction.ts';
import type { Strings } from '../i18n.ts';
import { Isolate } from './isolate.tsx';
import { MessageItem } from './message-item.tsx';
import { csatPart } from './parts.ts';

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
  // The survey is fetched once a person has the conversation (they are who resolves it), or
  // when it is resolved without one.
  const Csat = csatPart.part.value;
  if (conversation && conversation.status !== 'bot' && !Csat) void csatPart.preload();
  const last = messages[messages.length - 1];
  // Once a person was asked for, the bot's suggestions would only talk over them.
  const botless = resolved || conversation?.status === 'handoff';
  const quickReplies =
    last && (last.role === 'assistant' || last.role === 'agent') && !botless
      ? (last.quick_replies ?? [])
      : messages.length === 0 && !chat.prechatFields.value
        ? (state.config.value?.quick_starts ?? [])
        : [];

  const open = state.open.value;
  const first = messages[0];
  const firstKey = first ? (first.client_msg_id ?? first.id) : undefined;
  const before = useRef<{ first?: string | null; height: number }>({ height: 0 });

  useLayoutEffect(() => {
    if (open) stick.current = true;
  }, [open]);
  // Follow new messages unless the visitor scrolled up to read. A hidden log has no height, so
  // what loaded while closed is followed once the window shows; older messages arriving above
  // keep what the visitor was reading where it was (done here, not by the browser's scroll
  // anchoring, which Safari lacks).
  useLayoutEffect(() => {
    const el = log.current;
    if (!el || !open) return;
    const previous = before.current;
    if (stick.current) el.scrollTop = el.scrollHeight;
    else if (previous.first !== firstKey && previous.height)
      el.scrollTop += el.scrollHeight - previous.height;
    before.current = { first: firstKey, height: el.scrollHeight };
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
        if (!el.clientHeight) return;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        before.current.height = el.scrollHeight;
      }}
    >
      {greeting && (
        <Isolate>
          <div class="greeting" data-parley="greeting" dir={textDirection(greeting, uiDir)}>
            <div class="bubble">{markdown(greeting)}</div>
          </div>
        </Isolate>
      )}
      {messages.map((message) => (
        <Isolate key={message.client_msg_id ?? message.id}>
          <MessageItem
            message={message}
            t={t}
            locale={locale}
            uiDir={uiDir}
            onRate={actions.rate}
            onRetry={actions.retry}
            onSend={actions.send}
          />
        </Isolate>
      ))}
      {last?.role === 'user' &&
        state.seen.value &&
        Date.parse(last.created_at) <= Date.parse(state.seen.value) && (
          <p class="seen" data-parley="seen">
            {t.seen}
          </p>
        )}
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
              dir={textDirection(reply, uiDir)}
              // The bot offers a person in the visitor's words; asking the bot for one would only loop.
              onClick={() => (reply === t.human ? actions.handoff() : actions.send(reply))}
            >
              {reply}
            </button>
          ))}
        </div>
      )}
      {resolved && Csat && (
        <Csat t={t} rated={state.rated.value === conversation?.id} onRate={actions.csat} />
      )}
    </div>
  );
}
