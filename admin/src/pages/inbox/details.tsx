import { Fragment } from 'preact';
import { safeHref } from '../../../../widget/src/shared/markdown.ts';
import type { ConversationView } from '../../data/conversation.ts';
import { formatTime, t } from '../../i18n/index.ts';
import { EarlierConversations } from './earlier.tsx';
import { HandoffFacts } from './receipt.tsx';

const text = (value: unknown) =>
  value === null || value === undefined || value === ''
    ? t('none')
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);

/** Who the visitor is: the verified contact if any, what they told the pre-chat form, where they are. */
export function VisitorDetails({ view }: { view: ConversationView }) {
  const c = view.conversation.value;
  if (!c) return null;
  const contact = view.contact.value;
  const page = c.page_url ? safeHref(c.page_url) : null;
  const prechat = Object.entries(c.prechat ?? {}).flatMap(([key, value]) =>
    key === 'fields' && value && typeof value === 'object'
      ? Object.entries(value as Record<string, unknown>)
      : [[key, value] as [string, unknown]],
  );
  return (
    <aside class="details" aria-labelledby="details-title" data-admin="details">
      <h2 id="details-title">{t('details')}</h2>
      <dl>
        <dt>{t('identity')}</dt>
        <dd data-admin="verified">{c.identity_verified ? t('verified') : t('notVerified')}</dd>
        {contact && (
          <>
            <dt>{t('name')}</dt>
            <dd dir="auto">{text(contact.name)}</dd>
            <dt>{t('email')}</dt>
            <dd dir="auto">{text(contact.email)}</dd>
            <dt>{t('identifier')}</dt>
            <dd dir="auto">{contact.identifier}</dd>
            {Object.entries(contact.attributes ?? {}).map(([key, value]) => (
              <Fragment key={key}>
                <dt dir="auto">{key}</dt>
                <dd dir="auto">{text(value)}</dd>
              </Fragment>
            ))}
          </>
        )}
        <dt>{t('pageUrl')}</dt>
        <dd class="url">
          {page ? (
            <a href={page} target="_blank" rel="noopener noreferrer">
              {page}
            </a>
          ) : (
            text(c.page_url)
          )}
        </dd>
        <dt>{t('locale')}</dt>
        <dd>{text(c.locale)}</dd>
        <dt>{t('channel')}</dt>
        <dd>{c.channel === 'whatsapp' ? t('channelWhatsapp') : t('channelWeb')}</dd>
        <dt>{t('started')}</dt>
        <dd>
          <time dateTime={c.created_at}>{formatTime(c.created_at)}</time>
        </dd>
      </dl>
      <HandoffFacts view={view} />
      {prechat.length > 0 && (
        <>
          <h3>{t('prechat')}</h3>
          <dl data-admin="prechat">
            {prechat.map(([key, value]) => (
              <Fragment key={key}>
                <dt dir="auto">{key}</dt>
                <dd dir="auto">{text(value)}</dd>
              </Fragment>
            ))}
          </dl>
        </>
      )}
      <EarlierConversations conversation={c} />
    </aside>
  );
}
