import type { ConversationView } from '../../data/conversation.ts';
import { formatTime } from '../../i18n/index.ts';
import { live } from './live-messages.ts';

/** "Seen" once the visitor's widget has shown the last reply staff wrote (what it reports). */
export function VisitorReceipt({ view }: { view: ConversationView }) {
  const readAt = view.conversation.value?.visitor_read_at;
  const last = [...view.messages.value].reverse().find((m) => !m.is_private && m.role === 'agent');
  if (!readAt || !last || Date.parse(last.created_at) > Date.parse(readAt)) return null;
  return (
    <p class="receipt muted" data-admin="seen">
      {live('seen')} <time dateTime={readAt}>{formatTime(readAt)}</time>
    </p>
  );
}

const REASONS: Record<string, Parameters<typeof live>[0]> = {
  visitor: 'reasonVisitor',
  bot: 'reasonBot',
  keyword: 'reasonKeyword',
  low_confidence: 'reasonLowConfidence',
  repeated_question: 'reasonRepeatedQuestion',
  flow: 'reasonFlow',
  people_only: 'reasonPeopleOnly',
};

/** Why a person was asked for, and the address the visitor left when nobody was there. */
export function HandoffFacts({ view }: { view: ConversationView }) {
  const c = view.conversation.value;
  if (!c || (!c.handoff_reason && !c.followup_requested_at && !c.followup_email)) return null;
  const reason = c.handoff_reason ? REASONS[c.handoff_reason] : undefined;
  return (
    <dl data-admin="handoff">
      {c.handoff_reason && (
        <>
          <dt>{live('handoffReason')}</dt>
          <dd dir="auto" data-admin="handoff-reason" data-reason={c.handoff_reason}>
            {reason ? live(reason) : c.handoff_reason}
            {c.handoff_detail ? `: ${c.handoff_detail}` : ''}
          </dd>
        </>
      )}
      {(c.followup_requested_at || c.followup_email) && (
        <>
          <dt>{live('followupEmail')}</dt>
          <dd dir="auto" data-admin="followup-email">
            {c.followup_email ? (
              <a href={`mailto:${encodeURIComponent(c.followup_email).replace('%40', '@')}`}>
                {c.followup_email}
              </a>
            ) : (
              live('followupWaiting')
            )}
          </dd>
        </>
      )}
    </dl>
  );
}
