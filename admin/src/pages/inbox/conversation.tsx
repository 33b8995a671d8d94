import { useSignal } from '@preact/signals';
import { useEffect, useMemo, useRef } from 'preact/hooks';
import { cannedResponses, expandShortcut, loadCannedResponses } from '../../data/canned.ts';
import { problem } from '../../data/client.ts';
import {
  type Action,
  type ConversationView,
  createConversationView,
} from '../../data/conversation.ts';
import { session } from '../../data/session.ts';
import { currentMembership, team } from '../../data/tenants.ts';
import { t } from '../../i18n/index.ts';
import { memberName, visitorName } from '../../ui/names.ts';
import { useShortcut } from '../../ui/shortcuts.ts';
import { CopilotPanel } from './copilot.tsx';
import { VisitorDetails } from './details.tsx';
import { TranscriptMessage } from './message.tsx';
import { VisitorReceipt } from './receipt.tsx';
import type { RichOutcome } from './rich-composer.tsx';
import { RichComposer } from './rich-composer.tsx';
import { StatusBadge } from './status.tsx';

export function EmptyPane() {
  return (
    <section class="conversation empty-pane" aria-label={t('transcript')}>
      <p class="empty">{t('pickConversation')}</p>
    </section>
  );
}

interface Props {
  tenantId: string;
  conversationId: string;
  onRead: () => void;
}

export function ConversationPane({ tenantId, conversationId, onRead }: Props) {
  const view = useMemo(
    () => createConversationView(tenantId, conversationId, onRead),
    // onRead changes identity on every render of the page; the view needs the first one only.
    [tenantId, conversationId],
  );
  useEffect(() => () => view.dispose(), [view]);
  useEffect(() => {
    void loadCannedResponses(tenantId);
  }, [tenantId]);
  const failure = useSignal<string | null>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const mode = useSignal<'reply' | 'note'>('reply');

  const run = async (work: () => Promise<void>) => {
    failure.value = null;
    try {
      await work();
    } catch (e) {
      failure.value = problem(e);
    }
  };
  const act = (action: Action) => run(() => view.act(action));
  const c = view.conversation.value;

  useShortcut('r', 'keyReply', () => {
    mode.value = 'reply';
    composer.current?.focus();
  });
  useShortcut('n', 'keyNote', () => {
    mode.value = 'note';
    composer.current?.focus();
  });
  useShortcut('t', 'keyTakeOver', () => {
    if (c && !(c.status === 'open' && c.assignee_id === session.value?.user.id))
      void act('take_over');
  });
  useShortcut('e', 'keyResolve', () => {
    if (c && c.status !== 'resolved') void act('resolve');
  });

  if (view.error.value && !c) {
    return (
      <section class="conversation" aria-label={t('transcript')}>
        <p class="error" role="alert">
          {t('actionFailed', { message: view.error.value })}
        </p>
      </section>
    );
  }
  if (!c) {
    return (
      <section class="conversation" aria-busy="true" aria-label={t('transcript')}>
        <p class="empty">{t('loading')}</p>
      </section>
    );
  }
  const contact = view.contact.value;
  const title = visitorName({
    id: c.id,
    contact_name: contact?.name,
    contact_email: contact?.email,
  });
  const me = session.value?.user.id;
  const mineAndOpen = c.status === 'open' && c.assignee_id === me;
  // Operators read every tenant's inbox; working a conversation is for the tenant's own staff.
  const staff = currentMembership.value?.role !== 'platform';

  return (
    <div class="conversation-wrap">
      <section class="conversation" aria-labelledby="conversation-title" data-admin="conversation">
        <header class="conversation-header">
          <h2 id="conversation-title" dir="auto">
            {title}
          </h2>
          <StatusBadge status={c.status} />
          {staff && (
            <div class="actions">
              <label>
                <span class="visually-hidden">{t('assignee')}</span>
                <select
                  value={c.assignee_id ?? ''}
                  onChange={(e) => {
                    const value = (e.currentTarget as HTMLSelectElement).value;
                    void run(() => view.assign(value || null));
                  }}
                  data-admin="assignee"
                >
                  <option value="">{t('unassigned')}</option>
                  {team.value.map((m) => (
                    <option key={m.user_id} value={m.user_id}>
                      {memberName(m.user_id)}
                    </option>
                  ))}
                </select>
              </label>
              {!mineAndOpen && c.status !== 'resolved' && (
                <button
                  type="button"
                  class="primary"
                  onClick={() => void act('take_over')}
                  data-admin="take-over"
                >
                  {t('takeOver')}
                </button>
              )}
              {c.status !== 'bot' && c.status !== 'resolved' && (
                <button type="button" onClick={() => void act('hand_back')} data-admin="hand-back">
                  {t('handBack')}
                </button>
              )}
              {c.status === 'resolved' ? (
                <button type="button" onClick={() => void act('reopen')} data-admin="reopen">
                  {t('reopen')}
                </button>
              ) : (
                <button type="button" onClick={() => void act('resolve')} data-admin="resolve">
                  {t('resolve')}
                </button>
              )}
            </div>
          )}
        </header>
        {failure.value && (
          <p class="error" role="alert">
            {t('actionFailed', { message: failure.value })}
          </p>
        )}
        <Transcript view={view} />
        {staff && (
          <CopilotPanel
            view={view}
            onUse={(text) => {
              // Into the reply box, to be read, edited and sent by the person: never sent from here.
              mode.value = 'reply';
              const el = composer.current;
              if (!el) return;
              el.value = text;
              el.focus();
              el.setSelectionRange(text.length, text.length);
            }}
          />
        )}
        {staff && (
          <Composer
            view={view}
            mode={mode}
            textarea={composer}
            onError={(m) => (failure.value = m)}
          />
        )}
      </section>
      <VisitorDetails view={view} />
    </div>
  );
}

