import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { ConversationView } from '../../data/conversation.ts';
import { createCopilot, type Pending } from '../../data/copilot.ts';
import { session } from '../../data/session.ts';
import { locale } from '../../i18n/index.ts';
import { m } from './lazy-messages.ts';

function Failure({ pending }: { pending: Pending<unknown> }) {
  if (pending.state !== 'failed') return null;
  return (
    <p class="error" role="alert">
      {pending.code === 'llm_not_configured'
        ? m('noModel')
        : m('failed', { message: pending.message })}
    </p>
  );
}

/**
 * Copilot beside the composer: a drafted reply the agent puts in the reply box to edit and send
 * (it is never sent from here), and a summary of the conversation, asked for by hand or on its own
 * when the conversation comes to a person.
 */
export function CopilotPanel({
  view,
  onUse,
}: {
  view: ConversationView;
  onUse: (text: string) => void;
}) {
  const c = view.conversation.value;
  const id = c?.id ?? '';
  const copilot = useMemo(() => createCopilot(id), [id]);
  const size = view.messages.value.length;
  const summarize = (reuse: boolean) => void copilot.summarize(locale.value, size, reuse);

  // Handing over: waiting for a person, or just taken over from the bot by this person.
  const previous = useRef(c?.status);
  const status = c?.status;
  const me = session.value?.user.id;
  useEffect(() => {
    const before = previous.current;
    previous.current = status;
    const tookOver = status === 'open' && c?.assignee_id === me && before !== 'open';
    if ((status === 'handoff' || tookOver) && size > 0) summarize(true);
    // Only a change of status asks; the transcript growing does not.
  }, [status, size > 0]);

  if (!c) return null;
  const suggestion = copilot.suggestion.value;
  const summary = copilot.summary.value;
  return (
    <section class="copilot" aria-labelledby="copilot-title" data-admin="copilot">
      <div class="copilot-bar">
        <h3 id="copilot-title">{m('copilot')}</h3>
        <button
          type="button"
          class="chip"
          onClick={() => void copilot.suggest()}
          disabled={suggestion.state === 'busy'}
          data-admin="copilot-suggest"
        >
          {m('suggest')}
        </button>
        <button
          type="button"
          class="chip"
          onClick={() => summarize(false)}
          disabled={summary.state === 'busy'}
          data-admin="copilot-summarize"
        >
          {m('summarize')}
        </button>
      </div>
      <p class="muted" aria-live="polite">
        {suggestion.state === 'busy' ? m('drafting') : ''}
        {summary.state === 'busy' ? m('summarizing') : ''}
      </p>
      <Failure pending={suggestion} />
      {suggestion.state === 'done' && (
        <div class="copilot-result" data-admin="copilot-suggestion">
          <h4>{m('suggestionTitle')}</h4>
          <p class="copilot-text" dir="auto">
            {suggestion.value.content}
          </p>
          {suggestion.value.sources.length > 0 && (
            <p class="muted" dir="auto">
              {m('sources', { titles: suggestion.value.sources.map((s) => s.title).join(', ') })}
            </p>
          )}
          <div class="copilot-bar">
            <button
              type="button"
              class="primary"
              onClick={() => {
                if (suggestion.state === 'done') onUse(suggestion.value.content);
                copilot.discard();
              }}
              data-admin="copilot-use"
            >
              {m('use')}
            </button>
            <button type="button" onClick={() => copilot.discard()}>
              {m('discard')}
            </button>
          </div>
        </div>
      )}
      <Failure pending={summary} />
      {summary.state === 'done' && (
        <div class="copilot-result" data-admin="copilot-summary">
          <h4>{m('summaryTitle')}</h4>
          <p class="copilot-text" dir="auto">
            {summary.value}
          </p>
        </div>
      )}
    </section>
  );
}
