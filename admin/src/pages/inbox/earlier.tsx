import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import type { ConversationDetail } from '../../data/conversation.ts';
import { type EarlierConversation, earlierConversations } from '../../data/history.ts';
import { formatTime, t } from '../../i18n/index.ts';
import { href } from '../../router.ts';
import { m } from './lazy-messages.ts';
import { StatusBadge } from './status.tsx';

/** The same visitor's other conversations, newest first, each a link into the inbox. */
export function EarlierConversations({ conversation }: { conversation: ConversationDetail }) {
  const rows = useSignal<EarlierConversation[] | null>(null);
  const failure = useSignal<string | null>(null);
  const { id, tenant_id, contact_id } = conversation;
  useEffect(() => {
    let current = true;
    rows.value = null;
    earlierConversations({ id, tenant_id, contact_id })
      .then((found) => {
        if (current) rows.value = found;
      })
      .catch((e) => {
        if (current) failure.value = problem(e);
      });
    return () => {
      current = false;
    };
  }, [id, tenant_id, contact_id]);
  return (
    <>
      <h3>{m('earlier')}</h3>
      {failure.value && (
        <p class="error" role="alert">
          {t('actionFailed', { message: failure.value })}
        </p>
      )}
      {rows.value?.length === 0 && <p class="muted">{m('noEarlier')}</p>}
      {rows.value && rows.value.length > 0 && (
        <ul class="earlier" data-admin="earlier">
          {rows.value.map((row) => (
            <li key={row.id}>
              <a href={href(tenant_id, 'inbox', row.id)} data-earlier={row.id}>
                <time dateTime={row.created_at}>{formatTime(row.created_at)}</time>
              </a>{' '}
              <StatusBadge status={row.status} />{' '}
              <span class="muted">{m('messagesCount', { n: row.message_count })}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