function Transcript({ view }: { view: ConversationView }) {
  const list = useRef<HTMLOListElement>(null);
  const messages = view.messages.value;
  // Follow the conversation as it grows, unless someone scrolled up to read.
  useEffect(() => {
    const el = list.current;
    if (!el) return;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 160;
    if (nearBottom || messages.length <= 1) el.scrollTop = el.scrollHeight;
  }, [messages.length]);
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, []);
  const typing = view.typing.value;
  return (
    <>
      <ol
        class="transcript"
        ref={list}
        aria-label={t('transcript')}
        data-admin="transcript"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the transcript scrolls; keyboard users need to reach it
        tabIndex={0}
      >
        {messages.map((m) => (
          <TranscriptMessage
            key={m.id}
            message={m}
            grounding={view.groundings.value[m.id]}
            tools={view.tools.value[m.id]}
          />
        ))}
      </ol>
      <VisitorReceipt view={view} />
      <p class="typing" aria-live="polite" data-admin="typing">
        {typing === 'visitor' ? t('typingVisitor') : typing === 'bot' ? t('typingBot') : ''}
      </p>
    </>
  );
}

interface ComposerProps {
  view: ConversationView;
  mode: { value: 'reply' | 'note' };
  textarea: { current: HTMLTextAreaElement | null };
  onError: (message: string) => void;
}

function Composer({ view, mode, textarea, onError }: ComposerProps) {
  const busy = useSignal(false);
  // Buttons and a card go with a reply only, never with a note.
  const richOpen = useSignal(false);
  const rich = useSignal<RichOutcome>({ rich: null, error: null });
  const note = mode.value === 'note';
  const withRich = !note && richOpen.value;
  const submit = async () => {
    const el = textarea.current;
    const content = el?.value.trim() ?? '';
    if (!el || !content || busy.value) return;
    if (withRich && rich.value.error) {
      onError(rich.value.error);
      return;
    }
    busy.value = true;
    try {
      await view.send(content, note, withRich ? rich.value.rich : null);
      el.value = '';
      richOpen.value = false;
      rich.value = { rich: null, error: null };
    } catch (e) {
      onError(problem(e));
    } finally {
      busy.value = false;
      el.focus();
    }
  };
  return (
    <form
      class={`composer${note ? ' composer-note' : ''}`}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      data-admin="composer"
    >
      <fieldset class="composer-modes">
        <legend class="visually-hidden">{t('reply')}</legend>
        <button
          type="button"
          class="chip"
          aria-pressed={!note}
          onClick={() => (mode.value = 'reply')}
          data-admin="mode-reply"
        >
          {t('reply')}
        </button>
        <button
          type="button"
          class="chip"
          aria-pressed={note}
          onClick={() => (mode.value = 'note')}
          data-admin="mode-note"
        >
          {t('note')}
        </button>
      </fieldset>
      <label>
        <span class="visually-hidden">{note ? t('notePlaceholder') : t('replyPlaceholder')}</span>
        <textarea
          ref={textarea}
          rows={3}
          dir="auto"
          maxLength={20000}
          placeholder={note ? t('notePlaceholder') : t('replyPlaceholder')}
          onInput={() => (note ? view.stopTyping() : view.typingReply())}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void submit();
            } else if (e.key === 'Tab' && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey) {
              // Tab expands a /shortcut before the caret; anywhere else it moves focus as usual.
              const el = e.currentTarget;
              const next = expandShortcut(el.value, el.selectionStart, cannedResponses.value);
              if (!next) return;
              e.preventDefault();
              el.value = next.text;
              el.setSelectionRange(next.caret, next.caret);
              if (!note) view.typingReply();
            } else if (e.key === 'Escape') {
              // Back to the list, on the conversation being worked.
              document
                .querySelector<HTMLElement>('[data-conversation][aria-current="page"]')
                ?.focus();
            }
          }}
          data-admin="input"
        />
      </label>
      {withRich && <RichComposer outcome={rich} />}
      <div class="composer-bar">
        {!note && (
          <button
            type="button"
            class="chip"
            aria-expanded={richOpen.value}
            onClick={() => {
              // The composer starts empty each time it opens: nothing hidden goes out.
              richOpen.value = !richOpen.value;
              rich.value = { rich: null, error: null };
            }}
            data-admin="rich-toggle"
          >
            {t('richOpen')}
          </button>
        )}
        <span class="muted">{t('sendHint')}</span>
        <button type="submit" class="primary" disabled={busy.value} data-admin="send">
          {note ? t('addNote') : t('send')}
        </button>
      </div>
    </form>
  );
}
